/*
 * main.c - snitch-stats, the process that answers the stats socket.
 *
 * Started only by the master (fork + fexecve, see master/stats.c),
 * already unprivileged, with its descriptors at fixed numbers (see
 * common/snapshot.h):
 *   3  SNAPSHOT_LISTEN_FD  the stats socket, listening (bound by the
 *                          master as root, before its privilege drop)
 *   4  SNAPSHOT_CTL_FD     the master's snapshots; EOF: it is gone
 * It confines itself (sandbox.c), then waits for the first snapshot
 * before it takes a client, and from then on answers one client at a
 * time (serve.c), taking every snapshot that came in between first.
 * It exits when the master is gone.  Its process title is
 * "snitch: stats".
 *
 * Why a process of its own: the master forks and reaps the workers and
 * (with chroot) keeps CAP_SYS_CHROOT; it never reads a byte a client
 * sends.  Whatever parses stats requests runs here, with nothing to
 * lose: no capability, no file, read-only counters, and a crash costs
 * one stats answer.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "dumpable.h"
#include "figures.h"
#include "log.h"
#include "proctitle.h"
#include "sandbox.h"
#include "serve.h"
#include "snapshot.h"

/* main_usage - this program is not for people */
static void __attribute__((noreturn))
main_usage(void)
{
	fprintf(stderr, "snitch-stats is started by snitch, not by hand\n");
	exit(1);
}

/*
 * main_snapshots - take every snapshot the master sent so far; 0, or
 * -1 when the master is gone
 */
static int
main_snapshots(int *have)
{
	int	rc;

	while ((rc = figures_update(SNAPSHOT_CTL_FD)) == 1)
		*have = 1;
	if (rc == 0)
		return -1;
	if (errno != EAGAIN && errno != EINTR)
		fatal("%s: control socket", __func__);
	return 0;
}

/* main_loop - snapshots first, then one client; until the master goes */
static void
main_loop(void)
{
	struct pollfd	pfd[2];
	int		have = 0;

	for (;;) {
		pfd[0].fd = SNAPSHOT_CTL_FD;
		pfd[0].events = POLLIN;
		/* No figures before the first snapshot: clients wait. */
		pfd[1].fd = have ? SNAPSHOT_LISTEN_FD : -1;
		pfd[1].events = POLLIN;
		pfd[0].revents = pfd[1].revents = 0;
		if (poll(pfd, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		if (pfd[0].revents != 0 && main_snapshots(&have) == -1)
			return;
		if (have && (pfd[1].revents & POLLIN))
			serve_client(SNAPSHOT_LISTEN_FD);
	}
}

int
main(int argc, char **argv)
{
	int	ch, use_syslog = 0, verbose = 0;

	proctitle_init(argc, argv);
	while ((ch = getopt(argc, argv, "sv")) != -1) {
		switch (ch) {
		case 's': use_syslog = 1; break;
		case 'v': verbose++; break;
		default: main_usage();
		}
	}
	if (optind != argc)
		main_usage();
	log_init("snitch-stats", use_syslog, verbose);
	/* exec made it dumpable again, with the stats socket open */
	if (dumpable_set(0) == -1)
		fatal("PR_SET_DUMPABLE");
	proctitle_set("snitch: stats");
	if (fcntl(SNAPSHOT_LISTEN_FD, F_GETFD) == -1 ||
	    fcntl(SNAPSHOT_CTL_FD, F_GETFD) == -1)
		main_usage();
	sandbox_enter();
	log_debug("stats: ready");
	main_loop();
	log_debug("stats: the master is gone; exiting");
	figures_clear();
	return 0;
}
