/*
 * stats.c - the counters summed over workers and generations, served on
 * the stats socket, and `snitch -s`, which asks for them.
 *
 * Runs in the master, unprivileged, reading the workers' counter slots;
 * it never touches the workers' hot path.  Counts of generations whose
 * workers are all gone are folded into totals here, so figures never go
 * back across reloads and restarts.  A connection a dead worker held is
 * counted as lost.  The socket is bound as root, before the privilege
 * drop, and is readable by root and `user` only.
 */
#include <errno.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <bsd/string.h>

#include "log.h"
#include "spawn.h"
#include "stats.h"

#define STATS_IO_MS	200	/* a stats client is served in this or dropped */
#define STATS_REQ_MAX	512

struct stats_backend {
	char			sb_name[WCONF_NAME_MAX + 1];
	struct counters_backend	sb_counts;
};

struct stats_sum {
	struct counters_worker	 ss_w;		/* its backends: ss_backends */
	uint64_t		 ss_lost;	/* held by a worker that died */
	struct stats_backend	*ss_backends;
	size_t			 ss_nbackends;
};

static struct stats_sum	stats_gone;	/* of generations no longer running */
static uint64_t		stats_restarts;

/* stats_backend - the totals of the backend called name in sum */
static struct counters_backend *
stats_backend(struct stats_sum *sum, const char *name)
{
	struct stats_backend	*sb;
	size_t			 i;

	for (i = 0; i < sum->ss_nbackends; i++)
		if (strcmp(sum->ss_backends[i].sb_name, name) == 0)
			return &sum->ss_backends[i].sb_counts;
	sb = reallocarray(sum->ss_backends, sum->ss_nbackends + 1, sizeof(*sb));
	if (sb == NULL)
		return NULL;
	sum->ss_backends = sb;
	sb += sum->ss_nbackends++;
	memset(sb, 0, sizeof(*sb));
	strcpy(sb->sb_name, name);
	return &sb->sb_counts;
}

/* stats_add - add one worker slot to sum; a dead one's pending is lost */
static void
stats_add(struct stats_sum *sum, const struct counters_worker *cw,
    size_t nbackends, const struct wconf_backend *backends, int dead)
{
	struct counters_backend	*cb;
	size_t			 i;
	uint64_t		 pending = COUNTERS_GET(cw->cw_pending);

	sum->ss_w.cw_accepted += COUNTERS_GET(cw->cw_accepted);
	sum->ss_w.cw_handoff += COUNTERS_GET(cw->cw_handoff);
	for (i = 0; i < COUNTERS_ALERTS; i++)
		sum->ss_w.cw_alert[i] += COUNTERS_GET(cw->cw_alert[i]);
	sum->ss_w.cw_not_tls += COUNTERS_GET(cw->cw_not_tls);
	sum->ss_w.cw_timeout += COUNTERS_GET(cw->cw_timeout);
	sum->ss_w.cw_client_gone += COUNTERS_GET(cw->cw_client_gone);
	sum->ss_w.cw_error += COUNTERS_GET(cw->cw_error);
	sum->ss_lost += COUNTERS_GET(cw->cw_lost) + (dead ? pending : 0);
	sum->ss_w.cw_pending += dead ? 0 : pending;
	for (i = 0; i < nbackends; i++) {
		if ((cb = stats_backend(sum, backends[i].wb_name)) == NULL)
			continue;
		cb->cb_handoff += COUNTERS_GET(cw->cw_backends[i].cb_handoff);
		cb->cb_fallback += COUNTERS_GET(cw->cw_backends[i].cb_fallback);
		cb->cb_down += COUNTERS_GET(cw->cw_backends[i].cb_down);
		cb->cb_busy += COUNTERS_GET(cw->cw_backends[i].cb_busy);
		cb->cb_errors += COUNTERS_GET(cw->cw_backends[i].cb_errors);
	}
}

/* stats_add_live - spawn_counters callback */
static void
stats_add_live(void *arg, const struct counters_worker *cw, size_t nbackends,
    const struct wconf_backend *backends)
{
	stats_add(arg, cw, nbackends, backends, 0);
}

/* stats_retired - fold the slot of a generation that is gone */
void
stats_retired(const struct counters_worker *cw, size_t nbackends,
    const struct wconf_backend *backends)
{
	stats_add(&stats_gone, cw, nbackends, backends, 1);
}

/* stats_restarted - a worker died and is being restarted */
void
stats_restarted(void)
{
	stats_restarts++;
}

/* stats_summary - every figure, one "key value" line each */
static char *
stats_summary(size_t *len)
{
	struct stats_sum	 sum = stats_gone;
	char			*text = NULL;
	FILE			*f;
	size_t			 i;

	/* Copy the backends: adding the live slots must not touch totals. */
	sum.ss_backends = NULL;
	sum.ss_nbackends = 0;
	for (i = 0; i < stats_gone.ss_nbackends; i++) {
		struct counters_backend *cb = stats_backend(&sum,
		    stats_gone.ss_backends[i].sb_name);
		if (cb != NULL)
			*cb = stats_gone.ss_backends[i].sb_counts;
	}
	spawn_counters(stats_add_live, &sum);
	if ((f = open_memstream(&text, len)) == NULL) {
		free(sum.ss_backends);
		return NULL;
	}
	fprintf(f, "generation %u\nworker_restarts %llu\n",
	    spawn_current_gen(), (unsigned long long)stats_restarts);
	fprintf(f, "accepted %llu\nhandoff %llu\n",
	    (unsigned long long)sum.ss_w.cw_accepted,
	    (unsigned long long)sum.ss_w.cw_handoff);
	for (i = 0; i < COUNTERS_ALERTS; i++)
		fprintf(f, "alert_%u %llu\n", counters_alert_code((int)i),
		    (unsigned long long)sum.ss_w.cw_alert[i]);
	fprintf(f, "not_tls %llu\ntimeout %llu\nclient_gone %llu\nerror %llu\n"
	    "lost %llu\npending %llu\n",
	    (unsigned long long)sum.ss_w.cw_not_tls,
	    (unsigned long long)sum.ss_w.cw_timeout,
	    (unsigned long long)sum.ss_w.cw_client_gone,
	    (unsigned long long)sum.ss_w.cw_error,
	    (unsigned long long)sum.ss_lost,
	    (unsigned long long)sum.ss_w.cw_pending);
	for (i = 0; i < sum.ss_nbackends; i++) {
		const struct counters_backend *cb = &sum.ss_backends[i].sb_counts;
		fprintf(f, "backend %s handoff %llu fallback %llu down %llu "
		    "busy %llu errors %llu\n", sum.ss_backends[i].sb_name,
		    (unsigned long long)cb->cb_handoff,
		    (unsigned long long)cb->cb_fallback,
		    (unsigned long long)cb->cb_down,
		    (unsigned long long)cb->cb_busy,
		    (unsigned long long)cb->cb_errors);
	}
	fclose(f);
	free(sum.ss_backends);
	return text;
}

/* stats_listen - bind the stats socket (as root); fatal on failure */
int
stats_listen(const char *path, const char *user)
{
	struct sockaddr_un	 sun;
	struct stat		 st;
	struct passwd		*pw;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		fatalx("stats %s: path too long", path);
	strcpy(sun.sun_path, path);
	/* Replace a stale socket, never anything else. */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		(void)unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    chmod(path, 0660) == -1 || listen(fd, 16) == -1)
		fatal("stats %s", path);
	if (geteuid() == 0 && user != NULL && (pw = getpwnam(user)) != NULL &&
	    chown(path, pw->pw_uid, pw->pw_gid) == -1)
		fatal("stats %s: chown", path);
	return fd;
}

/* stats_wait - wait a bounded time for fd to be ready */
static int
stats_wait(int fd, short events)
{
	struct pollfd	pfd = { .fd = fd, .events = events };

	return poll(&pfd, 1, STATS_IO_MS) == 1 ? 0 : -1;
}

/* stats_serve - answer one client: its request line, then the figures */
void
stats_serve(int listen_fd)
{
	char	 req[STATS_REQ_MAX], *text;
	size_t	 len = 0, off = 0;
	ssize_t	 n;
	int	 fd;

	if ((fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK |
	    SOCK_CLOEXEC)) == -1)
		return;
	if (stats_wait(fd, POLLIN) == -1 ||
	    (n = recv(fd, req, sizeof(req) - 1, 0)) <= 0 ||
	    (text = stats_summary(&len)) == NULL) {
		close(fd);
		return;
	}
	req[n] = '\0';
	if (strncmp(req, "GET ", 4) == 0)
		dprintf(fd, "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n"
		    "Content-Length: %zu\r\n\r\n", len);
	while (off < len && stats_wait(fd, POLLOUT) == 0 &&
	    (n = send(fd, text + off, len - off, MSG_NOSIGNAL)) > 0)
		off += (size_t)n;
	free(text);
	close(fd);
}

/* stats_query - snitch -s: ask a running snitch, print the answer */
int
stats_query(const char *path)
{
	struct sockaddr_un	sun;
	char			buf[4096];
	ssize_t			n;
	int			fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strlcpy(sun.sun_path, path, sizeof(sun.sun_path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		fatal("socket");
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		fprintf(stderr, "snitch: stats %s: %s (is snitch running?)\n",
		    path, strerror(errno));
		close(fd);
		return 1;
	}
	if (write(fd, "summary\n", 8) == 8)
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			fwrite(buf, 1, (size_t)n, stdout);
	else
		n = -1;
	if (n == -1)
		fprintf(stderr, "snitch: stats %s: %s\n", path, strerror(errno));
	close(fd);
	return n == 0 && fflush(stdout) == 0 ? 0 : 1;
}
