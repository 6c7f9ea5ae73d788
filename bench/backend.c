/*
 * backend.c - bench-backend, the server end of every benchmark run.
 *
 * Runs as whoever starts it (bench/run.sh), on loopback only.  It does
 * the same work per connection whatever brought the connection in: read
 * the first TLS record (the ClientHello: a 5-byte header, then its
 * length), write a reply filled with this backend's letter, close.  The
 * reply is 64 bytes (-r), or, when the hello's random starts with the
 * bulk marker (see below), the number of MiB the marker says.  With the
 * upload marker it first reads and drops that many MiB sent after the
 * hello, then writes the 64 bytes.  The letter lets the load generator
 * check that the switch routed the name to the right backend.
 *
 * Two front doors, both optional and both in one epoll loop:
 *  -p PORT   accept TCP on 127.0.0.1:PORT (direct runs, and HAProxy,
 *            nginx and sniproxy connecting to it);
 *  -s PATH   receive sockets from SNItch workers through libsnitch's fd
 *            level API (snitch_listen, snitch_accept, snitch_recv).
 * With -h it serves plain HTTP instead, at both doors (the HTTP routing
 * runs: SNItch's listen_http hands it the client's socket with the
 * request unread; nginx, HAProxy and sniproxy connect to its TCP port):
 * read the request head up to its blank line (at most
 * BACKEND_HTTP_HEAD_MAX bytes; a request here has no body), answer
 * "HTTP/1.1 200 OK" with Content-Length, "Connection: close" and a body
 * of the reply's size filled with the letter, close.
 * With -x, a TCP connection may begin with a PROXY protocol header,
 * version 1 or 2 (HAProxy's send-proxy-v2, nginx's proxy_protocol on:
 * the PROXY phase of bench/run.sh; sniproxy sends none), read before the
 * hello.  Whichever
 * door: a client in 198.51.100.0/24, the fake clients of bench-load -P,
 * is one the switch was told by a PROXY header and passed on; those are
 * counted, by the way they came (SNItch's handoff, a v1 or v2 header),
 * and the counts end the line printed at exit ("told_...=").
 * A new connection is served at once: with SNItch the hello is already
 * there, behind a proxy it usually is not yet, and the socket then waits
 * in epoll.  Every recv and send uses MSG_DONTWAIT, so sockets from both
 * doors are used as they come (SNItch hands them over in blocking mode).
 *
 * Bulk markers, written by bench-load: the ClientHello's random begins
 * with "BULK" (download) or "UPLD" (upload) and a 32-bit big-endian
 * count of MiB to send, or to read after the hello.
 *
 * One process, single-threaded.  SIGTERM or SIGINT stop it gracefully
 * (backend_quiesce): it takes no new connection, serves every one it has
 * already been given (at most BACKEND_DRAIN_MS longer), and exits with a
 * line of counts on stderr.  The restart runs of bench/run.sh use that
 * as the "graceful restart" of every system, so it is the same for all:
 *  - TCP: the connections already in the accept queue are accepted, then
 *    the listener is closed (a SYN that comes between the two is reset:
 *    TCP has no way to refuse new connections and keep the queued ones);
 *  - SNItch: the socket file is removed first (a worker's next connect
 *    finds no socket: a restart), the channels still queued on the
 *    listener are accepted, then each channel is shut for reading, so a
 *    worker's next send fails with EPIPE instead of its client being
 *    lost in a channel nobody reads, and what was sent before is
 *    received and served.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "snitch.h"

#define BACKEND_EVENTS		256
#define BACKEND_BATCH		64	/* accepts or receives per wakeup */
#define BACKEND_REPLY_DEFAULT	64
#define BACKEND_CHUNK		(256 * 1024)
#define BACKEND_RECORD_HEADER	5
/* record header, handshake type and length, version: then the random */
#define BACKEND_RANDOM_AT	(BACKEND_RECORD_HEADER + 4 + 2)
#define BACKEND_HEAD		(BACKEND_RANDOM_AT + 8)
#define BACKEND_RECORD_MAX	(BACKEND_RECORD_HEADER + 16384 + 256)
#define BACKEND_CHANNELS	256	/* worker channels at once, at most */
#define BACKEND_DRAIN_MS	5000	/* SIGTERM: connections may finish */
#define BACKEND_PROXY_MAX	256	/* -x: a header's bytes, at most */
#define BACKEND_PROXY_V1_MAX	107	/* a v1 line, CRLF included */
#define BACKEND_TOLD_NET	0xc6336400U	/* 198.51.100.0/24 */
#define BACKEND_HTTP_HEAD_MAX	8192	/* -h: a request head, at most */

enum backend_kind { KIND_TCP = 1, KIND_SNITCH, KIND_CHANNEL, KIND_CONN };

#define EV(kind, fd)	(((uint64_t)(kind) << 32) | (uint32_t)(fd))
#define EV_KIND(u)	((int)((u) >> 32))
#define EV_FD(u)	((int)(uint32_t)(u))

/* one client connection, indexed by its fd */
struct bconn {
	uint32_t	bc_got;		/* bytes of the first record read */
	uint32_t	bc_need;	/* its full size, 0 until the header */
	uint64_t	bc_left;	/* reply bytes still to send */
	uint64_t	bc_drain;	/* upload bytes still to read */
	uint8_t		bc_head[BACKEND_HEAD];
	uint8_t		bc_in_epoll;
	uint8_t		bc_want_out;
	uint8_t		bc_header;	/* -x: its PROXY header is still due */
	uint8_t		bc_head_end;	/* -h: of "\r\n\r\n", how much is seen */
};

/* how a backend was told a connection's client: bk_told's index */
enum backend_told { TOLD_HANDOFF, TOLD_PROXY_V1, TOLD_PROXY_V2, TOLD_KINDS };

struct backend {
	int		 bk_epoll;
	char		 bk_letter;
	size_t		 bk_reply;
	struct bconn	*bk_conns;
	size_t		 bk_nconns;
	uint64_t	 bk_served;
	uint64_t	 bk_errors;
	uint64_t	 bk_refused;	/* messages libsnitch refused */
	uint64_t	 bk_active;	/* connections being served */
	uint64_t	 bk_told[TOLD_KINDS];	/* clients in BACKEND_TOLD_NET */
	int		 bk_proxy;	/* -x */
	uint8_t		*bk_http;	/* -h: the whole response, or NULL */
	size_t		 bk_http_len;
	int		 bk_tcp;	/* listeners, or -1 */
	int		 bk_listen;
	const char	*bk_path;
	int		 bk_chans[BACKEND_CHANNELS];
	int		 bk_nchans;
};

static volatile sig_atomic_t	backend_stop;
static uint8_t			backend_scratch[BACKEND_RECORD_MAX];
static uint8_t			backend_fill[BACKEND_CHUNK];
static uint8_t			backend_sink[BACKEND_CHUNK];	/* uploads */
static struct snitch_conn	backend_handed;	/* large: not on the stack */

/* backend_signal - SIGTERM or SIGINT: leave the loop */
static void
backend_signal(int sig)
{
	(void)sig;
	backend_stop = 1;
}

/* backend_usage - how to start it */
static void __attribute__((noreturn))
backend_usage(void)
{
	fprintf(stderr, "usage: bench-backend -n LETTER [-p PORT] [-s PATH] "
	    "[-r REPLY_BYTES] [-x | -h]\n");
	exit(2);
}

/* backend_watch - register fd, or change what we wait for */
static int
backend_watch(struct backend *bk, int fd, int want_out)
{
	struct bconn		*bc = &bk->bk_conns[fd];
	struct epoll_event	 ev;

	ev.events = want_out ? EPOLLOUT : EPOLLIN;
	ev.data.u64 = EV(KIND_CONN, fd);
	if (epoll_ctl(bk->bk_epoll, bc->bc_in_epoll ? EPOLL_CTL_MOD :
	    EPOLL_CTL_ADD, fd, &ev) == -1)
		return -1;
	bc->bc_in_epoll = 1;
	bc->bc_want_out = (uint8_t)want_out;
	return 0;
}

/* backend_done - the connection is finished, well or not */
static void
backend_done(struct backend *bk, int fd, int ok)
{
	/*
	 * A handed-off socket may still be open in the SNItch worker for a
	 * moment: only EPOLL_CTL_DEL, not close, takes it out of our set.
	 */
	if (bk->bk_conns[fd].bc_in_epoll)
		(void)epoll_ctl(bk->bk_epoll, EPOLL_CTL_DEL, fd, NULL);
	memset(&bk->bk_conns[fd], 0, sizeof(bk->bk_conns[fd]));
	close(fd);
	bk->bk_active--;
	if (ok)
		bk->bk_served++;
	else
		bk->bk_errors++;
}

/*
 * backend_request - what the hello's random asks for: "BULK" and a MiB
 * count to send, "UPLD" and a MiB count to read first, or (no marker)
 * the default reply
 */
static void
backend_request(const struct backend *bk, struct bconn *bc)
{
	const uint8_t	*r = bc->bc_head + BACKEND_RANDOM_AT;
	uint64_t	 mib;

	mib = (uint64_t)r[4] << 24 | (uint64_t)r[5] << 16 |
	    (uint64_t)r[6] << 8 | r[7];
	bc->bc_left = bk->bk_reply;
	if (memcmp(r, "BULK", 4) == 0)
		bc->bc_left = mib << 20;
	else if (memcmp(r, "UPLD", 4) == 0)
		bc->bc_drain = mib << 20;
}

/* backend_write - send what is left of the reply; close when all is sent */
static void
backend_write(struct backend *bk, int fd)
{
	struct bconn	*bc = &bk->bk_conns[fd];
	const uint8_t	*from = backend_fill;
	ssize_t		 n;
	size_t		 len;

	while (bc->bc_left > 0) {
		len = bc->bc_left < sizeof(backend_fill) ? bc->bc_left :
		    sizeof(backend_fill);
		/* -h: the response is one buffer, sent from where it stopped */
		if (bk->bk_http != NULL)
			from = bk->bk_http + (bk->bk_http_len - bc->bc_left);
		n = send(fd, from, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0) {
			bc->bc_left -= (uint64_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (!bc->bc_want_out && backend_watch(bk, fd, 1) == -1)
				break;
			return;
		}
		break;
	}
	backend_done(bk, fd, bc->bc_left == 0);
}

/* backend_drain - read and drop an upload; all of it read, reply */
static void
backend_drain(struct backend *bk, int fd)
{
	struct bconn	*bc = &bk->bk_conns[fd];
	size_t		 want;
	ssize_t		 n;

	while (bc->bc_drain > 0) {
		want = bc->bc_drain < sizeof(backend_sink) ? bc->bc_drain :
		    sizeof(backend_sink);
		n = recv(fd, backend_sink, want, MSG_DONTWAIT);
		if (n > 0) {
			bc->bc_drain -= (uint64_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (!bc->bc_in_epoll && backend_watch(bk, fd, 0) == -1)
				break;
			return;
		}
		break;
	}
	if (bc->bc_drain > 0) {
		backend_done(bk, fd, 0);
		return;
	}
	/* every byte read: the close after the reply is a FIN, not a RST */
	backend_write(bk, fd);
}

/* backend_told_net - addr (network order) is one of bench-load -P's */
static int
backend_told_net(const void *addr)
{
	uint32_t	a;

	memcpy(&a, addr, sizeof(a));
	return (ntohl(a) & 0xffffff00U) == BACKEND_TOLD_NET;
}

/*
 * backend_header - -x: the PROXY header a TCP connection begins with
 * (haproxy doc/proxy-protocol.txt, 2.1 and 2.2):
 *   v1: "PROXY TCP4 " source " " ... "\r\n", 107 bytes at most
 *   v2: signature(12) 0d 0a 0d 0a 00 0d 0a 51 55 49 54 0a, version and
 *       command(1), family(1, 0x11: TCP over IPv4), length(2), then
 *       source(4), destination(4), ports(2+2), TLVs
 * Peeked, then read to its last byte and no further: the hello behind
 * it stays queued for backend_read.  1 when it is read, or when the
 * connection begins with the hello itself (0x16: a switch that passes
 * nothing on); 0 when more must come (the switches send a header in one
 * segment: a peek that sees part of one is rare, and the level-triggered
 * wait for the rest short); -1 when it is neither.
 */
static int
backend_header(struct backend *bk, int fd)
{
	static const uint8_t	 sig[12] = "\r\n\r\n\0\r\nQUIT\n";
	const uint8_t		*p = backend_scratch, *eol;
	enum backend_told	 how;
	size_t			 len;
	ssize_t			 n;
	int			 told;

	n = recv(fd, backend_scratch, BACKEND_PROXY_MAX, MSG_PEEK | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return 0;
	if (n <= 0)
		return -1;
	if (p[0] == 0x16)
		return 1;
	if (n >= 16 && memcmp(p, sig, sizeof(sig)) == 0) {
		len = 16 + ((size_t)p[14] << 8 | p[15]);
		if (len > BACKEND_PROXY_MAX)
			return -1;
		if ((size_t)n < len)
			return 0;
		how = TOLD_PROXY_V2;
		told = p[13] == 0x11 && len >= 20 && backend_told_net(p + 16);
	} else if (n >= 6 && memcmp(p, "PROXY ", 6) == 0) {
		if ((eol = memchr(p, '\n', (size_t)n)) == NULL)
			return n < BACKEND_PROXY_V1_MAX ? 0 : -1;
		len = (size_t)(eol - p) + 1;
		how = TOLD_PROXY_V1;
		told = len > 22 && memcmp(p + 6, "TCP4 198.51.100.", 16) == 0;
	} else
		return n < 16 ? 0 : -1;
	if (recv(fd, backend_scratch, len, MSG_DONTWAIT) != (ssize_t)len)
		return -1;
	bk->bk_told[how] += (uint64_t)told;
	return 1;
}

/*
 * backend_recv - at most want bytes of what fd has: their count; 0 when
 * nothing has come yet (fd is then watched for more); -1 at EOF, on an
 * error, or when fd cannot be watched
 */
static ssize_t
backend_recv(struct backend *bk, int fd, size_t want)
{
	ssize_t	n;

	do
		n = recv(fd, backend_scratch, want, MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n > 0)
		return n;
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return !bk->bk_conns[fd].bc_in_epoll &&
		    backend_watch(bk, fd, 0) == -1 ? -1 : 0;
	return -1;
}

/*
 * backend_read_http - -h: read the request head, up to the empty line
 * that ends it (RFC 9112 2.1: request-line, *(field-line CRLF), CRLF),
 * whatever segments it comes in; then answer it
 */
static void
backend_read_http(struct backend *bk, int fd)
{
	static const char	 blank[] = "\r\n\r\n";
	struct bconn		*bc = &bk->bk_conns[fd];
	ssize_t			 n, i;

	while (bc->bc_head_end < 4) {
		n = backend_recv(bk, fd, BACKEND_HTTP_HEAD_MAX - bc->bc_got);
		if (n == 0)
			return;
		if (n < 0)
			break;
		bc->bc_got += (uint32_t)n;
		for (i = 0; i < n && bc->bc_head_end < 4; i++)
			/* on a mismatch, a CR may start the blank line anew */
			bc->bc_head_end = backend_scratch[i] ==
			    blank[bc->bc_head_end] ? bc->bc_head_end + 1 :
			    backend_scratch[i] == '\r';
		if (bc->bc_head_end < 4 && bc->bc_got == BACKEND_HTTP_HEAD_MAX)
			break;
	}
	if (bc->bc_head_end < 4) {
		backend_done(bk, fd, 0);
		return;
	}
	bc->bc_left = bk->bk_http_len;
	backend_write(bk, fd);
}

/*
 * backend_read - read the first TLS record, no more:
 *   0     ContentType (0x16, handshake)
 *   1..2  ProtocolVersion
 *   3..4  length, big-endian (RFC 8446 5.1)
 * then the ClientHello: msg_type(1) length(3) legacy_version(2) random(32)
 */
static void
backend_read(struct backend *bk, int fd)
{
	struct bconn	*bc = &bk->bk_conns[fd];
	size_t		 want, head;
	ssize_t		 n;
	int		 r;

	if (bk->bk_http != NULL) {
		backend_read_http(bk, fd);
		return;
	}
	if (bc->bc_header) {
		if ((r = backend_header(bk, fd)) == -1)
			goto fail;
		if (r == 0) {
			if (!bc->bc_in_epoll && backend_watch(bk, fd, 0) == -1)
				goto fail;
			return;
		}
		bc->bc_header = 0;
	}
	for (;;) {
		want = bc->bc_need ? bc->bc_need - bc->bc_got :
		    BACKEND_RECORD_HEADER - bc->bc_got;
		if ((n = backend_recv(bk, fd, want)) == 0)
			return;
		if (n < 0)
			break;
		if (bc->bc_got < BACKEND_HEAD) {
			head = BACKEND_HEAD - bc->bc_got;
			memcpy(bc->bc_head + bc->bc_got, backend_scratch,
			    (size_t)n < head ? (size_t)n : head);
		}
		bc->bc_got += (uint32_t)n;
		if (bc->bc_need == 0 && bc->bc_got == BACKEND_RECORD_HEADER) {
			if (bc->bc_head[0] != 0x16)
				break;
			bc->bc_need = BACKEND_RECORD_HEADER +
			    ((uint32_t)bc->bc_head[3] << 8 | bc->bc_head[4]);
		}
		if (bc->bc_need != 0 && bc->bc_got == bc->bc_need) {
			if (bc->bc_need < BACKEND_HEAD)
				break;
			backend_request(bk, bc);
			if (bc->bc_drain > 0)
				backend_drain(bk, fd);
			else
				backend_write(bk, fd);
			return;
		}
	}
fail:
	backend_done(bk, fd, 0);
}

/* backend_serve - a new connection from either door: serve it at once;
 * header: it begins with a PROXY header (-x, the TCP door) */
static void
backend_serve(struct backend *bk, int fd, int header)
{
	if (fd < 0 || (size_t)fd >= bk->bk_nconns) {
		if (fd >= 0)
			close(fd);
		bk->bk_errors++;
		return;
	}
	memset(&bk->bk_conns[fd], 0, sizeof(bk->bk_conns[fd]));
	bk->bk_conns[fd].bc_header = (uint8_t)header;
	bk->bk_active++;
	backend_read(bk, fd);
}

/* backend_accept_tcp - take the connections queued on the TCP listener,
 * at most max: 1 when more may be queued, else 0 */
static int
backend_accept_tcp(struct backend *bk, int lfd, int max)
{
	int	i, fd;

	for (i = 0; i < max; i++) {
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == ECONNABORTED || errno == EINTR)
				continue;
			if (errno != EAGAIN)
				bk->bk_errors++;
			return 0;
		}
		backend_serve(bk, fd, bk->bk_proxy);
	}
	return 1;
}

/* backend_add - put a listener or channel in the epoll set */
static void
backend_add(struct backend *bk, int kind, int fd)
{
	struct epoll_event	ev;

	ev.events = EPOLLIN;
	ev.data.u64 = EV(kind, fd);
	if (epoll_ctl(bk->bk_epoll, EPOLL_CTL_ADD, fd, &ev) == -1) {
		perror("bench-backend: epoll_ctl");
		exit(1);
	}
}

/* backend_accept_channel - a SNItch worker connects its channel; 0, or
 * -1 when none was waiting (or it could not be kept) */
static int
backend_accept_channel(struct backend *bk, int lfd)
{
	int	fd;

	if ((fd = snitch_accept(lfd)) == -1)
		return -1;
	if (bk->bk_nchans == BACKEND_CHANNELS ||
	    fcntl(fd, F_SETFL, O_NONBLOCK) == -1) {
		close(fd);
		return -1;
	}
	backend_add(bk, KIND_CHANNEL, fd);
	bk->bk_chans[bk->bk_nchans++] = fd;
	return 0;
}

/* backend_close_channel - a channel is done: out of the list, closed */
static void
backend_close_channel(struct backend *bk, int chan)
{
	int	i;

	for (i = 0; i < bk->bk_nchans; i++)
		if (bk->bk_chans[i] == chan) {
			bk->bk_chans[i] = bk->bk_chans[--bk->bk_nchans];
			break;
		}
	(void)epoll_ctl(bk->bk_epoll, EPOLL_CTL_DEL, chan, NULL);
	close(chan);
}

/*
 * backend_receive - take the connections queued on a channel, at most
 * max: 1 when more may be queued, 0 when none is, -1 when the channel
 * was closed
 */
static int
backend_receive(struct backend *bk, int chan, int max)
{
	int	i, r;

	for (i = 0; i < max; i++) {
		r = snitch_recv(chan, &backend_handed);
		if (r == 1) {
			if (backend_handed.sc_client.ss_family == AF_INET)
				bk->bk_told[TOLD_HANDOFF] += (uint64_t)
				    backend_told_net(&((struct sockaddr_in *)
				    &backend_handed.sc_client)->sin_addr);
			backend_serve(bk, backend_handed.sc_fd, 0);
			continue;
		}
		if (r == -1 && errno == EBADMSG) {
			bk->bk_refused++;
			continue;
		}
		if (r == -1 && (errno == EAGAIN || errno == EINTR))
			return 0;
		/* 0: the worker closed it (or, after backend_quiesce's
		 * shutdown, nothing is left); otherwise the channel failed */
		backend_close_channel(bk, chan);
		return -1;
	}
	return 1;
}

/* backend_event - epoll reports on a listener, a channel or a connection */
static void
backend_event(struct backend *bk, uint64_t u64)
{
	int	fd = EV_FD(u64);

	switch (EV_KIND(u64)) {
	case KIND_TCP:
		(void)backend_accept_tcp(bk, fd, BACKEND_BATCH);
		break;
	case KIND_SNITCH:
		(void)backend_accept_channel(bk, fd);
		break;
	case KIND_CHANNEL:
		(void)backend_receive(bk, fd, BACKEND_BATCH);
		break;
	case KIND_CONN:
		if (bk->bk_conns[fd].bc_want_out)
			backend_write(bk, fd);
		else if (bk->bk_conns[fd].bc_drain > 0)
			backend_drain(bk, fd);
		else
			backend_read(bk, fd);
		break;
	}
}

/*
 * backend_quiesce - SIGTERM: take no new connection, and take every one
 * already on its way (see the top of the file); the connections being
 * served then finish in the loop
 */
static void
backend_quiesce(struct backend *bk)
{
	int	chan;

	if (bk->bk_listen != -1) {
		(void)unlink(bk->bk_path);
		while (backend_accept_channel(bk, bk->bk_listen) == 0)
			continue;
		(void)epoll_ctl(bk->bk_epoll, EPOLL_CTL_DEL, bk->bk_listen, NULL);
		close(bk->bk_listen);
		bk->bk_listen = -1;
	}
	while (bk->bk_nchans > 0) {
		chan = bk->bk_chans[bk->bk_nchans - 1];
		/* after this a send fails (EPIPE); what was sent stays */
		if (shutdown(chan, SHUT_RD) == -1) {
			backend_close_channel(bk, chan);
			continue;
		}
		while (backend_receive(bk, chan, BACKEND_BATCH) == 1)
			continue;
		/* a non-blocking recv after SHUT_RD ends with 0, not EAGAIN */
		if (bk->bk_nchans > 0 &&
		    bk->bk_chans[bk->bk_nchans - 1] == chan)
			backend_close_channel(bk, chan);
	}
	if (bk->bk_tcp != -1) {
		while (backend_accept_tcp(bk, bk->bk_tcp, BACKEND_BATCH) == 1)
			continue;
		(void)epoll_ctl(bk->bk_epoll, EPOLL_CTL_DEL, bk->bk_tcp, NULL);
		close(bk->bk_tcp);
		bk->bk_tcp = -1;
	}
}

/* backend_tcp_listen - a non-blocking listener on 127.0.0.1:port */
static int
backend_tcp_listen(int port)
{
	struct sockaddr_in	sin;
	int			fd, on = 1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, 4096) == -1) {
		fprintf(stderr, "bench-backend: 127.0.0.1:%d: %s\n", port,
		    strerror(errno));
		exit(1);
	}
	return fd;
}

/*
 * backend_http_response - -h: the response every request gets, head
 * and body of reply bytes of the letter, in bk_http (RFC 9112 4, 6.3:
 * Content-Length, and the close that Connection: close announces)
 */
static void
backend_http_response(struct backend *bk)
{
	char	head[128];
	int	len;

	len = snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n\r\n", bk->bk_reply);
	if (len < 0 || (size_t)len >= sizeof(head) ||
	    (bk->bk_http = malloc((size_t)len + bk->bk_reply)) == NULL) {
		perror("bench-backend");
		exit(1);
	}
	memcpy(bk->bk_http, head, (size_t)len);
	memset(bk->bk_http + len, bk->bk_letter, bk->bk_reply);
	bk->bk_http_len = (size_t)len + bk->bk_reply;
}

/* backend_nofile - raise the descriptor limit; the size of the fd table */
static size_t
backend_nofile(void)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return 1024;
	rl.rlim_cur = rl.rlim_max;
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 1 << 20)
		rl.rlim_cur = 1 << 20;
	(void)setrlimit(RLIMIT_NOFILE, &rl);
	(void)getrlimit(RLIMIT_NOFILE, &rl);
	return (size_t)rl.rlim_cur;
}

int
main(int argc, char **argv)
{
	static struct backend	 bk;
	struct epoll_event	 events[BACKEND_EVENTS];
	struct sigaction	 sa;
	struct timespec		 now;
	const char		*path = NULL;
	long long		 deadline, left;
	int			 ch, n, i, port = 0, http = 0;

	bk.bk_reply = BACKEND_REPLY_DEFAULT;
	while ((ch = getopt(argc, argv, "hn:p:r:s:x")) != -1) {
		switch (ch) {
		case 'h': http = 1; break;
		case 'n': bk.bk_letter = optarg[0]; break;
		case 'p': port = atoi(optarg); break;
		case 'r': bk.bk_reply = strtoul(optarg, NULL, 10); break;
		case 's': path = optarg; break;
		case 'x': bk.bk_proxy = 1; break;
		default: backend_usage();
		}
	}
	if (bk.bk_letter == '\0' || (port == 0 && path == NULL) ||
	    optind != argc || (http && bk.bk_proxy))
		backend_usage();
	memset(backend_fill, bk.bk_letter, sizeof(backend_fill));
	if (http)
		backend_http_response(&bk);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = backend_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	bk.bk_nconns = backend_nofile();
	if ((bk.bk_conns = calloc(bk.bk_nconns, sizeof(*bk.bk_conns))) == NULL ||
	    (bk.bk_epoll = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		perror("bench-backend");
		return 1;
	}
	bk.bk_tcp = bk.bk_listen = -1;
	bk.bk_path = path;
	if (port != 0) {
		bk.bk_tcp = backend_tcp_listen(port);
		backend_add(&bk, KIND_TCP, bk.bk_tcp);
	}
	if (path != NULL) {
		if ((bk.bk_listen = snitch_listen(path, 0666)) == -1 ||
		    fcntl(bk.bk_listen, F_SETFL, O_NONBLOCK) == -1) {
			fprintf(stderr, "bench-backend: %s: %s\n", path,
			    strerror(errno));
			return 1;
		}
		backend_add(&bk, KIND_SNITCH, bk.bk_listen);
	}

	while (!backend_stop) {
		n = epoll_wait(bk.bk_epoll, events, BACKEND_EVENTS, -1);
		for (i = 0; i < n; i++)
			backend_event(&bk, events[i].data.u64);
	}
	backend_quiesce(&bk);
	clock_gettime(CLOCK_MONOTONIC, &now);
	deadline = now.tv_sec * 1000 + now.tv_nsec / 1000000 + BACKEND_DRAIN_MS;
	while (bk.bk_active > 0 && (left = deadline - (now.tv_sec * 1000 +
	    now.tv_nsec / 1000000)) > 0) {
		n = epoll_wait(bk.bk_epoll, events, BACKEND_EVENTS, (int)left);
		for (i = 0; i < n; i++)
			backend_event(&bk, events[i].data.u64);
		clock_gettime(CLOCK_MONOTONIC, &now);
	}
	/* what is still open after BACKEND_DRAIN_MS is cut: "cut=" */
	fprintf(stderr, "bench-backend %c: served=%llu errors=%llu "
	    "refused=%llu cut=%llu told_handoff=%llu told_v1=%llu "
	    "told_v2=%llu\n", bk.bk_letter,
	    (unsigned long long)bk.bk_served,
	    (unsigned long long)bk.bk_errors,
	    (unsigned long long)bk.bk_refused,
	    (unsigned long long)bk.bk_active,
	    (unsigned long long)bk.bk_told[TOLD_HANDOFF],
	    (unsigned long long)bk.bk_told[TOLD_PROXY_V1],
	    (unsigned long long)bk.bk_told[TOLD_PROXY_V2]);
	return 0;
}
