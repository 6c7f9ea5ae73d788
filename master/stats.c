/*
 * stats.c - the counters summed over workers and generations, served on
 * the stats socket as Prometheus metrics (HTTP GET /metrics) and as a
 * table for `snitch -s`, which asks with the line "summary".
 *
 * Runs in the master, unprivileged, reading the workers' counter slots;
 * it never touches the workers' hot path.  Counts of generations whose
 * workers are all gone are folded into totals by spawn.c (tally.c), so
 * figures never go back across reloads and restarts; the live slots
 * are added to a copy of them here.  A connection a dead worker held is
 * counted as lost.  The socket (a Unix socket readable by root and
 * `user` only, or a TCP address) is bound as root, before the privilege
 * drop.
 *
 * The master serves one stats client at a time, in its own loop: each
 * client gets STATS_IO_MS to send its request and STATS_IO_MS to take
 * the answer, whatever it does, and a request of more than STATS_REQ_MAX
 * bytes is refused, so no client holds the master longer than that.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <bsd/string.h>

#include "clock.h"
#include "log.h"
#include "spawn.h"
#include "stats.h"
#include "tally.h"

#define STATS_IO_MS	200	/* to send the request, and to take the answer */
#define STATS_REQ_MAX	2048	/* a request line and headers */
#define STATS_QUERY_S	5	/* snitch -s gives up after this */
#define STATS_SUMMARY	"summary\n"	/* what snitch -s asks */

static int		stats_reload_ok = 1;	/* the last load of the file */
static time_t		stats_reload_time;	/* when it was; 0: not yet */

/*
 * stats_kind - "backend" or "tenant", and the name without its
 * WCONF_TENANT_PREFIX (a backend name has no ':', so no clash)
 */
static const char *
stats_kind(const char *counted, const char **name)
{
	size_t	plen = strlen(WCONF_TENANT_PREFIX);

	if (strncmp(counted, WCONF_TENANT_PREFIX, plen) == 0) {
		*name = counted + plen;
		return "tenant";
	}
	*name = counted;
	return "backend";
}

/* stats_add_live - spawn_counters callback: a running generation's slot */
static void
stats_add_live(void *arg, size_t index, const struct counters_worker *cw,
    size_t nbackends, const struct wconf_backend *backends)
{
	(void)tally_add_live(arg, index, cw, nbackends, backends);
}

/* stats_reloaded - the configuration was loaded (at start, on SIGHUP) */
void
stats_reloaded(int ok)
{
	stats_reload_ok = ok;
	stats_reload_time = time(NULL);
}

/* stats_collect - the totals now: gone generations plus the live slots */
static int
stats_collect(struct tally *sum)
{
	if (tally_copy(sum, spawn_gone()) == -1)
		return -1;
	spawn_counters(stats_add_live, sum);
	return 0;
}

/* stats_histogram_line - one histogram for a person: cumulative counts */
static void
stats_histogram_line(FILE *f, const char *name, const uint64_t *buckets,
    size_t nbuckets, const unsigned *bounds, double scale, double sum)
{
	uint64_t	total = 0;
	size_t		i;

	for (i = 0; i < nbuckets; i++)
		total += buckets[i];
	fprintf(f, "%s count %llu sum %g", name, (unsigned long long)total,
	    sum);
	total = 0;
	for (i = 0; i < nbuckets; i++) {
		total += buckets[i];
		if (i + 1 < nbuckets)
			fprintf(f, " <=%g %llu", bounds[i] * scale,
			    (unsigned long long)total);
		else
			fprintf(f, " +Inf %llu", (unsigned long long)total);
	}
	fputc('\n', f);
}

/* stats_summary - every figure for snitch -s, one "key value..." line each */
static void
stats_summary(FILE *f, const struct tally *sum)
{
	char		when[32] = "never";
	struct tm	tm;
	size_t		i;

	fprintf(f, "generation %u\nworker_restarts %llu\n",
	    spawn_current_gen(), (unsigned long long)spawn_restarts());
	fprintf(f, "accepted %llu\nhandoff %llu\n",
	    (unsigned long long)sum->ty_w.cw_accepted,
	    (unsigned long long)sum->ty_w.cw_handoff);
	for (i = 0; i < COUNTERS_ALERTS; i++)
		fprintf(f, "alert_%u %llu\n", counters_alert_code((int)i),
		    (unsigned long long)sum->ty_w.cw_alert[i]);
	fprintf(f, "not_tls %llu\ntimeout %llu\nclient_gone %llu\nerror %llu\n"
	    "lost %llu\npending %llu\n",
	    (unsigned long long)sum->ty_w.cw_not_tls,
	    (unsigned long long)sum->ty_w.cw_timeout,
	    (unsigned long long)sum->ty_w.cw_client_gone,
	    (unsigned long long)sum->ty_w.cw_error,
	    (unsigned long long)sum->ty_lost,
	    (unsigned long long)sum->ty_w.cw_pending);
	for (i = 0; i < sum->ty_nbackends; i++) {
		const struct counters_backend *cb = &sum->ty_backends[i].tb_counts;
		const char *kind, *bname;

		kind = stats_kind(sum->ty_backends[i].tb_name, &bname);
		fprintf(f, "%s %s handoff %llu fallback %llu down %llu "
		    "busy %llu errors %llu\n", kind, bname,
		    (unsigned long long)cb->cb_handoff,
		    (unsigned long long)cb->cb_fallback,
		    (unsigned long long)cb->cb_down,
		    (unsigned long long)cb->cb_busy,
		    (unsigned long long)cb->cb_errors);
	}
	for (i = 0; i < sum->ty_nworkers; i++)
		fprintf(f, "worker %zu pending %llu\n", i,
		    (unsigned long long)sum->ty_pending[i]);
	fprintf(f, "handoff_failures");
	for (i = 0; i < COUNTERS_FAILS; i++)
		fprintf(f, " %s %llu", counters_fail_name((int)i),
		    (unsigned long long)sum->ty_w.cw_fail[i]);
	fputc('\n', f);
	if (stats_reload_time != 0 &&
	    gmtime_r(&stats_reload_time, &tm) != NULL)
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(f, "last_reload %s %s\n", stats_reload_ok ? "ok" : "failed",
	    when);
	stats_histogram_line(f, "peek_seconds", sum->ty_w.cw_peek_ms,
	    COUNTERS_PEEK_BUCKETS, counters_peek_bounds(), 0.001,
	    sum->ty_w.cw_peek_ms_sum / 1000.0);
	stats_histogram_line(f, "hello_bytes", sum->ty_w.cw_hello_bytes,
	    COUNTERS_HELLO_BUCKETS, counters_hello_bounds(), 1,
	    (double)sum->ty_w.cw_hello_bytes_sum);
}

/* stats_family - the HELP and TYPE lines of a metric */
static void
stats_family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* stats_prom_histogram - a histogram: cumulative buckets, sum, count */
static void
stats_prom_histogram(FILE *f, const char *name, const char *help,
    const uint64_t *buckets, size_t nbuckets, const unsigned *bounds,
    double scale, double sum)
{
	uint64_t	total = 0;
	size_t		i;

	stats_family(f, name, "histogram", help);
	for (i = 0; i < nbuckets; i++) {
		total += buckets[i];
		if (i + 1 < nbuckets)
			fprintf(f, "%s_bucket{le=\"%g\"} %llu\n", name,
			    bounds[i] * scale, (unsigned long long)total);
		else
			fprintf(f, "%s_bucket{le=\"+Inf\"} %llu\n", name,
			    (unsigned long long)total);
	}
	fprintf(f, "%s_sum %.3f\n%s_count %llu\n", name, sum, name,
	    (unsigned long long)total);
}

/* stats_prom_backends - one per-backend (and per-tenant) counter family */
static void
stats_prom_backends(FILE *f, const struct tally *sum, const char *name,
    const char *help, size_t offset)
{
	const char	*bname, *kind;
	size_t		 i;

	stats_family(f, name, "counter", help);
	for (i = 0; i < sum->ty_nbackends; i++) {
		kind = stats_kind(sum->ty_backends[i].tb_name, &bname);
		fprintf(f, "%s{%s=\"%s\"} %llu\n", name, kind, bname,
		    (unsigned long long)*(const uint64_t *)((const char *)
		    &sum->ty_backends[i].tb_counts + offset));
	}
}

/*
 * stats_metrics - the Prometheus text exposition format, version 0.0.4.
 * Backend names are letters, digits and "_.-": no label escaping needed.
 */
static void
stats_metrics(FILE *f, const struct tally *sum)
{
	const struct counters_worker	*w = &sum->ty_w;
	const char			*name = "snitch_connections_total";
	size_t				 i;

	stats_family(f, "snitch_connections_accepted_total", "counter",
	    "Connections the workers accepted.");
	fprintf(f, "snitch_connections_accepted_total %llu\n",
	    (unsigned long long)w->cw_accepted);
	stats_family(f, name, "counter", "Accepted connections by how they "
	    "ended; lost: held by a worker that was killed.");
	fprintf(f, "%s{outcome=\"handoff\"} %llu\n", name,
	    (unsigned long long)w->cw_handoff);
	for (i = 0; i < COUNTERS_ALERTS; i++)
		fprintf(f, "%s{outcome=\"alert\",alert=\"%u\"} %llu\n", name,
		    counters_alert_code((int)i),
		    (unsigned long long)w->cw_alert[i]);
	fprintf(f, "%s{outcome=\"not_tls\"} %llu\n"
	    "%s{outcome=\"timeout\"} %llu\n"
	    "%s{outcome=\"client_gone\"} %llu\n"
	    "%s{outcome=\"error\"} %llu\n"
	    "%s{outcome=\"lost\"} %llu\n",
	    name, (unsigned long long)w->cw_not_tls,
	    name, (unsigned long long)w->cw_timeout,
	    name, (unsigned long long)w->cw_client_gone,
	    name, (unsigned long long)w->cw_error,
	    name, (unsigned long long)sum->ty_lost);
	stats_family(f, "snitch_connections_pending", "gauge", "Connections "
	    "a worker holds now: peeking, or waiting for a busy backend.");
	for (i = 0; i < sum->ty_nworkers; i++)
		fprintf(f, "snitch_connections_pending{worker=\"%zu\"} %llu\n",
		    i, (unsigned long long)sum->ty_pending[i]);
	stats_prom_backends(f, sum, "snitch_backend_handoffs_total",
	    "Connections handed to the backend.",
	    offsetof(struct counters_backend, cb_handoff));
	stats_prom_backends(f, sum, "snitch_backend_fallbacks_total",
	    "Of those, handed to it as another backend's fallback.",
	    offsetof(struct counters_backend, cb_fallback));
	stats_prom_backends(f, sum, "snitch_backend_down_total",
	    "Connections refused (alert 80): the backend was down, no "
	    "fallback took them.", offsetof(struct counters_backend, cb_down));
	stats_prom_backends(f, sum, "snitch_backend_busy_total",
	    "Connections refused (alert 80): the backend was busy for "
	    "handoff_timeout.", offsetof(struct counters_backend, cb_busy));
	stats_prom_backends(f, sum, "snitch_backend_errors_total",
	    "Failed connects to the backend and channels lost.",
	    offsetof(struct counters_backend, cb_errors));
	stats_family(f, "snitch_handoff_failures_total", "counter",
	    "Failed handoff attempts by cause (a retried connection counts "
	    "each attempt).");
	for (i = 0; i < COUNTERS_FAILS; i++)
		fprintf(f, "snitch_handoff_failures_total{cause=\"%s\"} %llu\n",
		    counters_fail_name((int)i),
		    (unsigned long long)w->cw_fail[i]);
	stats_family(f, "snitch_worker_restarts_total", "counter",
	    "Workers that died and were restarted.");
	fprintf(f, "snitch_worker_restarts_total %llu\n",
	    (unsigned long long)spawn_restarts());
	stats_family(f, "snitch_config_generation", "gauge",
	    "The configuration generation being served (1 at start, one "
	    "more per successful reload).");
	fprintf(f, "snitch_config_generation %u\n", spawn_current_gen());
	stats_family(f, "snitch_config_last_reload_successful", "gauge",
	    "1 when the last load of the configuration (start or SIGHUP) "
	    "succeeded, 0 when it failed.");
	fprintf(f, "snitch_config_last_reload_successful %d\n",
	    stats_reload_ok);
	stats_family(f, "snitch_config_last_reload_timestamp_seconds", "gauge",
	    "When the configuration was last loaded or failed to load, in "
	    "seconds since the epoch.");
	fprintf(f, "snitch_config_last_reload_timestamp_seconds %lld\n",
	    (long long)stats_reload_time);
	stats_prom_histogram(f, "snitch_peek_duration_seconds", "Time from "
	    "accept to outcome, on the workers' coarse clock (ms steps).",
	    w->cw_peek_ms, COUNTERS_PEEK_BUCKETS, counters_peek_bounds(),
	    0.001, w->cw_peek_ms_sum / 1000.0);
	stats_prom_histogram(f, "snitch_client_hello_size_bytes", "Bytes of "
	    "each complete ClientHello that was routed, record headers "
	    "included.", w->cw_hello_bytes, COUNTERS_HELLO_BUCKETS,
	    counters_hello_bounds(), 1, (double)w->cw_hello_bytes_sum);
}

/* stats_text - the figures, rendered by fn; NULL when out of memory */
static char *
stats_text(void (*fn)(FILE *, const struct tally *), size_t *len)
{
	struct tally	 sum;
	char			*text = NULL;
	FILE			*f;

	if (stats_collect(&sum) == -1)
		return NULL;
	if ((f = open_memstream(&text, len)) != NULL) {
		fn(f, &sum);
		if (fclose(f) != 0) {
			free(text);
			text = NULL;
		}
	}
	tally_clear(&sum);
	return text;
}

/* stats_listen_unix - the stats Unix socket, mode 0660, owned by user */
static int
stats_listen_unix(const char *path, const char *user)
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

/* stats_listen_inet - the stats TCP socket */
static int
stats_listen_inet(const struct conf_listen *cl)
{
	int	fd, on = 1;

	fd = socket(cl->cl_addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1 ||
	    (cl->cl_addr.ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &on, sizeof(on)) == -1) ||
	    bind(fd, (const struct sockaddr *)&cl->cl_addr, cl->cl_len) == -1 ||
	    listen(fd, 16) == -1)
		fatal("stats %s", cl->cl_text);
	return fd;
}

/* stats_listen - bind the stats socket (as root); fatal on failure */
int
stats_listen(const struct conf *cf)
{
	if (cf->cf_stats_inet)
		return stats_listen_inet(&cf->cf_stats_addr);
	return stats_listen_unix(cf->cf_stats, cf->cf_user);
}

/* stats_wait - wait for fd to be ready, until deadline (clock_ms) */
static int
stats_wait(int fd, short events, uint64_t deadline)
{
	struct pollfd	pfd = { .fd = fd, .events = events };
	uint64_t	now = clock_ms();

	if (now >= deadline)
		return -1;
	return poll(&pfd, 1, (int)(deadline - now)) == 1 ? 0 : -1;
}

/*
 * stats_read - the request: "summary\n", or an HTTP request up to the
 * blank line after its headers.  Its length; 0 when the client closed or
 * was too slow, -1 when it is longer than size - 1.
 */
static ssize_t
stats_read(int fd, char *req, size_t size)
{
	uint64_t	deadline = clock_ms() + STATS_IO_MS;
	size_t		len = 0;
	ssize_t		n;

	for (;;) {
		req[len] = '\0';
		if (strcmp(req, STATS_SUMMARY) == 0 ||
		    strstr(req, "\r\n\r\n") != NULL ||
		    strstr(req, "\n\n") != NULL)
			return (ssize_t)len;
		if (len == size - 1)
			return -1;
		if (stats_wait(fd, POLLIN, deadline) == -1)
			return 0;
		n = recv(fd, req + len, size - 1 - len, MSG_DONTWAIT);
		if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR))
			return 0;
		if (n > 0)
			len += (size_t)n;
	}
}

/*
 * stats_route - what to answer a request: its HTTP status (200 with
 * *fn set, or an error), or 0 for snitch -s.
 */
static int
stats_route(char *req, void (**fn)(FILE *, const struct tally *))
{
	char	*method, *target, *version, *save = NULL;

	if (strcmp(req, STATS_SUMMARY) == 0) {
		*fn = stats_summary;
		return 0;
	}
	req[strcspn(req, "\r\n")] = '\0';
	method = strtok_r(req, " ", &save);
	target = strtok_r(NULL, " ", &save);
	version = strtok_r(NULL, " ", &save);
	if (method == NULL || target == NULL || version == NULL ||
	    strtok_r(NULL, " ", &save) != NULL ||
	    strncmp(version, "HTTP/1.", 7) != 0)
		return 400;
	target[strcspn(target, "?")] = '\0';
	if (strcmp(method, "GET") != 0 || strcmp(target, "/metrics") != 0)
		return 404;
	*fn = stats_metrics;
	return 200;
}

/* stats_reason - the reason phrase of the statuses answered here */
static const char *
stats_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 404: return "Not Found";
	case 431: return "Request Header Fields Too Large";
	default: return "Bad Request";
	}
}

/* stats_write - send all of text, within STATS_IO_MS in all */
static void
stats_write(int fd, const char *text, size_t len)
{
	uint64_t	deadline = clock_ms() + STATS_IO_MS;
	size_t		off = 0;
	ssize_t		n;

	while (off < len) {
		n = send(fd, text + off, len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0)
			off += (size_t)n;
		else if ((n == -1 && errno != EAGAIN && errno != EINTR) ||
		    stats_wait(fd, POLLOUT, deadline) == -1)
			return;
	}
}

/*
 * stats_drain - discard what a refused client still sends, until its FIN
 * or STATS_IO_MS: closing with unread bytes would send a RST, which can
 * destroy the answer before the client read it.
 */
static void
stats_drain(int fd)
{
	uint64_t	deadline = clock_ms() + STATS_IO_MS;
	char		discard[512];
	ssize_t		n;

	while (stats_wait(fd, POLLIN, deadline) == 0 &&
	    ((n = recv(fd, discard, sizeof(discard), MSG_DONTWAIT)) > 0 ||
	    (n == -1 && (errno == EAGAIN || errno == EINTR))))
		;
}

/* stats_serve - answer one client: its request, then the figures */
void
stats_serve(int listen_fd)
{
	void		(*fn)(FILE *, const struct tally *) = NULL;
	char		 req[STATS_REQ_MAX + 1], head[256], *text = NULL;
	const char	*type = "text/plain; charset=utf-8";
	size_t		 len = 0;
	ssize_t		 n;
	int		 fd, status, hlen;

	if ((fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK |
	    SOCK_CLOEXEC)) == -1)
		return;
	if ((n = stats_read(fd, req, sizeof(req))) == 0)
		goto done;
	status = n == -1 ? 431 : stats_route(req, &fn);
	if (fn != NULL && (text = stats_text(fn, &len)) == NULL)
		goto done;
	if (status == 0) {
		stats_write(fd, text, len);
		goto done;
	}
	if (status == 200)
		type = "text/plain; version=0.0.4; charset=utf-8";
	else {
		text = strdup(stats_reason(status));
		len = text != NULL ? strlen(text) : 0;
	}
	hlen = snprintf(head, sizeof(head), "HTTP/1.1 %d %s\r\nContent-Type: "
	    "%s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n", status,
	    stats_reason(status), type, len);
	stats_write(fd, head, (size_t)hlen);
	if (text != NULL)
		stats_write(fd, text, len);
	if (status == 431) {
		(void)shutdown(fd, SHUT_WR);
		stats_drain(fd);
	}
done:
	free(text);
	(void)shutdown(fd, SHUT_WR);
	close(fd);
}

/* stats_connect - snitch -s: a connected socket to the stats address */
static int
stats_connect(const struct conf *cf)
{
	struct sockaddr_un	 sun;
	const struct sockaddr	*sa = (const struct sockaddr *)&sun;
	socklen_t		 salen = sizeof(sun);
	struct timeval		 tv = { .tv_sec = STATS_QUERY_S };
	int			 fd;

	if (cf->cf_stats_inet) {
		sa = (const struct sockaddr *)&cf->cf_stats_addr.cl_addr;
		salen = cf->cf_stats_addr.cl_len;
	} else {
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		strlcpy(sun.sun_path, cf->cf_stats, sizeof(sun.sun_path));
	}
	if ((fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		fatal("socket");
	/* A wedged or foreign listener must not hang snitch -s. */
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, sa, salen) == -1) {
		fprintf(stderr, "snitch: stats %s: %s (is snitch running?)\n",
		    cf->cf_stats, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* stats_query - snitch -s: ask a running snitch, print the answer */
int
stats_query(const struct conf *cf)
{
	char	buf[4096];
	ssize_t	n;
	int	fd;

	if ((fd = stats_connect(cf)) == -1)
		return 1;
	if (write(fd, STATS_SUMMARY, strlen(STATS_SUMMARY)) ==
	    (ssize_t)strlen(STATS_SUMMARY))
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			fwrite(buf, 1, (size_t)n, stdout);
	else
		n = -1;
	if (n == -1)
		fprintf(stderr, "snitch: stats %s: %s\n", cf->cf_stats,
		    strerror(errno));
	close(fd);
	return n == 0 && fflush(stdout) == 0 ? 0 : 1;
}
