/*
 * http.c - a listen_http listener's connection, once bytes of its
 * request head are peeked: route it by its Host, or answer it.
 *
 * Runs in the worker, unprivileged, on bytes the client controls.  The
 * client speaks HTTP/1.x in clear; common/httphead.c walks its request
 * head (wire.c peeks it, never reads it: the backend reads the request
 * from its first byte) and gives the routing name: the absolute-form
 * target's host, else Host's, normalized as SNI names are.  peek.c keeps
 * the connection's life (timers, pauses, lingering) as for a hello.
 *
 *  - A whole head is routed by routes_rank as a hello is, by its name
 *    alone: ALPN routes do not apply (no protocol was offered); no name
 *    (HTTP/1.0 without Host, an IP literal) is the default route.  A
 *    request for an ACME http-01 challenge (RFC 8555 8.3) goes to
 *    acme_http's backend whatever its name, when acme_http is set.
 *  - A head that cannot be routed is answered with a short HTTP/1.1
 *    response and closed as a refused hello is (outcome_http): 400
 *    malformed or not HTTP at all, 414 or 431 too large, 505 another
 *    version, 421 (Misdirected Request, RFC 9110 15.5.20) for a name no
 *    route takes, 503 when the backend cannot take it (dispatch.c).
 *  - A TLS client (first byte 0x16) gets TLS alert 10, unexpected_message:
 *    a TLS client understands it, and a ClientHello is what this
 *    listener did not expect.
 */
#include <errno.h>
#include <sys/epoll.h>

#include "alert.h"
#include "worker.h"

#define HTTP_REASON_MAX	64

/* http_route - a whole head: pick its channel and hand it on */
static void
http_route(struct worker *w, struct conn *c)
{
	struct routes_tenants	 tenants = { tenant_route, w };
	enum routes_level	 level;
	int			 b;

	if (w->w_http_acme && w->w_conf.wc_acme_http != -1) {
		dispatch_route(w, c, w->w_conf.wc_acme_http);
		return;
	}
	b = routes_rank(w->w_conf.wc_names, w->w_conf.wc_routes,
	    w->w_conf.wc_ntenants > 0 ? &tenants : NULL, w->w_conf.wc_default,
	    w->w_http_name, w->w_http_name_len, NULL, 0, &c->cn_alpn_route,
	    &level);
	if (b == ROUTES_FULL) {
		outcome_http(w, c, -1, 503, "backend-busy");
		return;
	}
	if (b == ROUTES_NONE) {
		outcome_http(w, c, -1, 421, "no-route");
		return;
	}
	dispatch_route(w, c, b);
}

/* http_read - the client sent something: is its request head whole? */
void
http_read(struct worker *w, struct conn *c, uint32_t events)
{
	char			detail[HTTP_REASON_MAX];
	enum httphead_result	r;
	ssize_t			got;

	r = wire_http_peek(w, c, &got);
	if (got < 0 && errno == EAGAIN && !(events & (EPOLLERR | EPOLLHUP)))
		return;
	switch (r) {
	case HTTPHEAD_DONE:
		http_route(w, c);
		return;
	case HTTPHEAD_NEED_MORE:
		if (got > 0 && !(events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
			return;
		/* EOF, reset, or a half-close before the head was whole. */
		outcome_log(w, c, NULL, -1, OUTCOME_CLIENT_GONE, 0, NULL);
		outcome_close(w, c);
		return;
	case HTTPHEAD_TLS:
		outcome_refuse(w, c, NULL, -1, ALERT_UNEXPECTED_MESSAGE,
		    "tls-on-http");
		return;
	case HTTPHEAD_NOT_HTTP:
		outcome_http(w, c, -1, 400, "not-http");
		return;
	case HTTPHEAD_MALFORMED:
	case HTTPHEAD_TOO_LARGE:
	case HTTPHEAD_VERSION:
		outcome_reason(w->w_http.hh_reason, detail, sizeof(detail));
		outcome_http(w, c, -1, w->w_http.hh_status, detail);
		return;
	}
}

/*
 * http_on_tls - c, on a TLS listener without non_tls, is not TLS: when
 * its first bytes are a whole HTTP/1.x request head, tell it to use
 * https (400, as nginx and sniproxy answer plain HTTP on a TLS port)
 * and return 1; else 0, and it is closed as before.  Only a whole head
 * is answered: text to a client of another protocol would mean nothing.
 */
int
http_on_tls(struct worker *w, struct conn *c)
{
	if (httphead_parse(w->w_wire, c->cn_peeked, &w->w_http) !=
	    HTTPHEAD_DONE)
		return 0;
	outcome_http(w, c, -1, 400, "http-on-tls");
	return 1;
}
