/*
 * render.c - the figures as text: the table of `snitch -s` (one "key
 * value..." line each) and the Prometheus text exposition format of
 * GET /metrics.
 *
 * Runs in snitch-stats, unprivileged and sandboxed; pure formatting of
 * a sum (figures.c) and the master's snapshot into a stream.  Both
 * formats are an interface: t/metrics.bats, t/metrics.py and
 * t/lib_faults.bash read them byte for byte, and so do operators'
 * scripts and scrapers.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "render.h"

/*
 * render_kind - "backend" or "tenant", and the name without its
 * WCONF_TENANT_PREFIX (a backend name has no ':', so no clash)
 */
static const char *
render_kind(const char *counted, const char **name)
{
	size_t	plen = strlen(WCONF_TENANT_PREFIX);

	if (strncmp(counted, WCONF_TENANT_PREFIX, plen) == 0) {
		*name = counted + plen;
		return "tenant";
	}
	*name = counted;
	return "backend";
}

/* render_histogram_line - one histogram for a person: cumulative counts */
static void
render_histogram_line(FILE *f, const char *name, const uint64_t *buckets,
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

/* render_summary - every figure for snitch -s, one "key value..." line each */
void
render_summary(FILE *f, const struct tally *sum, const struct snapshot *sn)
{
	time_t		reload = (time_t)sn->sn_reload_time;
	char		when[32] = "never";
	struct tm	tm;
	size_t		i;

	fprintf(f, "generation %u\nworker_restarts %llu\n",
	    sn->sn_generation, (unsigned long long)sn->sn_restarts);
	fprintf(f, "accepted %llu\nhandoff %llu\n",
	    (unsigned long long)sum->ty_w.cw_accepted,
	    (unsigned long long)sum->ty_w.cw_handoff);
	for (i = 0; i < COUNTERS_ALERTS; i++)
		fprintf(f, "alert_%u %llu\n", counters_alert_code((int)i),
		    (unsigned long long)sum->ty_w.cw_alert[i]);
	fprintf(f, "not_tls %llu\ntimeout %llu\nclient_gone %llu\nerror %llu\n"
	    "evicted %llu\nproxy_refused %llu\nproxy_invalid %llu\n"
	    "health_check %llu\nhttp_refused %llu\nlost %llu\npending %llu\n",
	    (unsigned long long)sum->ty_w.cw_not_tls,
	    (unsigned long long)sum->ty_w.cw_timeout,
	    (unsigned long long)sum->ty_w.cw_client_gone,
	    (unsigned long long)sum->ty_w.cw_error,
	    (unsigned long long)sum->ty_w.cw_evicted,
	    (unsigned long long)sum->ty_w.cw_proxy_refused,
	    (unsigned long long)sum->ty_w.cw_proxy_invalid,
	    (unsigned long long)sum->ty_w.cw_health_check,
	    (unsigned long long)sum->ty_w.cw_http_refused,
	    (unsigned long long)sum->ty_lost,
	    (unsigned long long)sum->ty_w.cw_pending);
	for (i = 0; i < sum->ty_nbackends; i++) {
		const struct counters_backend *cb = &sum->ty_backends[i].tb_counts;
		const char *kind, *bname;

		kind = render_kind(sum->ty_backends[i].tb_name, &bname);
		fprintf(f, "%s %s handoff %llu fallback %llu down %llu "
		    "busy %llu errors %llu held %llu rehanded %llu\n", kind,
		    bname,
		    (unsigned long long)cb->cb_handoff,
		    (unsigned long long)cb->cb_fallback,
		    (unsigned long long)cb->cb_down,
		    (unsigned long long)cb->cb_busy,
		    (unsigned long long)cb->cb_errors,
		    (unsigned long long)cb->cb_held,
		    (unsigned long long)cb->cb_rehanded);
	}
	for (i = 0; i < sum->ty_nworkers; i++)
		fprintf(f, "worker %zu pending %llu\n", i,
		    (unsigned long long)sum->ty_pending[i]);
	fprintf(f, "handoff_failures");
	for (i = 0; i < COUNTERS_FAILS; i++)
		fprintf(f, " %s %llu", counters_fail_name((int)i),
		    (unsigned long long)sum->ty_w.cw_fail[i]);
	fputc('\n', f);
	fprintf(f, "log_dropped %llu\n",
	    (unsigned long long)sum->ty_w.cw_log_dropped);
	if (reload != 0 && gmtime_r(&reload, &tm) != NULL)
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(f, "last_reload %s %s\n", sn->sn_reload_ok ? "ok" : "failed",
	    when);
	render_histogram_line(f, "peek_seconds", sum->ty_w.cw_peek_ms,
	    COUNTERS_PEEK_BUCKETS, counters_peek_bounds(), 0.001,
	    sum->ty_w.cw_peek_ms_sum / 1000.0);
	render_histogram_line(f, "hello_bytes", sum->ty_w.cw_hello_bytes,
	    COUNTERS_HELLO_BUCKETS, counters_hello_bounds(), 1,
	    (double)sum->ty_w.cw_hello_bytes_sum);
	fprintf(f, "hello_bytes_examined %llu\n",
	    (unsigned long long)sum->ty_w.cw_hello_examined);
	fprintf(f, "source_penalties %llu\n",
	    (unsigned long long)sum->ty_w.cw_penalties);
}

/* render_family - the HELP and TYPE lines of a metric */
static void
render_family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* render_prom_histogram - a histogram: cumulative buckets, sum, count */
static void
render_prom_histogram(FILE *f, const char *name, const char *help,
    const uint64_t *buckets, size_t nbuckets, const unsigned *bounds,
    double scale, double sum)
{
	uint64_t	total = 0;
	size_t		i;

	render_family(f, name, "histogram", help);
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

/* render_prom_backends - one per-backend (and per-tenant) counter family */
static void
render_prom_backends(FILE *f, const struct tally *sum, const char *name,
    const char *help, size_t offset)
{
	const char	*bname, *kind;
	size_t		 i;

	render_family(f, name, "counter", help);
	for (i = 0; i < sum->ty_nbackends; i++) {
		kind = render_kind(sum->ty_backends[i].tb_name, &bname);
		fprintf(f, "%s{%s=\"%s\"} %llu\n", name, kind, bname,
		    (unsigned long long)*(const uint64_t *)((const char *)
		    &sum->ty_backends[i].tb_counts + offset));
	}
}

/*
 * render_metrics - the Prometheus text exposition format, version 0.0.4.
 * Backend names are letters, digits and "_.-": no label escaping needed.
 */
void
render_metrics(FILE *f, const struct tally *sum, const struct snapshot *sn)
{
	const struct counters_worker	*w = &sum->ty_w;
	const char			*name = "snitch_connections_total";
	size_t				 i;

	render_family(f, "snitch_connections_accepted_total", "counter",
	    "Connections the workers accepted.");
	fprintf(f, "snitch_connections_accepted_total %llu\n",
	    (unsigned long long)w->cw_accepted);
	render_family(f, name, "counter", "Accepted connections by how they "
	    "ended; evicted: stalled, closed to make room; proxy_refused: a "
	    "PROXY header from a peer outside proxy_from; proxy_invalid: no "
	    "valid PROXY header; health_check: a PROXY header without a "
	    "client; http_refused: an HTTP client answered with a 4xx or "
	    "5xx; lost: held by a worker that was killed.");
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
	    "%s{outcome=\"evicted\"} %llu\n"
	    "%s{outcome=\"proxy_refused\"} %llu\n"
	    "%s{outcome=\"proxy_invalid\"} %llu\n"
	    "%s{outcome=\"health_check\"} %llu\n"
	    "%s{outcome=\"http_refused\"} %llu\n"
	    "%s{outcome=\"lost\"} %llu\n",
	    name, (unsigned long long)w->cw_not_tls,
	    name, (unsigned long long)w->cw_timeout,
	    name, (unsigned long long)w->cw_client_gone,
	    name, (unsigned long long)w->cw_error,
	    name, (unsigned long long)w->cw_evicted,
	    name, (unsigned long long)w->cw_proxy_refused,
	    name, (unsigned long long)w->cw_proxy_invalid,
	    name, (unsigned long long)w->cw_health_check,
	    name, (unsigned long long)w->cw_http_refused,
	    name, (unsigned long long)sum->ty_lost);
	render_family(f, "snitch_connections_pending", "gauge", "Connections "
	    "a worker holds now: peeking, or waiting for a busy backend.");
	for (i = 0; i < sum->ty_nworkers; i++)
		fprintf(f, "snitch_connections_pending{worker=\"%zu\"} %llu\n",
		    i, (unsigned long long)sum->ty_pending[i]);
	render_prom_backends(f, sum, "snitch_backend_handoffs_total",
	    "Connections handed to the backend.",
	    offsetof(struct counters_backend, cb_handoff));
	render_prom_backends(f, sum, "snitch_backend_fallbacks_total",
	    "Of those, handed to it as another backend's fallback.",
	    offsetof(struct counters_backend, cb_fallback));
	render_prom_backends(f, sum, "snitch_backend_down_total",
	    "Connections refused (alert 80): the backend was down, no "
	    "fallback took them.", offsetof(struct counters_backend, cb_down));
	render_prom_backends(f, sum, "snitch_backend_busy_total",
	    "Connections refused (alert 80): the backend was busy for "
	    "handoff_timeout.", offsetof(struct counters_backend, cb_busy));
	render_prom_backends(f, sum, "snitch_backend_errors_total",
	    "Failed connects to the backend and channels lost.",
	    offsetof(struct counters_backend, cb_errors));
	render_prom_backends(f, sum, "snitch_backend_held_total",
	    "Clients that waited for the backend while its socket was "
	    "missing or refused (a restart).",
	    offsetof(struct counters_backend, cb_held));
	render_prom_backends(f, sum, "snitch_backend_rehanded_total",
	    "Connections handed again, untouched, after the backend's "
	    "channel died before it acknowledged them.",
	    offsetof(struct counters_backend, cb_rehanded));
	render_family(f, "snitch_handoff_failures_total", "counter",
	    "Failed handoff attempts by cause (a retried connection counts "
	    "each attempt).");
	for (i = 0; i < COUNTERS_FAILS; i++)
		fprintf(f, "snitch_handoff_failures_total{cause=\"%s\"} %llu\n",
		    counters_fail_name((int)i),
		    (unsigned long long)w->cw_fail[i]);
	render_family(f, "snitch_log_lines_dropped_total", "counter",
	    "Log lines (error and access log) the workers dropped, whole, "
	    "because their destination could not take them without waiting.");
	fprintf(f, "snitch_log_lines_dropped_total %llu\n",
	    (unsigned long long)w->cw_log_dropped);
	render_family(f, "snitch_worker_restarts_total", "counter",
	    "Workers that died and were restarted.");
	fprintf(f, "snitch_worker_restarts_total %llu\n",
	    (unsigned long long)sn->sn_restarts);
	render_family(f, "snitch_config_generation", "gauge",
	    "The configuration generation being served (1 at start, one "
	    "more per successful reload).");
	fprintf(f, "snitch_config_generation %u\n", sn->sn_generation);
	render_family(f, "snitch_config_last_reload_successful", "gauge",
	    "1 when the last load of the configuration (start or SIGHUP) "
	    "succeeded, 0 when it failed.");
	fprintf(f, "snitch_config_last_reload_successful %d\n",
	    sn->sn_reload_ok);
	render_family(f, "snitch_config_last_reload_timestamp_seconds", "gauge",
	    "When the configuration was last loaded or failed to load, in "
	    "seconds since the epoch.");
	fprintf(f, "snitch_config_last_reload_timestamp_seconds %lld\n",
	    (long long)sn->sn_reload_time);
	render_prom_histogram(f, "snitch_peek_duration_seconds", "Time from "
	    "accept to outcome, on the workers' coarse clock (ms steps).",
	    w->cw_peek_ms, COUNTERS_PEEK_BUCKETS, counters_peek_bounds(),
	    0.001, w->cw_peek_ms_sum / 1000.0);
	render_prom_histogram(f, "snitch_client_hello_size_bytes", "Bytes of "
	    "each complete ClientHello that was routed, record headers "
	    "included.", w->cw_hello_bytes, COUNTERS_HELLO_BUCKETS,
	    counters_hello_bounds(), 1, (double)w->cw_hello_bytes_sum);
	render_family(f, "snitch_hello_bytes_examined_total", "counter",
	    "Bytes the ClientHello parser examined: each byte a client sent "
	    "walked once, and each whole hello's message parsed once.");
	fprintf(f, "snitch_hello_bytes_examined_total %llu\n",
	    (unsigned long long)w->cw_hello_examined);
	render_family(f, "snitch_source_penalties_total", "counter",
	    "Netblocks the workers asked the master to penalize: "
	    "source_penalty_stalls of their connections stalled at once.");
	fprintf(f, "snitch_source_penalties_total %llu\n",
	    (unsigned long long)w->cw_penalties);
}
