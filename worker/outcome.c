/*
 * outcome.c - the ways a connection ends, each logged and counted once.
 *
 * Runs in the worker, unprivileged.  Every connection ends in exactly
 * one outcome: handoff, alert, not-tls, timeout, client-gone, error,
 * evicted (evict.c), or on a proxy_protocol listener proxy-refused,
 * proxy-invalid or health-check (upstream.c), or http-refused (an HTTP
 * client answered with a 4xx or 5xx: http.c, dispatch.c);
 * outcome_log is the one place it is counted and the one access line
 * written.  A refusal discards the peeked bytes first (closing with
 * unread data would send a RST that can destroy the alert in flight),
 * sends the alert, shuts down writing, and lingers briefly for the
 * client's FIN.  A client that speaks another protocol, or nothing, is
 * never sent an alert: it would mean nothing to it.  An HTTP client is
 * refused the same way, with a short HTTP/1.1 response (outcome_http).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <bsd/string.h>

#include "alert.h"
#include "clock.h"
#include "counters.h"
#include "worker.h"

#define OUTCOME_LINGER_MS	1000	/* wait for the FIN after an alert */

static const char *const outcome_routes[] = {
	[CONN_ROUTE_HELLO] = "hello",
	[CONN_ROUTE_NON_TLS] = "non_tls",
	[CONN_ROUTE_SILENT] = "silent",
	[CONN_ROUTE_HTTP] = "http",
};

static const char *const outcome_words[] = {
	[OUTCOME_HANDOFF] = "handoff",
	[OUTCOME_ALERT] = "alert",
	[OUTCOME_NOT_TLS] = "not-tls",
	[OUTCOME_TIMEOUT] = "timeout",
	[OUTCOME_CLIENT_GONE] = "client-gone",
	[OUTCOME_ERROR] = "error",
	[OUTCOME_EVICTED] = "evicted",
	[OUTCOME_PROXY_REFUSED] = "proxy-refused",
	[OUTCOME_PROXY_INVALID] = "proxy-invalid",
	[OUTCOME_HEALTH_CHECK] = "health-check",
	[OUTCOME_HTTP_REFUSED] = "http-refused",
};

/*
 * The HTTP responses SNItch refuses with: RFC 9110 15 for the statuses
 * and their reason phrases, RFC 6585 5 for 431.  A body says it in words
 * for a person at a browser; the client on a TLS listener is told to use
 * https (http_on_tls).
 */
static const struct outcome_reply {
	int		 or_status;
	const char	*or_phrase;
	const char	*or_body;
} outcome_replies[] = {
	{ 400, "Bad Request", "Bad request.\n" },
	{ 408, "Request Timeout", "The request head did not come in time.\n" },
	{ 414, "URI Too Long", "Request line too long.\n" },
	{ 421, "Misdirected Request", "No site by that name here.\n" },
	{ 431, "Request Header Fields Too Large", "Request head too large.\n" },
	{ 503, "Service Unavailable", "Service unavailable, try again "
	    "later.\n" },
	{ 505, "HTTP Version Not Supported", "Only HTTP/1.0 and HTTP/1.1 "
	    "are spoken here.\n" },
};
#define OUTCOME_USE_HTTPS	"This port speaks TLS: use https://.\n"
#define OUTCOME_REPLY_MAX	256

/*
 * outcome_settle - count an outcome and take the connection out of
 * pending, side by side and first thing: a worker killed between a
 * handoff and this has the connection counted as lost although its
 * backend has it, so the window is kept to these few instructions.
 */
static void
outcome_settle(struct worker *w, enum outcome outcome, uint8_t alert)
{
	struct counters_worker	*cw = w->w_counters;
	int			 i;

	switch (outcome) {
	case OUTCOME_HANDOFF:
		COUNTERS_ADD(cw->cw_handoff, 1);
		break;
	case OUTCOME_ALERT:
		if ((i = counters_alert_index(alert)) != -1)
			COUNTERS_ADD(cw->cw_alert[i], 1);
		break;
	case OUTCOME_NOT_TLS:
		COUNTERS_ADD(cw->cw_not_tls, 1);
		break;
	case OUTCOME_TIMEOUT:
		COUNTERS_ADD(cw->cw_timeout, 1);
		break;
	case OUTCOME_CLIENT_GONE:
		COUNTERS_ADD(cw->cw_client_gone, 1);
		break;
	case OUTCOME_ERROR:
		COUNTERS_ADD(cw->cw_error, 1);
		break;
	case OUTCOME_EVICTED:
		COUNTERS_ADD(cw->cw_evicted, 1);
		break;
	case OUTCOME_PROXY_REFUSED:
		COUNTERS_ADD(cw->cw_proxy_refused, 1);
		break;
	case OUTCOME_PROXY_INVALID:
		COUNTERS_ADD(cw->cw_proxy_invalid, 1);
		break;
	case OUTCOME_HEALTH_CHECK:
		COUNTERS_ADD(cw->cw_health_check, 1);
		break;
	case OUTCOME_HTTP_REFUSED:
		COUNTERS_ADD(cw->cw_http_refused, 1);
		break;
	}
	COUNTERS_SUB(cw->cw_pending, 1);
}

/* outcome_field - append "key=value" (value may be NULL) to the detail */
static void
outcome_field(char *more, size_t size, const char *key, const char *value)
{
	if (key == NULL)
		return;
	if (more[0] != '\0')
		strlcat(more, " ", size);
	strlcat(more, key, size);
	if (value != NULL)
		strlcat(more, value, size);
}

/*
 * outcome_record - what a settled connection's end says: its latency
 * (peek_us) and hello size in the histograms, and the access line
 */
static void
outcome_record(struct worker *w, struct conn *c, const struct hello *hl,
    int channel, enum outcome outcome, const char *detail)
{
	struct counters_worker	*cw = w->w_counters;
	uint64_t		 now = clock_us(), peek_us, ms;
	char			 more[128 + ROUTES_PROTOCOL_MAX];
	int			 http = wire_http_head(w, c);

	peek_us = now > c->cn_start_us ? now - c->cn_start_us : 0;
	ms = peek_us / 1000;
	COUNTERS_ADD(cw->cw_peek_ms[counters_peek_bucket(ms)], 1);
	COUNTERS_ADD(cw->cw_peek_ms_sum, ms);
	if (hl != NULL) {
		COUNTERS_ADD(cw->cw_hello_bytes[counters_hello_bucket(
		    hl->hl_wire_len)], 1);
		COUNTERS_ADD(cw->cw_hello_bytes_sum, hl->hl_wire_len);
	}
	/* One that waited for its backend to restart, or was handed again
	 * after its channel died, says so; one an ALPN route took says
	 * which protocol's, last.  The protocol is from the config:
	 * printable, no spaces. */
	if (c->cn_held || c->cn_rehanded || c->cn_alpn_route != -1 || http) {
		more[0] = '\0';
		outcome_field(more, sizeof(more), detail, NULL);
		if (http)
			outcome_field(more, sizeof(more), "method=",
			    w->w_http_method);
		if (http && w->w_http_acme)
			outcome_field(more, sizeof(more), "acme=1", NULL);
		if (c->cn_held)
			outcome_field(more, sizeof(more), "held=1", NULL);
		if (c->cn_rehanded)
			outcome_field(more, sizeof(more), "rehanded=1", NULL);
		if (c->cn_alpn_route != -1)
			outcome_field(more, sizeof(more), "alpn_route=",
			    routes_protocol(w->w_conf.wc_routes,
			    c->cn_alpn_route));
		detail = more;
	}
	access_line(w, c, hl, channel, outcome_words[outcome], detail,
	    peek_us);
}

/*
 * outcome_log - the one place a connection's outcome is counted, and
 * the one line that says what happened to it; detail is more key=value
 * pairs
 */
void
outcome_log(struct worker *w, struct conn *c, const struct hello *hl,
    int channel, enum outcome outcome, uint8_t alert, const char *detail)
{
	outcome_settle(w, outcome, alert);
	outcome_record(w, c, hl, channel, outcome, detail);
}

/*
 * outcome_reason - "reason=" and a parser's rule as one access log word:
 * letters and digits kept, each run of anything else one '-'
 */
void
outcome_reason(const char *why, char *out, size_t size)
{
	size_t	n = 0;
	int	dash = 0;

	n = (size_t)snprintf(out, size, "reason=");
	for (; *why != '\0' && n + 2 < size; why++) {
		if (isalnum((unsigned char)*why)) {
			if (dash && out[n - 1] != '=')
				out[n++] = '-';
			out[n++] = *why;
			dash = 0;
		} else
			dash = 1;
	}
	out[n] = '\0';
}

/* outcome_close - end a connection with a FIN, not a RST */
void
outcome_close(struct worker *w, struct conn *c)
{
	(void)alert_drain(c->cn_fd, w->w_wire, sizeof(w->w_wire));
	conn_release(w, c);
}

/*
 * outcome_refuse - log a refusal of c (by channel, or -1) with its alert
 * and why, answer with the fatal TLS alert, then close gracefully
 */
void
outcome_refuse(struct worker *w, struct conn *c, const struct hello *hl,
    int channel, uint8_t alert, const char *reason)
{
	char	detail[64];

	snprintf(detail, sizeof(detail), "alert=%u reason=%s", alert, reason);
	outcome_log(w, c, hl, channel, OUTCOME_ALERT, alert, detail);
	if (alert_send(c->cn_fd, alert, w->w_wire, sizeof(w->w_wire)) != 0) {
		conn_release(w, c);
		return;
	}
	conn_move(w, c, CONN_LINGER, w->w_now + OUTCOME_LINGER_MS);
}

/*
 * outcome_reply - the whole response for status into out: a status line,
 * Content-Type, Content-Length, Connection: close (RFC 9112 9.6: the
 * connection ends after it), a short body; its length.  An HTTP client
 * on a TLS listener (not c's route) is told to use https.
 */
static size_t
outcome_reply(const struct conn *c, int status, char *out, size_t size)
{
	const struct outcome_reply	*r = &outcome_replies[0];
	const char			*body;
	size_t				 i;
	int				 n;

	for (i = 0; i < sizeof(outcome_replies) / sizeof(*r); i++)
		if (outcome_replies[i].or_status == status)
			r = &outcome_replies[i];
	body = c->cn_route == CONN_ROUTE_HTTP ? r->or_body : OUTCOME_USE_HTTPS;
	n = snprintf(out, size, "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
	    r->or_status, r->or_phrase, strlen(body), body);
	return n > 0 && (size_t)n < size ? (size_t)n : 0;
}

/*
 * outcome_http_as - log c's end as outcome with the response's status
 * and why, answer it with that response, then close gracefully as
 * outcome_refuse does
 */
static void
outcome_http_as(struct worker *w, struct conn *c, int channel,
    enum outcome outcome, int status, const char *reason)
{
	char	detail[96], reply[OUTCOME_REPLY_MAX];
	size_t	len;

	snprintf(detail, sizeof(detail), "status=%d %s%s", status,
	    strncmp(reason, "reason=", 7) == 0 ? "" : "reason=", reason);
	outcome_log(w, c, NULL, channel, outcome, 0, detail);
	len = outcome_reply(c, status, reply, sizeof(reply));
	if (alert_answer(c->cn_fd, reply, len, w->w_wire,
	    sizeof(w->w_wire)) != 0) {
		conn_release(w, c);
		return;
	}
	conn_move(w, c, CONN_LINGER, w->w_now + OUTCOME_LINGER_MS);
}

/* outcome_http - refuse an HTTP client c (by channel, or -1) with status */
void
outcome_http(struct worker *w, struct conn *c, int channel, int status,
    const char *reason)
{
	outcome_http_as(w, c, channel, OUTCOME_HTTP_REFUSED, status, reason);
}

/*
 * outcome_http_timeout - an HTTP client that began its request head and
 * did not finish it in time: 408 (RFC 9110 15.5.9), so that it knows
 * why, counted and logged as the timeout it is
 */
void
outcome_http_timeout(struct worker *w, struct conn *c)
{
	outcome_http_as(w, c, -1, OUTCOME_TIMEOUT, 408, "request-head");
}

/* outcome_handed_count - count c's handoff to channel, fallback_of's */
static void
outcome_handed_count(struct worker *w, int channel, int fallback_of)
{
	struct counters_backend	*cb = w->w_channels[channel].ch_counts;

	outcome_settle(w, OUTCOME_HANDOFF, 0);
	COUNTERS_ADD(cb->cb_handoff, 1);
	if (fallback_of != -1)
		COUNTERS_ADD(cb->cb_fallback, 1);
}

/*
 * outcome_handed_settle - the handoff of c to channel (as fallback_of's
 * fallback, or -1) is final: counted, and the worker's copy closed
 */
void
outcome_handed_settle(struct worker *w, struct conn *c, int channel,
    int fallback_of)
{
	outcome_handed_count(w, channel, fallback_of);
	conn_release(w, c);
}

/*
 * outcome_handed_log - the access line of c's handoff to channel; its
 * hello, if it has one, is the one wire_peek parsed last
 */
void
outcome_handed_log(struct worker *w, struct conn *c, int channel,
    int fallback_of)
{
	char	detail[32 + WCONF_NAME_MAX];
	int	n = 0;

	if (c->cn_route != CONN_ROUTE_HELLO)
		n = snprintf(detail, sizeof(detail), "route=%s",
		    outcome_routes[c->cn_route]);
	if (fallback_of != -1)
		snprintf(detail + n, sizeof(detail) - (size_t)n,
		    "%sfallback_of=%s", n > 0 ? " " : "",
		    w->w_channels[fallback_of].ch_name);
	outcome_record(w, c, c->cn_route == CONN_ROUTE_HELLO ? &w->w_hello :
	    NULL, channel, OUTCOME_HANDOFF,
	    n > 0 || fallback_of != -1 ? detail : NULL);
}

/*
 * outcome_handed - c went to channel (as fallback_of's fallback, or -1)
 * and that is final (a channel of version 1): counted first, then
 * logged, then closed
 */
void
outcome_handed(struct worker *w, struct conn *c, int channel, int fallback_of)
{
	outcome_handed_count(w, channel, fallback_of);
	outcome_handed_log(w, c, channel, fallback_of);
	conn_release(w, c);
}

/*
 * outcome_other - no backend takes a non-TLS or silent client: close it
 * as it would have been closed without non_tls or silent (outcome
 * not-tls or timeout), with a FIN; it speaks no TLS, so no alert.
 */
void
outcome_other(struct worker *w, struct conn *c, int channel,
    const char *reason)
{
	char	detail[64];

	snprintf(detail, sizeof(detail), "route=%s reason=%s",
	    outcome_routes[c->cn_route], reason);
	outcome_log(w, c, NULL, channel, c->cn_route == CONN_ROUTE_NON_TLS ?
	    OUTCOME_NOT_TLS : OUTCOME_TIMEOUT, 0, detail);
	outcome_close(w, c);
}
