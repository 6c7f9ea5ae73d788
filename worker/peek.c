/*
 * peek.c - one client connection, from accept to handoff or refusal.
 *
 * Runs in the worker, unprivileged, on bytes the client controls.  The
 * ClientHello is only ever peeked (MSG_PEEK): the backend must read it
 * from the first byte.  Because peeking does not consume, the socket is
 * registered edge-triggered: each arriving segment wakes us once.
 *
 * Every connection ends in exactly one logged outcome: handoff, alert,
 * not-tls, timeout or client-gone.  A client that speaks another protocol
 * (`non_tls`) or nothing at all (`silent`) may be handed off too, as it
 * is; when its backend cannot take it, it is closed as it would have
 * been without that key (not-tls, timeout): a TLS alert would mean
 * nothing to it.  A refusal discards the peeked bytes
 * first (closing with unread data would send a RST that can destroy the
 * alert in flight), sends the alert, shuts down writing, and lingers
 * briefly for the client's FIN.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "alert.h"
#include "clock.h"
#include "counters.h"
#include "hostname.h"
#include "log.h"
#include "sandbox.h"
#include "worker.h"

#define PEEK_LINGER_MS		1000	/* wait for the FIN after an alert */

static const char *const peek_routes[] = {
	[CONN_ROUTE_HELLO] = "hello",
	[CONN_ROUTE_NON_TLS] = "non_tls",
	[CONN_ROUTE_SILENT] = "silent",
};

static const char *const peek_outcomes[] = {
	[PEEK_HANDOFF] = "handoff",
	[PEEK_ALERT] = "alert",
	[PEEK_NOT_TLS] = "not-tls",
	[PEEK_TIMEOUT] = "timeout",
	[PEEK_CLIENT_GONE] = "client-gone",
	[PEEK_ERROR] = "error",
};

/* peek_count - count an outcome, its latency (peek_us) and hello size */
static void
peek_count(struct worker *w, uint64_t peek_us, const struct hello *hl,
    enum peek_outcome outcome, uint8_t alert)
{
	struct counters_worker	*cw = w->w_counters;
	uint64_t		 ms = peek_us / 1000;
	int			 i;

	COUNTERS_ADD(cw->cw_peek_ms[counters_peek_bucket(ms)], 1);
	COUNTERS_ADD(cw->cw_peek_ms_sum, ms);
	if (hl != NULL) {
		COUNTERS_ADD(cw->cw_hello_bytes[counters_hello_bucket(
		    hl->hl_wire_len)], 1);
		COUNTERS_ADD(cw->cw_hello_bytes_sum, hl->hl_wire_len);
	}

	switch (outcome) {
	case PEEK_HANDOFF:
		COUNTERS_ADD(cw->cw_handoff, 1);
		break;
	case PEEK_ALERT:
		if ((i = counters_alert_index(alert)) != -1)
			COUNTERS_ADD(cw->cw_alert[i], 1);
		break;
	case PEEK_NOT_TLS:
		COUNTERS_ADD(cw->cw_not_tls, 1);
		break;
	case PEEK_TIMEOUT:
		COUNTERS_ADD(cw->cw_timeout, 1);
		break;
	case PEEK_CLIENT_GONE:
		COUNTERS_ADD(cw->cw_client_gone, 1);
		break;
	case PEEK_ERROR:
		COUNTERS_ADD(cw->cw_error, 1);
		break;
	}
	/*
	 * Out of pending right beside its outcome: a worker killed between
	 * the two (a log write used to lie there) would have its connection
	 * counted twice, as this outcome and as lost.
	 */
	COUNTERS_SUB(cw->cw_pending, 1);
}

/*
 * peek_log - the one line that says what happened to a connection, and
 * the one place its outcome is counted; detail is more key=value pairs.
 * A connection an ALPN route took says which protocol's, after them.
 */
static void
peek_log(struct worker *w, struct conn *c, const struct hello *hl,
    int backend, enum peek_outcome outcome, uint8_t alert, const char *detail)
{
	uint64_t	now = clock_us();
	uint64_t	peek_us = now > c->cn_start_us ? now - c->cn_start_us : 0;
	char		more[128 + ROUTES_PROTOCOL_MAX];

	if (c->cn_alpn_route != -1) {
		/* The protocol is from the config: printable, no spaces. */
		snprintf(more, sizeof(more), "%s%salpn_route=%s",
		    detail != NULL ? detail : "", detail != NULL ? " " : "",
		    routes_protocol(w->w_conf.wc_routes, c->cn_alpn_route));
		detail = more;
	}

	/* One clock read for the histogram and the access line. */
	peek_count(w, peek_us, hl, outcome, alert);
	access_line(w, c, hl, backend, peek_outcomes[outcome], detail,
	    peek_us);
}

/* peek_move - put c in another state, list and deadline */
static void
peek_move(struct worker *w, struct conn *c, enum conn_state state,
    uint64_t deadline)
{
	TAILQ_REMOVE(loop_list(w, c), c, cn_link);
	c->cn_state = state;
	c->cn_deadline = deadline;
	TAILQ_INSERT_TAIL(loop_list(w, c), c, cn_link);
}


/* peek_drain - discard what the client sent; 1 at EOF, 0, -1 on error */
static int
peek_drain(struct worker *w, int fd)
{
	return alert_drain(fd, w->w_wire, sizeof(w->w_wire));
}

/* peek_close - end a connection with a FIN, not a RST */
static void
peek_close(struct worker *w, struct conn *c)
{
	(void)peek_drain(w, c->cn_fd);
	loop_release(w, c);
}

/* peek_refuse - answer with a fatal TLS alert, then close gracefully */
static void
peek_refuse(struct worker *w, struct conn *c, uint8_t alert)
{
	if (alert_send(c->cn_fd, alert, w->w_wire, sizeof(w->w_wire)) != 0) {
		loop_release(w, c);
		return;
	}
	peek_move(w, c, CONN_LINGER, w->w_now + PEEK_LINGER_MS);
}

/* peek_refuse_log - log a refusal with its alert and why, then refuse */
static void
peek_refuse_log(struct worker *w, struct conn *c, const struct hello *hl,
    int backend, uint8_t alert, const char *reason)
{
	char	detail[64];

	snprintf(detail, sizeof(detail), "alert=%u reason=%s", alert, reason);
	peek_log(w, c, hl, backend, PEEK_ALERT, alert, detail);
	peek_refuse(w, c, alert);
}

/*
 * peek_local - the local address c connected to, or NULL.  A wildcard
 * listener's needs getsockname: asked once per connection, for both the
 * PROXY header and the access log.
 */
const union conn_addr *
peek_local(struct worker *w, struct conn *c)
{
	struct listener	*ls = &w->w_listeners[c->cn_listener];
	socklen_t	 len = sizeof(w->w_local);

	if (!ls->ls_wildcard)
		return &ls->ls_addr;
	if (w->w_local_conn == c && w->w_local_use == c->cn_use)
		return &w->w_local;
	w->w_local_conn = NULL;
	if (getsockname(c->cn_fd, &w->w_local.sa, &len) == -1)
		return NULL;
	w->w_local_conn = c;
	w->w_local_use = c->cn_use;
	return &w->w_local;
}

/* peek_payload - the PROXY v2 header for c, from the parsed hello */
static ssize_t
peek_payload(struct worker *w, struct conn *c, const char *name, ssize_t nlen)
{
	struct proxy_info		 pi;
	const union conn_addr		*local;

	memset(&pi, 0, sizeof(pi));
	memcpy(&pi.pi_src, &c->cn_peer, sizeof(c->cn_peer));
	if ((local = peek_local(w, c)) == NULL)
		return -1;
	memcpy(&pi.pi_dst, local, sizeof(*local));
	/* Not TLS, or silent: the addresses, and nothing of a hello. */
	if (c->cn_route != CONN_ROUTE_HELLO)
		return proxy_encode(&pi, w->w_payload, sizeof(w->w_payload));
	if (nlen > 0) {
		pi.pi_authority = name;
		pi.pi_authority_len = (size_t)nlen;
	}
	pi.pi_alpn = w->w_hello.hl_alpn;
	pi.pi_alpn_len = w->w_hello.hl_alpn_len;
	pi.pi_ech = w->w_hello.hl_ech;
	return proxy_encode(&pi, w->w_payload, sizeof(w->w_payload));
}

/* peek_handed - c went to backend b (as fallback for another, or not) */
static void
peek_handed(struct worker *w, struct conn *c, int b, int fallback_of)
{
	struct counters_backend	*cb = w->w_backends[b].be_counts;
	char			 detail[32 + WCONF_NAME_MAX];
	int			 n = 0;

	COUNTERS_ADD(cb->cb_handoff, 1);
	if (c->cn_route != CONN_ROUTE_HELLO)
		n = snprintf(detail, sizeof(detail), "route=%s",
		    peek_routes[c->cn_route]);
	if (fallback_of != -1) {
		COUNTERS_ADD(cb->cb_fallback, 1);
		snprintf(detail + n, sizeof(detail) - (size_t)n,
		    "%sfallback_of=%s", n > 0 ? " " : "",
		    w->w_backends[fallback_of].be_name);
	}
	peek_log(w, c, c->cn_route == CONN_ROUTE_HELLO ? &w->w_hello : NULL,
	    b, PEEK_HANDOFF, 0, n > 0 || fallback_of != -1 ? detail : NULL);
	loop_release(w, c);
}

/* peek_try - one handoff attempt of the hello in w_hello to backend b */
static enum backend_result
peek_try(struct worker *w, struct conn *c, int b)
{
	ssize_t	len;

	if ((len = peek_payload(w, c, w->w_name, w->w_name_len)) == -1) {
		log_warn("%s: backend %s", __func__,
		    w->w_backends[b].be_name);
		return BACKEND_DOWN;
	}
	return backend_send(w, b, c, w->w_payload, (size_t)len);
}

/*
 * peek_other_close - no backend takes a non-TLS or silent client: close
 * it as it would have been closed without non_tls or silent (outcome
 * not-tls or timeout), with a FIN; it speaks no TLS, so no alert.
 */
static void
peek_other_close(struct worker *w, struct conn *c, int b, const char *reason)
{
	char	detail[64];

	snprintf(detail, sizeof(detail), "route=%s reason=%s",
	    peek_routes[c->cn_route], reason);
	peek_log(w, c, NULL, b, c->cn_route == CONN_ROUTE_NON_TLS ?
	    PEEK_NOT_TLS : PEEK_TIMEOUT, 0, detail);
	peek_close(w, c);
}

/*
 * peek_fallback - b cannot take c: its fallback gets it, if it has one
 * and can take it now; otherwise alert 80.  One hop: a fallback's own
 * fallback is not tried, so fallbacks can never loop.
 */
static void
peek_fallback(struct worker *w, struct conn *c, int b, int busy)
{
	struct counters_backend	*cb = w->w_backends[b].be_counts;
	int			 f = w->w_backends[b].be_fallback;

	if (f != -1 && peek_try(w, c, f) == BACKEND_SENT) {
		peek_handed(w, c, f, b);
		return;
	}
	COUNTERS_ADD(*(busy ? &cb->cb_busy : &cb->cb_down), 1);
	if (c->cn_route != CONN_ROUTE_HELLO) {
		peek_other_close(w, c, b, busy ? "backend-busy" :
		    backend_down_reason(w, b));
		return;
	}
	peek_refuse_log(w, c, &w->w_hello, b, ALERT_INTERNAL_ERROR,
	    busy ? "backend-busy" : backend_down_reason(w, b));
}

/*
 * peek_send - hand c to backend b, or queue it while b is busy.
 * Returns 0 when c is finished with (sent or refused), 1 when it waits.
 */
static int
peek_send(struct worker *w, struct conn *c, int b)
{
	switch (peek_try(w, c, b)) {
	case BACKEND_SENT:
		peek_handed(w, c, b, -1);
		return 0;
	case BACKEND_BUSY:
		if (c->cn_state != CONN_QUEUED)
			backend_enqueue(w, b, c);
		return 1;
	default:
		peek_fallback(w, c, b, 0);
		return 0;
	}
}

/*
 * peek_pick - the channel for c's complete hello: routes_rank's order
 * (routes.h), with a tenant's socket (tenant.c) between the wildcards
 * and "*"; -1: none, TENANT_FULL: no tenant slot is free
 */
static int
peek_pick(struct worker *w, struct conn *c)
{
	enum routes_level	level;
	int			b, t;

	b = routes_rank(w->w_conf.wc_names, w->w_conf.wc_routes,
	    w->w_conf.wc_default, w->w_name, w->w_name_len,
	    w->w_hello.hl_alpn, w->w_hello.hl_alpn_len, &c->cn_alpn_route,
	    &level);
	if (w->w_conf.wc_ntenants == 0 || level < ROUTES_ANY_ALPN ||
	    w->w_name_len <= 0)
		return b;
	if ((t = tenant_route(w, w->w_name, (size_t)w->w_name_len)) ==
	    TENANT_NONE)
		return b;
	c->cn_alpn_route = -1;
	return t;
}

/* peek_route - pick the backend for a complete hello and hand off */
static void
peek_route(struct worker *w, struct conn *c)
{
	int	b = peek_pick(w, c);

#ifdef SNITCH_SANDBOX_PROBE
	sandbox_probe(w->w_name, w->w_name_len);
#endif
	if (b == TENANT_FULL) {
		peek_refuse_log(w, c, &w->w_hello, -1, ALERT_INTERNAL_ERROR,
		    "backend-busy");
		return;
	}
	if (b == -1) {
		peek_refuse_log(w, c, &w->w_hello, -1, ALERT_UNRECOGNIZED_NAME,
		    "no-route");
		return;
	}
	/* Behind a queue, wait in it: handoffs keep their order. */
	if (backend_has_queue(w, b)) {
		backend_enqueue(w, b, c);
		return;
	}
	(void)peek_send(w, c, b);
}

/*
 * peek_other - hand a client that is not TLS, or silent, to the backend
 * for it, as it is: nothing has been read, the backend reads its first
 * byte (if any came) first.
 */
static void
peek_other(struct worker *w, struct conn *c, enum conn_route route)
{
	int	b = route == CONN_ROUTE_NON_TLS ? w->w_conf.wc_non_tls :
		    w->w_conf.wc_silent;

	c->cn_route = route;
	if (backend_has_queue(w, b)) {
		backend_enqueue(w, b, c);
		return;
	}
	(void)peek_send(w, c, b);
}

/*
 * peek_not_tls - the first bytes are not a TLS hello: with non_tls set,
 * a client of another protocol goes there; a TLS client all the same
 * (hello_foreign) is closed as before, so that no TLS client ever
 * reaches another protocol's server.  events: epoll's, 0 at accept.
 */
static void
peek_not_tls(struct worker *w, struct conn *c, uint32_t events)
{
	enum hello_foreign	f = HELLO_FOREIGN_TLS;

	if (w->w_conf.wc_non_tls != -1)
		f = hello_foreign(w->w_wire, c->cn_peeked);
	if (f == HELLO_FOREIGN_OTHER) {
		peek_other(w, c, CONN_ROUTE_NON_TLS);
		return;
	}
	/* Up to 5 bytes decide; the client may still be sending them. */
	if (f == HELLO_FOREIGN_MORE &&
	    !(events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
		return;
	peek_log(w, c, NULL, -1, PEEK_NOT_TLS, 0, NULL);
	peek_close(w, c);
}

/* peek_heard - c sent something: it can no longer be silent */
static void
peek_heard(struct worker *w, struct conn *c)
{
	if (!c->cn_silent_listed)
		return;
	TAILQ_REMOVE(&w->w_silent, c, cn_silent_link);
	c->cn_silent_listed = 0;
}

/* peek_hello - peek at everything received, parse it, normalize the name */
static enum hello_result
peek_hello(struct worker *w, struct conn *c, ssize_t *got)
{
	struct hello		*hl = &w->w_hello;
	enum hello_result	 r;

	*got = recv(c->cn_fd, w->w_wire, sizeof(w->w_wire),
	    MSG_PEEK | MSG_DONTWAIT);
	if (*got <= 0)
		return HELLO_NEED_MORE;
	c->cn_peeked = (uint32_t)*got;
	peek_heard(w, c);
	r = hello_parse(w->w_wire, (size_t)*got, hl);
	if (r == HELLO_COMPLETE)
		w->w_name_len = hl->hl_name == NULL ? -1 : hostname_normalize(
		    hl->hl_name, hl->hl_name_len, w->w_name);
	return r;
}

/* peek_read - the client sent something: is the hello complete? */
static void
peek_read(struct worker *w, struct conn *c, uint32_t events)
{
	enum hello_result	r;
	ssize_t			got;

	r = peek_hello(w, c, &got);
	if (got < 0 && errno == EAGAIN && !(events & (EPOLLERR | EPOLLHUP)))
		return;
	switch (r) {
	case HELLO_COMPLETE:
		peek_route(w, c);
		return;
	case HELLO_NEED_MORE:
		if (got > 0 && !(events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
			return;
		/* EOF, reset, or a half-close before the hello was whole. */
		peek_log(w, c, NULL, -1, PEEK_CLIENT_GONE, 0, NULL);
		peek_close(w, c);
		return;
	case HELLO_NOT_TLS:
		peek_not_tls(w, c, events);
		return;
	case HELLO_UNEXPECTED:
		peek_refuse_log(w, c, NULL, -1, ALERT_UNEXPECTED_MESSAGE,
		    "not-a-hello");
		return;
	case HELLO_MALFORMED:
		peek_refuse_log(w, c, NULL, -1, ALERT_DECODE_ERROR,
		    "malformed-hello");
		return;
	}
}

/* peek_watch - have epoll report c's socket; 0, or -1 when it failed */
static int
peek_watch(struct worker *w, struct conn *c)
{
	struct epoll_event	ev;

	ev.events = EPOLLIN | EPOLLRDHUP | EPOLLET;
	ev.data.u64 = EV_MAKE(EV_CONN, c->cn_use, c - w->w_conns);
	if (epoll_ctl(w->w_epoll, EPOLL_CTL_ADD, c->cn_fd, &ev) == -1)
		return -1;
	c->cn_watched = 1;
	return 0;
}

/*
 * peek_listen_silent - c has sent nothing yet: if it still has not in
 * silent_timeout, counted from accept, it goes to the silent backend.
 */
static void
peek_listen_silent(struct worker *w, struct conn *c)
{
	c->cn_silent_listed = 1;
	TAILQ_INSERT_TAIL(&w->w_silent, c, cn_silent_link);
}

/*
 * peek_start - a new connection: its hello is often here already (the
 * listener defers accept until data comes), so peek first and ask epoll
 * only when the connection is still open after that.
 */
void
peek_start(struct worker *w, int listener, int fd, const union conn_addr *peer)
{
	struct conn	*c = loop_take(w);

	c->cn_fd = fd;
	c->cn_use = (c->cn_use + 1) & 0xffffff;
	c->cn_listener = listener;
	c->cn_backend = -1;
	c->cn_alpn_route = -1;
	c->cn_peer = *peer;
	c->cn_peeked = 0;
	c->cn_route = CONN_ROUTE_HELLO;
	c->cn_start_us = clock_us();
	w->w_pending++;
	COUNTERS_ADD(w->w_counters->cw_accepted, 1);
	COUNTERS_ADD(w->w_counters->cw_pending, 1);
	peek_move(w, c, CONN_PEEK, w->w_now + w->w_conf.wc_peek_timeout_ms);
	peek_read(w, c, 0);
	if (c->cn_state == CONN_PEEK && c->cn_peeked == 0 &&
	    w->w_conf.wc_silent != -1)
		peek_listen_silent(w, c);
	if (c->cn_state == CONN_FREE || peek_watch(w, c) == 0)
		return;
	log_warn("%s: epoll_ctl", __func__);
	if (c->cn_state == CONN_PEEK) {
		peek_log(w, c, NULL, -1, PEEK_ERROR, 0, NULL);
		peek_close(w, c);
	} else if (c->cn_state == CONN_LINGER)
		loop_release(w, c);	/* counted and logged already */
}

/* peek_event - epoll says something about a client socket */
void
peek_event(struct worker *w, struct conn *c, uint32_t events)
{
	switch (c->cn_state) {
	case CONN_PEEK:
		peek_read(w, c, events);
		break;
	case CONN_LINGER:
		if (peek_drain(w, c->cn_fd) != 0 ||
		    (events & (EPOLLHUP | EPOLLERR)))
			loop_release(w, c);
		break;
	default:
		/* Queued: the backend gets it as it is, even if gone. */
		break;
	}
}

/*
 * peek_resume - retry a queued connection now that its backend may take
 * it; 1 when the queue may go on, 0 when the backend is busy again.
 */
int
peek_resume(struct worker *w, struct conn *c)
{
	ssize_t	got;

	/* Not a hello: nothing to peek again; the backend gets it as is. */
	if (c->cn_route != CONN_ROUTE_HELLO)
		return !peek_send(w, c, c->cn_backend);
	if (peek_hello(w, c, &got) != HELLO_COMPLETE) {
		/* The bytes were there before: the client reset. */
		peek_log(w, c, NULL, c->cn_backend, PEEK_CLIENT_GONE, 0, NULL);
		loop_release(w, c);
		return 1;
	}
	return !peek_send(w, c, c->cn_backend);
}

/* peek_give_up - a queued connection waited handoff_timeout */
void
peek_give_up(struct worker *w, struct conn *c)
{
	ssize_t	got;

	/* The hello is still unread in the socket: peek it again. */
	if (c->cn_route == CONN_ROUTE_HELLO &&
	    peek_hello(w, c, &got) != HELLO_COMPLETE) {
		peek_log(w, c, NULL, c->cn_backend, PEEK_CLIENT_GONE, 0, NULL);
		loop_release(w, c);
		return;
	}
	peek_fallback(w, c, c->cn_backend, 1);
}

/*
 * peek_silent_deadline - when c, accepted silent, goes to `silent`: its
 * peek deadline (accept + peek_timeout) less the difference, which the
 * configuration keeps positive
 */
static uint64_t
peek_silent_deadline(const struct worker *w, const struct conn *c)
{
	return c->cn_deadline - w->w_conf.wc_peek_timeout_ms +
	    w->w_conf.wc_silent_timeout_ms;
}

/*
 * peek_silent - c sent nothing in silent_timeout: to the silent backend.
 * Bytes may have come since epoll last said so: peek once more first,
 * and a client that spoke after all is peeked as any other.
 */
static void
peek_silent(struct worker *w, struct conn *c)
{
	peek_heard(w, c);
	peek_read(w, c, 0);
	if (c->cn_state == CONN_PEEK && c->cn_peeked == 0)
		peek_other(w, c, CONN_ROUTE_SILENT);
}

/* peek_expire - end the connections whose time is up */
void
peek_expire(struct worker *w)
{
	struct conn	*c;

	while ((c = TAILQ_FIRST(&w->w_silent)) != NULL &&
	    peek_silent_deadline(w, c) <= w->w_now)
		peek_silent(w, c);
	while ((c = TAILQ_FIRST(&w->w_peeking)) != NULL &&
	    c->cn_deadline <= w->w_now) {
		peek_log(w, c, NULL, -1, PEEK_TIMEOUT, 0, NULL);
		peek_close(w, c);
	}
	while ((c = TAILQ_FIRST(&w->w_lingering)) != NULL &&
	    c->cn_deadline <= w->w_now)
		loop_release(w, c);
}

/* peek_next_deadline - the earliest deadline of peeking, silent, lingering */
uint64_t
peek_next_deadline(const struct worker *w)
{
	const struct conn	*p = TAILQ_FIRST(&w->w_peeking);
	const struct conn	*l = TAILQ_FIRST(&w->w_lingering);
	const struct conn	*s = TAILQ_FIRST(&w->w_silent);
	uint64_t		 next = UINT64_MAX;

	if (p != NULL)
		next = p->cn_deadline;
	if (s != NULL && peek_silent_deadline(w, s) < next)
		next = peek_silent_deadline(w, s);
	if (l != NULL && l->cn_deadline < next)
		next = l->cn_deadline;
	return next;
}
