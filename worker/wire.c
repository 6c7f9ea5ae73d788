/*
 * wire.c - a connection's bytes as peeked, and the handoff header made
 * of them: a leaf that peek.c and dispatch.c both use.
 *
 * Runs in the worker, unprivileged, on bytes the client controls.  The
 * ClientHello is only ever peeked (MSG_PEEK): the backend must read it
 * from the first byte.  The worker keeps one parse at a time, in
 * w_wire, w_hello and w_name: whoever calls wire_peek uses them before
 * the next connection's turn.
 *
 * A hello may come one byte per segment, and each peek copies all that
 * came so far: so that a dribbled hello costs about what a whole one
 * does, each connection keeps its parse (cn_walk; the parser walks only
 * what is new), and its socket's SO_RCVLOWAT is raised to the bytes the
 * hello needs at least before it can be whole (hl_need), so that the
 * edge-triggered epoll wakes the worker once they are there, not on
 * every segment.  A FIN, a reset or an error still wake it at once
 * (tcp_poll reports them whatever the low-water mark), and the peek
 * deadline still runs.  The kernel also wakes it when tiny segments
 * fill the receive buffer; a wakeup with fewer bytes queued than the
 * mark is then let go without a peek (wire_short).  A socket handed on
 * gets SO_RCVLOWAT 1 back first (wire_release): the backend reads it as
 * any socket.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "log.h"
#include "worker.h"

/*
 * wire_set_lowat - c's socket's SO_RCVLOWAT to want bytes, unless it is
 * that already; 0, or -1 with errno
 */
static int
wire_set_lowat(struct conn *c, size_t want)
{
	int	 v = (int)want;

	if (want == c->cn_lowat)
		return 0;
	if (setsockopt(c->cn_fd, SOL_SOCKET, SO_RCVLOWAT, &v, sizeof(v)) == -1)
		return -1;
	c->cn_lowat = (uint16_t)want;
	return 0;
}

/*
 * wire_lowat - have c's socket report readable once its receive queue
 * holds want bytes, counted from the first: peeking consumes nothing.
 * Bounded by the largest hello; Linux bounds it again by half the
 * largest receive buffer and grows the buffer to fit (tcp_set_rcvlowat).
 * A failure only costs wakeups: each segment wakes the worker, as
 * without it.
 */
static void
wire_lowat(struct conn *c, size_t want)
{
	if (want > HELLO_WIRE_MAX)
		want = HELLO_WIRE_MAX;
	if (wire_set_lowat(c, want) == -1)
		log_debug("%s: SO_RCVLOWAT %zu: %s", __func__, want,
		    strerror(errno));
}

/*
 * wire_short - whether c's receive queue holds fewer bytes than the
 * low-water mark its hello needs: then a wakeup was the kernel's for
 * memory, not for the hello, and there is nothing to peek.  Tiny
 * segments fill the receive buffer with overhead, and tcp_poll reports
 * a socket readable whatever the mark when the buffer is nearly full or
 * the window nearly closed: one byte per segment woke the worker about a
 * thousand times a hello, each peek walking thousands of socket buffers.
 * SIOCINQ counts the queue without walking it.
 */
int
wire_short(struct conn *c)
{
	int	 queued;

	if (c->cn_lowat <= 1 || ioctl(c->cn_fd, SIOCINQ, &queued) == -1)
		return 0;
	return queued >= 0 && (size_t)queued < c->cn_lowat;
}

/*
 * wire_blocking - c's socket in blocking mode again, as the worker
 * accepted it and libsnitch promises it: a backend that received it
 * and died before acknowledging it may have made it non-blocking (Go's
 * runtime and asyncio do), on the open file description the worker's
 * copy shares.  0, or -1 with errno.
 */
int
wire_blocking(struct conn *c)
{
	int	fl;

	if ((fl = fcntl(c->cn_fd, F_GETFL)) == -1)
		return -1;
	if (!(fl & O_NONBLOCK))
		return 0;
	return fcntl(c->cn_fd, F_SETFL, fl & ~O_NONBLOCK);
}

/*
 * wire_peek - peek at everything c's client sent and go on parsing it
 * where the last peek stopped; with a whole hello, w_name holds its
 * normalized name (w_name_len -1: none).  *got is what recv returned: 0
 * at EOF, -1 with errno.  A connection whose hello was whole before
 * (queued since, or handed on a channel that died) is parsed again from
 * its first byte, for w_hello and to see that it is still all there.
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
	r = hello_resume(w->w_wire, (size_t)*got, &c->cn_walk, hl);
	COUNTERS_ADD(w->w_counters->cw_hello_examined, hl->hl_examined);
	/*
	 * Until the first record header is whole, every byte may decide
	 * (not TLS, for non_tls): the low-water mark stays at 1.
	 */
	if (r == HELLO_NEED_MORE && (size_t)*got >= HELLO_RECORD_HDR)
		wire_lowat(c, (size_t)*got + hl->hl_need);
	if (r == HELLO_COMPLETE)
		w->w_name_len = hl->hl_name == NULL ? -1 : hostname_normalize(
		    hl->hl_name, hl->hl_name_len, w->w_name);
	return r;
}

/*
 * wire_proxy_peek - peek at the PROXY header c's proxy sends first (a
 * proxy_protocol listener's connection) and go on walking it where the
 * last peek stopped; w_proxyin holds the answer.  A whole header is
 * consumed, exactly its px_len bytes: the hello behind it stays queued,
 * for the peeks that follow (from its first byte, a fresh walk) and for
 * the backend.  Only the header's bytes are peeked: at most
 * PROXYIN_V2_MAX, and no byte after it is looked at.  *got is what recv
 * returned: 0 at EOF, -1 with errno.
 */
enum proxyin_result
wire_proxy_peek(struct worker *w, struct conn *c, ssize_t *got)
{
	struct proxyin		*px = &w->w_proxyin;
	enum proxyin_result	 r;
	ssize_t			 n;

	*got = recv(c->cn_fd, w->w_wire, PROXYIN_V2_MAX, MSG_PEEK |
	    MSG_DONTWAIT);
	if (*got <= 0)
		return PROXYIN_NEED_MORE;
	c->cn_peeked = (uint32_t)*got;
	r = proxyin_resume(w->w_wire, (size_t)*got, &c->cn_proxy_walk, px);
	if (r == PROXYIN_NEED_MORE)
		wire_lowat(c, (size_t)*got + px->px_need);
	if (r != PROXYIN_DONE)
		return r;
	/* Peeked already, so queued: one recv takes exactly the header. */
	n = recv(c->cn_fd, w->w_wire, px->px_len, MSG_DONTWAIT);
	if (n != (ssize_t)px->px_len || wire_set_lowat(c, 1) == -1) {
		px->px_reason = "header could not be consumed";
		return PROXYIN_INVALID;
	}
	return r;
}

/*
 * wire_http_keep - the whole head just walked is c's: keep what the
 * access line and the handoff header need of it beyond w_wire's turn
 */
static void
wire_http_keep(struct worker *w, const struct conn *c)
{
	const struct httphead	*hh = &w->w_http;
	size_t			 n = hh->hh_method_len;

	w->w_http_name_len = hh->hh_name_len;
	if (hh->hh_name_len > 0)
		memcpy(w->w_http_name, hh->hh_name, (size_t)hh->hh_name_len);
	/* A method is a token (RFC 9110 9.1): nothing in it needs escaping. */
	if (n > WIRE_METHOD_MAX)
		n = WIRE_METHOD_MAX;
	memcpy(w->w_http_method, hh->hh_method, n);
	w->w_http_method[n] = '\0';
	w->w_http_acme = hh->hh_acme;
	w->w_http_conn = c;
	w->w_http_use = c->cn_use;
}

/*
 * wire_http_peek - peek at c's HTTP request head (a listen_http
 * listener's connection) and go on walking it where the last peek
 * stopped; w_http holds the answer and, for a whole head, w_http_name
 * its normalized name.  At most HTTPHEAD_MAX + 1 bytes are peeked: one
 * more than a head may have decides that it is too large; what comes
 * after the head is left to the backend.  *got is what recv returned.
 */
enum httphead_result
wire_http_peek(struct worker *w, struct conn *c, ssize_t *got)
{
	struct httphead		*hh = &w->w_http;
	enum httphead_result	 r;

	_Static_assert(HTTPHEAD_MAX + 1 <= sizeof(w->w_wire), "w_wire");
	*got = recv(c->cn_fd, w->w_wire, HTTPHEAD_MAX + 1, MSG_PEEK |
	    MSG_DONTWAIT);
	if (*got <= 0)
		return HTTPHEAD_NEED_MORE;
	c->cn_peeked = (uint32_t)*got;
	conn_heard(w, c);
	r = httphead_resume(w->w_wire, (size_t)*got, &c->cn_http_walk, hh);
	if (r == HTTPHEAD_NEED_MORE)
		wire_lowat(c, (size_t)*got + hh->hh_need);
	if (r == HTTPHEAD_DONE)
		wire_http_keep(w, c);
	return r;
}

/* wire_http_head - whether the head kept last (wire_http_keep) is c's */
int
wire_http_head(const struct worker *w, const struct conn *c)
{
	return w->w_http_conn == c && w->w_http_use == c->cn_use;
}

/*
 * wire_whole - peek at c again, with its route's parser: whether what
 * it sent first is still whole (a hello, a request head; a client of
 * non_tls or silent has nothing to be whole).  *got as for wire_peek.
 */
int
wire_whole(struct worker *w, struct conn *c, ssize_t *got)
{
	if (c->cn_route == CONN_ROUTE_HTTP)
		return wire_http_peek(w, c, got) == HTTPHEAD_DONE;
	return wire_peek(w, c, got) == HELLO_COMPLETE ||
	    c->cn_route != CONN_ROUTE_HELLO;
}

/*
 * wire_release - c's socket as its backend must find it: SO_RCVLOWAT
 * back at 1, or a backend's read would wait for bytes the hello needed;
 * 0, or -1 with errno
 */
int
wire_release(struct conn *c)
{
	return wire_set_lowat(c, 1);
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
	/* Proxied: where the client connected is the header's to say. */
	if (c->cn_dst.sa.sa_family != AF_UNSPEC)
		local = &c->cn_dst;
	else if ((local = conn_local(w, c)) == NULL)
		return -1;
	memcpy(&pi.pi_dst, local, sizeof(*local));
	if (c->cn_tlvs_len > 0) {
		pi.pi_tlvs = w->w_upstream_tlvs[c - w->w_conns];
		pi.pi_tlvs_len = c->cn_tlvs_len;
	}
	/* HTTP: the Host as the authority, as SNI would be; no ALPN. */
	if (c->cn_route == CONN_ROUTE_HTTP && wire_http_head(w, c) &&
	    w->w_http_name_len > 0) {
		pi.pi_authority = w->w_http_name;
		pi.pi_authority_len = (size_t)w->w_http_name_len;
	}
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
