/*
 * peek.c - one client connection from accept until it is routed: wait
 * for its whole ClientHello, pick its route, or end it.  On a
 * listen_http listener the same life, with a request head for the
 * hello: the timers, pauses and lingering are here, the head is http.c's.
 *
 * Runs in the worker, unprivileged, on bytes the client controls.  The
 * hello is only ever peeked (wire.c): the backend must read it from the
 * first byte.  Because peeking does not consume, the socket is watched
 * edge-triggered: each arriving segment wakes us once.
 *
 * A whole hello is routed by routes_rank (common/routes.c), the one
 * ranking of every level, with the tenants' sockets (tenant.c) as its
 * tenant level, and handed to dispatch.c.  A client that speaks another
 * protocol (`non_tls`) or nothing at all (`silent`) may be routed too,
 * as it is.  Everything else ends here with its outcome (outcome.c):
 * an alert for a hello that is no hello or names no route, not-tls,
 * timeout, client-gone.
 */
#include <errno.h>
#include <sys/epoll.h>

#include "alert.h"
#include "log.h"
#include "sandbox.h"
#include "worker.h"

/* peek_route - a whole hello: pick its channel and hand it on */
static void
peek_route(struct worker *w, struct conn *c)
{
	struct routes_tenants	 tenants = { tenant_route, w };
	enum routes_level	 level;
	int			 b;

	b = routes_rank(w->w_conf.wc_names, w->w_conf.wc_routes,
	    w->w_conf.wc_ntenants > 0 ? &tenants : NULL, w->w_conf.wc_default,
	    w->w_name, w->w_name_len, w->w_hello.hl_alpn,
	    w->w_hello.hl_alpn_len, &c->cn_alpn_route, &level);
#ifdef SNITCH_SANDBOX_PROBE
	sandbox_probe(w->w_name, w->w_name_len);
#endif
	if (b == ROUTES_FULL) {
		outcome_refuse(w, c, &w->w_hello, -1, ALERT_INTERNAL_ERROR,
		    "backend-busy");
		return;
	}
	if (b == ROUTES_NONE) {
		outcome_refuse(w, c, &w->w_hello, -1, ALERT_UNRECOGNIZED_NAME,
		    "no-route");
		return;
	}
	dispatch_route(w, c, b);
}

/*
 * peek_other - hand a client that is not TLS, or silent, to the backend
 * for it, as it is: nothing has been read, the backend reads its first
 * byte (if any came) first.
 */
static void
peek_other(struct worker *w, struct conn *c, enum conn_route route)
{
	c->cn_route = route;
	dispatch_route(w, c, route == CONN_ROUTE_NON_TLS ?
	    w->w_conf.wc_non_tls : w->w_conf.wc_silent);
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
	/* Without non_tls: an HTTP client is told to use https. */
	if (w->w_conf.wc_non_tls == -1 && http_on_tls(w, c))
		return;
	outcome_log(w, c, NULL, -1, OUTCOME_NOT_TLS, 0, NULL);
	outcome_close(w, c);
}

/* peek_read - the client sent something: is the hello complete? */
static void
peek_read(struct worker *w, struct conn *c, uint32_t events)
{
	enum hello_result	r;
	ssize_t			got;

	/*
	 * The hello cannot be whole yet: the kernel woke us for memory, and
	 * would again on each segment.  Wait for the low-water mark with
	 * EPOLLIN off a while; a FIN or a reset still wakes us.
	 */
	if (!(events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) && wire_short(c)) {
		if (events != 0 && conn_pause(w, c) == -1)
			log_warn("%s: epoll_ctl", __func__);
		return;
	}
	if (c->cn_route == CONN_ROUTE_HTTP) {
		http_read(w, c, events);
		return;
	}
	r = wire_peek(w, c, &got);
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
		outcome_log(w, c, NULL, -1, OUTCOME_CLIENT_GONE, 0, NULL);
		outcome_close(w, c);
		return;
	case HELLO_NOT_TLS:
		peek_not_tls(w, c, events);
		return;
	case HELLO_UNEXPECTED:
		outcome_refuse(w, c, NULL, -1, ALERT_UNEXPECTED_MESSAGE,
		    "not-a-hello");
		return;
	case HELLO_MALFORMED:
		outcome_refuse(w, c, NULL, -1, ALERT_DECODE_ERROR,
		    "malformed-hello");
		return;
	}
}

/*
 * peek_start - a new connection: its hello is often here already (the
 * listener defers accept until data comes), so peek first and ask epoll
 * only when the connection is still open after that.
 */
void
peek_start(struct worker *w, int listener, int fd, const union conn_addr *peer)
{
	peek_begin(w, conn_start(w, listener, fd, peer));
}

/*
 * peek_begin - c starts peeking for its hello: just accepted, or its
 * PROXY header just read (upstream.c: then it may be watched already)
 */
void
peek_begin(struct worker *w, struct conn *c)
{
	evict_over_source(w, c);
	peek_read(w, c, 0);
	if (c->cn_state == CONN_PEEK && c->cn_peeked == 0)
		conn_silent_listen(w, c);
	/* Handed (and kept until acknowledged: nothing more to read). */
	if (c->cn_state == CONN_FREE || c->cn_state == CONN_SENT ||
	    c->cn_watched || conn_watch(w, c) == 0)
		return;
	log_warn("%s: epoll_ctl", __func__);
	if (c->cn_state == CONN_PEEK) {
		outcome_log(w, c, NULL, -1, OUTCOME_ERROR, 0, NULL);
		outcome_close(w, c);
	} else if (c->cn_state == CONN_LINGER)
		conn_release(w, c);	/* counted and logged already */
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
		if (alert_drain(c->cn_fd, w->w_wire, sizeof(w->w_wire)) != 0 ||
		    (events & (EPOLLHUP | EPOLLERR)))
			conn_release(w, c);
		break;
	default:
		/* Queued: the backend gets it as it is, even if gone. */
		break;
	}
}

/*
 * peek_timeout - c had its time for a hello, or for a first byte: closed
 * with a FIN, but an HTTP client that began its head is answered 408
 */
static void
peek_timeout(struct worker *w, struct conn *c)
{
	/* A slow client is no stall; one that the pressure cut short is */
	if (conn_pressed(w))
		penalty_stall(w, c);
	if (c->cn_route == CONN_ROUTE_HTTP && c->cn_peeked > 0) {
		outcome_http_timeout(w, c);
		return;
	}
	outcome_log(w, c, NULL, -1, OUTCOME_TIMEOUT, 0, NULL);
	outcome_close(w, c);
}

/*
 * peek_silent - c sent nothing in its time for a first byte: to the
 * silent backend, or without one (under pressure) closed as timed out.
 * Bytes may have come since epoll last said so: peek once more first,
 * and a client that spoke after all is peeked as any other.
 */
static void
peek_silent(struct worker *w, struct conn *c)
{
	conn_heard(w, c);
	peek_read(w, c, 0);
	if (c->cn_state != CONN_PEEK || c->cn_peeked != 0)
		return;
	if (w->w_conf.wc_silent != -1) {
		peek_other(w, c, CONN_ROUTE_SILENT);
		return;
	}
	peek_timeout(w, c);
}

/*
 * peek_recheck - c's pause is over: still short of its low-water mark,
 * it stays paused; else it is peeked, and reads events again
 */
static void
peek_recheck(struct worker *w, struct conn *c)
{
	if (wire_short(c)) {
		if (conn_pause(w, c) == -1)
			log_warn("%s: epoll_ctl", __func__);
		return;
	}
	if (conn_unpause(w, c) == -1) {
		log_warn("%s: epoll_ctl", __func__);
		outcome_log(w, c, NULL, -1, OUTCOME_ERROR, 0, NULL);
		outcome_close(w, c);
		return;
	}
	peek_read(w, c, 0);
}

/* peek_expire - end the connections whose time is up (conn.c says when) */
void
peek_expire(struct worker *w)
{
	struct conn	*c;

	while ((c = conn_paused_due(w)) != NULL)
		peek_recheck(w, c);
	while ((c = conn_silent_due(w)) != NULL)
		peek_silent(w, c);
	while ((c = conn_due(w, CONN_PEEK)) != NULL)
		peek_timeout(w, c);
	while ((c = conn_due(w, CONN_LINGER)) != NULL)
		conn_release(w, c);
}
