/*
 * upstream.c - a connection on a proxy_protocol listener, from accept
 * until its PROXY header is read: who sent it, and who the client is.
 *
 * Runs in the worker, unprivileged, on bytes a proxy sends (common/
 * proxyin.c parses them; wire.c peeks and consumes).  A listener named
 * by proxy_protocol takes connections only from proxy_from's netblocks
 * (a load balancer), each beginning with a PROXY header, version 1 or 2:
 *
 *  - a peer outside proxy_from is closed at once with a FIN, before any
 *    of its bytes is read: outcome proxy-refused;
 *  - a header that breaks a rule, or the connection's first bytes when
 *    they are no header, ends it the same way: proxy-invalid, with the
 *    rule in reason=;
 *  - a header without a client (v2 LOCAL, v2 UNSPEC, v1 UNKNOWN: a load
 *    balancer's health check) is consumed and the connection closed
 *    politely (FIN, nothing sent): health-check, not an error;
 *  - a header with a client is consumed, exactly its bytes, and the
 *    client's hello behind it is peeked as on any listener (peek.c),
 *    with the header's source as the client everywhere: per-source
 *    limits, the access log, the handoff's PROXY v2 header.
 *
 * The header comes with the connection's first segment from any real
 * proxy, so a connection still here has stalled: it is on w_proxying,
 * in no netblock's count (its peer is the proxy, shared by all its
 * clients: counting it would lock every client out with a few stalled
 * ones), and is the first thing evicted when the table is full
 * (evict.c).  It has peek_timeout from accept for the header; its hello
 * then has peek_timeout from the header (conn.c).
 */
#include <errno.h>
#include <stdio.h>
#include <sys/epoll.h>

#include "log.h"
#include "worker.h"

#define UPSTREAM_REASON_MAX	64

/* upstream_end - c ends here with outcome (and detail): logged, FIN */
static void
upstream_end(struct worker *w, struct conn *c, enum outcome outcome,
    const char *detail)
{
	outcome_log(w, c, NULL, -1, outcome, 0, detail);
	outcome_close(w, c);
}

/* upstream_read - c's proxy sent something: is its header whole? */
static void
upstream_read(struct worker *w, struct conn *c, uint32_t events)
{
	char			detail[UPSTREAM_REASON_MAX];
	enum proxyin_result	r;
	ssize_t			got;

	r = wire_proxy_peek(w, c, &got);
	if (got < 0 && errno == EAGAIN && !(events & (EPOLLERR | EPOLLHUP)))
		return;
	switch (r) {
	case PROXYIN_NEED_MORE:
		if (got > 0 && !(events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
			return;
		upstream_end(w, c, OUTCOME_CLIENT_GONE, "reason=proxy-header");
		return;
	case PROXYIN_INVALID:
		outcome_reason(w->w_proxyin.px_reason, detail, sizeof(detail));
		upstream_end(w, c, OUTCOME_PROXY_INVALID, detail);
		return;
	case PROXYIN_DONE:
		break;
	}
	if (w->w_proxyin.px_command == PROXYIN_LOCAL) {
		upstream_end(w, c, OUTCOME_HEALTH_CHECK, NULL);
		return;
	}
	conn_proxied(w, c, &w->w_proxyin);
	peek_begin(w, c);
}

/*
 * upstream_start - a new connection on a proxy_protocol listener: from
 * a peer of proxy_from, its header is often here already (defer_accept)
 */
void
upstream_start(struct worker *w, int listener, int fd,
    const union conn_addr *peer)
{
	struct conn	*c = conn_start(w, listener, fd, peer);

	if (!wconf_proxy_allowed(&w->w_conf, &peer->sa)) {
		upstream_end(w, c, OUTCOME_PROXY_REFUSED,
		    "reason=not-in-proxy_from");
		return;
	}
	upstream_read(w, c, 0);
	/* Still here: wait for the rest.  Otherwise peek_begin watches it
	 * if it needs watching. */
	if (c->cn_state != CONN_PROXY || conn_watch(w, c) == 0)
		return;
	log_warn("%s: epoll_ctl", __func__);
	upstream_end(w, c, OUTCOME_ERROR, NULL);
}

/* upstream_event - epoll says something about c, reading its header */
void
upstream_event(struct worker *w, struct conn *c, uint32_t events)
{
	upstream_read(w, c, events);
}

/* upstream_expire - end the connections whose header did not come in time */
void
upstream_expire(struct worker *w)
{
	struct conn	*c;

	while ((c = conn_due(w, CONN_PROXY)) != NULL)
		upstream_end(w, c, OUTCOME_TIMEOUT, "reason=proxy-header");
}
