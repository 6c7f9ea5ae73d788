/*
 * sandbox.c - confine a worker before it reads a client byte.
 *
 * Runs in the worker, already unprivileged, in two steps of main():
 *
 * sandbox_chroot, first thing after the configuration is read: with
 * `chroot = DIR`, chroot to DIR and chdir to its root (the master gave
 * this process CAP_SYS_CHROOT as an ambient capability for exactly
 * this); then, chroot or not, drop every capability and check that
 * none is left.  The time zone is loaded before: glibc reads
 * /etc/localtime on first use, which would be outside the chroot, and
 * an open, after sandbox_enter.
 *
 * sandbox_enter, once every descriptor it will ever need is open (the
 * listeners, counters, access log and control socket are inherited;
 * only backend channels are made later): no_new_privs, RLIMIT_NPROC 0
 * (no fork; the kernel exempts root, so it is said when it does not
 * hold), RLIMIT_CORE 0 (a dump would hold client bytes), and a seccomp
 * filter that allows exactly the system calls of the event loop: its
 * own I/O (sandbox_io_calls) and what libc does for any event loop of
 * SNItch's (common/confine.c, shared with snitch-stats, with the
 * sanitizer build's additions).
 * Anything else kills the worker (SCMP_ACT_KILL_PROCESS, SIGSYS); the
 * master logs that and restarts it.  The list was taken with strace -f
 * of workers across the test suite; arguments are checked where that
 * is cheap and closes a door: socket() only AF_UNIX (backend channels,
 * the syslog socket), mmap never executable, tgkill only to abort
 * itself.  openat fails with EACCES instead of killing: glibc opens
 * files lazily (a time zone file, locale data) and must fail softly,
 * but the worker can open no file either way.
 *
 * `sandbox = off` skips sandbox_enter, for debugging (strace, core
 * dumps), and says so loudly; capabilities are dropped all the same.
 * For the same debugging it makes the worker dumpable again (main made
 * it not, common/dumpable.c): a core is written, and its own user may
 * strace it, but may also copy its listeners with pidfd_getfd.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/sockios.h>
#include <seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "confine.h"
#include "dumpable.h"
#include "log.h"
#include "sandbox.h"

/*
 * sandbox_chroot - chroot to wc's directory if it names one, then drop
 * every capability
 */
void
sandbox_chroot(const struct wconf *wc)
{
	/* glibc reads the zone once, at first use: now, while it can. */
	tzset();
	if (wc->wc_chroot != NULL) {
		if (chroot(wc->wc_chroot) == -1)
			fatal("chroot %s", wc->wc_chroot);
		if (chdir("/") == -1)
			fatal("chdir / in the chroot %s", wc->wc_chroot);
	}
	confine_drop_caps();
}

#define SANDBOX_ALLOW(ctx, call, ...)					\
	seccomp_rule_add((ctx), SCMP_ACT_ALLOW, SCMP_SYS(call),		\
	    __VA_ARGS__)

static int	sandbox_watch_fd = -1;	/* inotify's (watch.c), or -1 */

/*
 * sandbox_io_calls - what the event loop does with its descriptors:
 * accept and peek clients, hand them off, send alerts, log
 */
static int
sandbox_io_calls(scmp_filter_ctx ctx)
{
	static const int calls[] = {
		SCMP_SYS(epoll_pwait), SCMP_SYS(epoll_wait),
		SCMP_SYS(epoll_ctl), SCMP_SYS(accept4), SCMP_SYS(recvfrom),
		SCMP_SYS(recvmsg), SCMP_SYS(recvmmsg), SCMP_SYS(sendto),
		SCMP_SYS(sendmsg),
		SCMP_SYS(shutdown), SCMP_SYS(close), SCMP_SYS(connect),
		SCMP_SYS(getsockname), SCMP_SYS(write), SCMP_SYS(writev),
		/* a log line to a pipe, never waiting (common/logsink.c) */
		SCMP_SYS(pwritev2),
		/* a tenant's socket: stat its path, check its listener */
		SCMP_SYS(newfstatat), SCMP_SYS(fstat), SCMP_SYS(statx),
	};
	int	rc;

	rc = confine_allow(ctx, calls, CONFINE_COUNT(calls));
	/* Backend channels (SOCK_SEQPACKET) and syslog's socket (SOCK_DGRAM,
	 * made again by logsink.c if syslogd restarted); no network socket. */
	if (rc == 0)
		rc = SANDBOX_ALLOW(ctx, socket, 2,
		    SCMP_A0(SCMP_CMP_EQ, AF_UNIX),
		    SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, SOCK_SEQPACKET));
	if (rc == 0)
		rc = SANDBOX_ALLOW(ctx, socket, 2,
		    SCMP_A0(SCMP_CMP_EQ, AF_UNIX),
		    SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, SOCK_DGRAM));
	/* SO_PEERCRED of a backend, SO_ERROR: socket-level options only */
	if (rc == 0)
		rc = SANDBOX_ALLOW(ctx, getsockopt, 1,
		    SCMP_A1(SCMP_CMP_EQ, SOL_SOCKET));
	/* A channel's send buffer: its bound on what a backend holds */
	if (rc == 0)
		rc = SANDBOX_ALLOW(ctx, setsockopt, 2,
		    SCMP_A1(SCMP_CMP_EQ, SOL_SOCKET),
		    SCMP_A2(SCMP_CMP_EQ, SO_SNDBUF));
	/* A client's low-water mark: woken once its hello may be whole */
	if (rc == 0)
		rc = SANDBOX_ALLOW(ctx, setsockopt, 2,
		    SCMP_A1(SCMP_CMP_EQ, SOL_SOCKET),
		    SCMP_A2(SCMP_CMP_EQ, SO_RCVLOWAT));
	/* SIOCOUTQ: what a backend has not received yet; SIOCINQ: what a
	 * client sent, counted without a peek; no other ioctl */
	if (rc == 0)
		rc = SANDBOX_ALLOW(ctx, ioctl, 1,
		    SCMP_A1(SCMP_CMP_EQ, SIOCOUTQ));
	if (rc == 0)
		rc = SANDBOX_ALLOW(ctx, ioctl, 1,
		    SCMP_A1(SCMP_CMP_EQ, SIOCINQ));
	/* guard.c: its interval timer, and a listener's O_NONBLOCK read
	 * and set again (F_GETFL, F_SETFL); no other fcntl */
	if (rc == 0)
		rc = SANDBOX_ALLOW(ctx, setitimer, 1,
		    SCMP_A0(SCMP_CMP_EQ, ITIMER_REAL));
	if (rc == 0)
		rc = SANDBOX_ALLOW(ctx, fcntl, 1,
		    SCMP_A1(SCMP_CMP_EQ, F_GETFL));
	if (rc == 0)
		rc = SANDBOX_ALLOW(ctx, fcntl, 1,
		    SCMP_A1(SCMP_CMP_EQ, F_SETFL));
	/* inotify's events, and no other descriptor read(2) */
	if (rc == 0 && sandbox_watch_fd != -1)
		rc = SANDBOX_ALLOW(ctx, read, 1,
		    SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)sandbox_watch_fd));
	return rc;
}

/*
 * sandbox_enter - no new privileges, no fork, no core, the filter;
 * watch_fd: the one descriptor read(2) may read, or -1
 */
void
sandbox_enter(const struct wconf *wc, int watch_fd)
{
	if (!wc->wc_sandbox) {
		if (dumpable_set(1) == -1)
			fatal("PR_SET_DUMPABLE");
		log_warnx("SANDBOX OFF: this worker runs without its system "
		    "call filter, process and core limits, and dumpable "
		    "(sandbox = off, for debugging only); a worker taken over "
		    "by a client could do anything its user can, and so can "
		    "any process of its user to it");
		return;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("%s: PR_SET_NO_NEW_PRIVS", __func__);
	confine_limit(RLIMIT_CORE, "RLIMIT_CORE");
#if !defined(__SANITIZE_ADDRESS__)
	confine_limit(RLIMIT_NPROC, "RLIMIT_NPROC");
	/* The kernel does not count root's processes against it. */
	if (getuid() == 0 || geteuid() == 0)
		log_warnx("running as root: RLIMIT_NPROC 0 does not stop a "
		    "fork here; the system call filter still does");
#endif
	sandbox_watch_fd = watch_fd;
	confine_filter(sandbox_io_calls);
	log_debug("%s: system call filter loaded", __func__);
}

#ifdef SNITCH_SANDBOX_PROBE
/*
 * sandbox_probe - a debug build's test hook: for the name
 * SANDBOX_PROBE_NAME, open a network socket, which the filter forbids;
 * with the sandbox on, the worker is killed here
 */
void
sandbox_probe(const char *name, ssize_t len)
{
	int	fd;

	if (len != (ssize_t)strlen(SANDBOX_PROBE_NAME) ||
	    memcmp(name, SANDBOX_PROBE_NAME, (size_t)len) != 0)
		return;
	log_warnx("%s: opening a TCP socket, which the sandbox forbids",
	    __func__);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) != -1)
		close(fd);
	log_warnx("%s: still alive: no sandbox stopped it", __func__);
}
#endif
