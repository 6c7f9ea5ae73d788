/*
 * wire.c - a connection's bytes as peeked, and the handoff header made
 * of them: a leaf that peek.c and dispatch.c both use.
 *
 * Runs in the worker, unprivileged, on bytes the client controls.  The
 * ClientHello is only ever peeked (MSG_PEEK): the backend must read it
 * from the first byte.  The worker keeps one parse at a time, in
 * w_wire, w_hello and w_name: whoever calls wire_peek uses them before
 * the next connection's turn.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "worker.h"

/*
 * wire_peek - peek at everything c's client sent and parse it; with a
 * whole hello, w_name holds its normalized name (w_name_len -1: none).
 * *got is what recv returned: 0 at EOF, -1 with errno.
 */
enum hello_result
wire_peek(struct worker *w, struct conn *c, ssize_t *got)
{
	struct hello		*hl = &w->w_hello;
	enum hello_result	 r;

	*got = recv(c->cn_fd, w->w_wire, sizeof(w->w_wire),
	    MSG_PEEK | MSG_DONTWAIT);
	if (*got <= 0)
		return HELLO_NEED_MORE;
	c->cn_peeked = (uint32_t)*got;
	conn_heard(w, c);
	r = hello_parse(w->w_wire, (size_t)*got, hl);
	if (r == HELLO_COMPLETE)
		w->w_name_len = hl->hl_name == NULL ? -1 : hostname_normalize(
		    hl->hl_name, hl->hl_name_len, w->w_name);
	return r;
}

/*
 * wire_header - the PROXY v2 header for c into w_payload, from the hello
 * wire_peek parsed last (of c: the caller's promise); its length, or -1
 */
ssize_t
wire_header(struct worker *w, struct conn *c)
{
	struct proxy_info		 pi;
	const union conn_addr		*local;

	memset(&pi, 0, sizeof(pi));
	memcpy(&pi.pi_src, &c->cn_peer, sizeof(c->cn_peer));
	if ((local = conn_local(w, c)) == NULL)
		return -1;
	memcpy(&pi.pi_dst, local, sizeof(*local));
	/* Not TLS, or silent: the addresses, and nothing of a hello. */
	if (c->cn_route != CONN_ROUTE_HELLO)
		return proxy_encode(&pi, w->w_payload, sizeof(w->w_payload));
	if (w->w_name_len > 0) {
		pi.pi_authority = w->w_name;
		pi.pi_authority_len = (size_t)w->w_name_len;
	}
	pi.pi_alpn = w->w_hello.hl_alpn;
	pi.pi_alpn_len = w->w_hello.hl_alpn_len;
	pi.pi_ech = w->w_hello.hl_ech;
	return proxy_encode(&pi, w->w_payload, sizeof(w->w_payload));
}
