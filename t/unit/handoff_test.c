/*
 * handoff_test.c - the handoff end to end within one process: the
 * worker's handoff_send, libsnitch's snitch_recv, a real loopback TCP
 * socket in between; the messages libsnitch must refuse without leaking
 * an fd; snitch_listen's care for the socket path (and taking it over
 * from a live instance); the one-call server, its drain; ACK batches.
 *
 * Uses 127.0.0.1 only.  A watchdog alarm ends the run if anything blocks.
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ack.h"
#include "handoff.h"
#include "proxyv2.h"
#include "snitch.h"
#include "tap.h"

#define WATCHDOG	60	/* seconds for the whole run */
#define ALPN_H2_H11	"\x02" "h2" "\x08" "http/1.1"

/* A loopback TCP connection: the client's end and SNItch's accepted end. */
struct tcp {
	int	tc_client;
	int	tc_accepted;
};

static struct snitch_conn	 conn;	/* 16 KiB: not on the stack */

/* handoff_test_fds - how many fds this process has open */
static int
handoff_test_fds(void)
{
	DIR		*dir;
	struct dirent	*de;
	int		 n = 0;

	if ((dir = opendir("/proc/self/fd")) == NULL)
		return -1;
	while ((de = readdir(dir)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	(void)closedir(dir);
	return n - 1;	/* the directory's own fd */
}

/* handoff_test_tcp - a connected loopback TCP pair; -1 on failure */
static int
handoff_test_tcp(struct tcp *t)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	int			 lfd;

	t->tc_client = t->tc_accepted = -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    listen(lfd, 1) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&sin, &len) < 0 ||
	    (t->tc_client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(t->tc_client, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    (t->tc_accepted = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) < 0) {
		(void)close(lfd);
		if (t->tc_client >= 0)
			(void)close(t->tc_client);
		return -1;
	}
	(void)close(lfd);
	return 0;
}

/*
 * handoff_test_header - the header a worker would send for fd, with
 * tlvs (wire form) from an upstream PROXY header
 */
static ssize_t
handoff_test_header(int fd, const char *authority, const char *alpn,
    size_t alpn_len, int ech, const void *tlvs, size_t tlvs_len, uint8_t *buf,
    size_t size)
{
	struct proxy_info	 pi;
	socklen_t		 len;

	memset(&pi, 0, sizeof(pi));
	len = sizeof(pi.pi_src);
	if (getpeername(fd, (struct sockaddr *)&pi.pi_src, &len) < 0)
		return -1;
	len = sizeof(pi.pi_dst);
	if (getsockname(fd, (struct sockaddr *)&pi.pi_dst, &len) < 0)
		return -1;
	pi.pi_authority = authority;
	pi.pi_authority_len = authority != NULL ? strlen(authority) : 0;
	pi.pi_alpn = (const uint8_t *)alpn;
	pi.pi_alpn_len = alpn_len;
	pi.pi_ech = ech;
	pi.pi_tlvs = tlvs;
	pi.pi_tlvs_len = tlvs_len;
	return proxy_encode(&pi, buf, size);
}

/* handoff_test_sendmsg - send payload with nfds fds in ncmsg SCM_RIGHTS cmsgs */
static int
handoff_test_sendmsg(int channel, const void *payload, size_t len,
    const int *fds, size_t nfds, int ncmsg)
{
	union {
		struct cmsghdr	hdr;
		char		buf[2 * CMSG_SPACE(16 * sizeof(int))];
	} control;
	struct iovec	 iov = { .iov_base = (void *)payload, .iov_len = len };
	struct msghdr	 msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr	*cmsg;
	size_t		 first = ncmsg == 2 ? nfds / 2 : nfds;

	memset(&control, 0, sizeof(control));
	if (nfds > 0) {
		msg.msg_control = control.buf;
		msg.msg_controllen = CMSG_SPACE(first * sizeof(int));
		if (ncmsg == 2)
			msg.msg_controllen += CMSG_SPACE((nfds - first) * sizeof(int));
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(first * sizeof(int));
		memcpy(CMSG_DATA(cmsg), fds, first * sizeof(int));
		if (ncmsg == 2) {
			cmsg = CMSG_NXTHDR(&msg, cmsg);
			cmsg->cmsg_level = SOL_SOCKET;
			cmsg->cmsg_type = SCM_RIGHTS;
			cmsg->cmsg_len = CMSG_LEN((nfds - first) * sizeof(int));
			memcpy(CMSG_DATA(cmsg), fds + first,
			    (nfds - first) * sizeof(int));
		}
	}
	return sendmsg(channel, &msg, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
}

/* handoff_test_same_socket - whether fd is t's accepted end, by addresses */
static int
handoff_test_same_socket(int fd, const struct tcp *t)
{
	struct sockaddr_storage	 a, b;
	socklen_t		 alen = sizeof(a), blen = sizeof(b);

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	if (getsockname(fd, (struct sockaddr *)&a, &alen) < 0 ||
	    getpeername(t->tc_client, (struct sockaddr *)&b, &blen) < 0 ||
	    alen != blen || memcmp(&a, &b, alen) != 0)
		return 0;
	alen = sizeof(a);
	blen = sizeof(b);
	if (getpeername(fd, (struct sockaddr *)&a, &alen) < 0 ||
	    getsockname(t->tc_client, (struct sockaddr *)&b, &blen) < 0 ||
	    alen != blen || memcmp(&a, &b, alen) != 0)
		return 0;
	return 1;
}

/* handoff_test_valid - hand off a fresh connection and check all of it */
static void
handoff_test_valid(int worker, int channel, const char *label)
{
	struct sockaddr_storage	 peer, local;
	socklen_t		 len;
	const unsigned char	*proto;
	struct tcp		 t;
	uint8_t			 hdr[PROXY_MAX];
	char			 byte = 0;
	size_t			 off = 0, proto_len;
	ssize_t			 n;
	int			 fl;

	if (handoff_test_tcp(&t) < 0) {
		TAP_OK(0, "%s: loopback TCP connection", label);
		return;
	}
	/* As the worker accepts it: blocking (it peeks with MSG_DONTWAIT). */
	fl = fcntl(t.tc_accepted, F_GETFL);
	TAP_OK(fl != -1 && (fl & O_NONBLOCK) == 0,
	    "%s: accepted in blocking mode", label);
	len = sizeof(peer);
	(void)getpeername(t.tc_accepted, (struct sockaddr *)&peer, &len);
	len = sizeof(local);
	(void)getsockname(t.tc_accepted, (struct sockaddr *)&local, &len);

	n = handoff_test_header(t.tc_accepted, "alpha.localhost", ALPN_H2_H11,
	    sizeof(ALPN_H2_H11) - 1, 1, NULL, 0, hdr, sizeof(hdr));
	TAP_OK(n > 0 && handoff_send(worker, t.tc_accepted, hdr, n) == 0,
	    "%s: handoff_send", label);
	/* The worker closes its copy: the socket lives on in flight. */
	(void)close(t.tc_accepted);

	memset(&conn, 0xa5, sizeof(conn));
	TAP_OK(snitch_recv(channel, &conn) == 1, "%s: snitch_recv gives 1", label);
	TAP_OK(conn.sc_fd >= 0 && handoff_test_same_socket(conn.sc_fd, &t),
	    "%s: the fd is the same TCP socket", label);
	TAP_OK(write(t.tc_client, "x", 1) == 1 && read(conn.sc_fd, &byte, 1) == 1 &&
	    byte == 'x', "%s: bytes flow from the client to the fd", label);
	TAP_OK(fcntl(conn.sc_fd, F_GETFD) == FD_CLOEXEC,
	    "%s: the fd is close-on-exec", label);
	TAP_OK((fcntl(conn.sc_fd, F_GETFL) & O_NONBLOCK) == 0,
	    "%s: the fd is in blocking mode, as it was sent", label);
	TAP_OK(memcmp(&conn.sc_client, &peer, sizeof(struct sockaddr_in)) == 0,
	    "%s: sc_client is the client's address", label);
	TAP_OK(memcmp(&conn.sc_local, &local, sizeof(struct sockaddr_in)) == 0,
	    "%s: sc_local is the address it connected to", label);
	TAP_OK(strcmp(conn.sc_server_name, "alpha.localhost") == 0,
	    "%s: server name", label);
	TAP_OK(conn.sc_alpn_len == sizeof(ALPN_H2_H11) - 1 &&
	    memcmp(conn.sc_alpn, ALPN_H2_H11, conn.sc_alpn_len) == 0,
	    "%s: ALPN list", label);
	TAP_OK(snitch_alpn_next(&conn, &off, &proto, &proto_len) == 1 &&
	    proto_len == 2 && memcmp(proto, "h2", 2) == 0 &&
	    snitch_alpn_next(&conn, &off, &proto, &proto_len) == 1 &&
	    proto_len == 8 && memcmp(proto, "http/1.1", 8) == 0 &&
	    snitch_alpn_next(&conn, &off, &proto, &proto_len) == 0,
	    "%s: snitch_alpn_next walks h2, http/1.1, end", label);
	TAP_OK(conn.sc_ech == 1, "%s: ECH", label);

	(void)close(conn.sc_fd);
	(void)close(t.tc_client);
}

enum bad_kind {
	BAD_TWO_FDS,
	BAD_TWO_CMSGS,
	BAD_TEN_FDS,
	BAD_ZERO_FDS,
	BAD_PIPE,
	BAD_NOT_PROXY,
	BAD_TRUNCATED,
	BAD_TRAILING,
	BAD_OVERSIZE,
	BAD_EMPTY_WITH_FD,
	BAD_NAME,
	BAD_ALPN,
};

struct bad_row {
	const char	*label;
	enum bad_kind	 kind;
};

static const struct bad_row bad_rows[] = {
	{ "two fds in one message", BAD_TWO_FDS },
	{ "two SCM_RIGHTS cmsgs", BAD_TWO_CMSGS },
	{ "ten fds (more than the control buffer)", BAD_TEN_FDS },
	{ "zero fds", BAD_ZERO_FDS },
	{ "a pipe, not a socket", BAD_PIPE },
	{ "payload not a PROXY header", BAD_NOT_PROXY },
	{ "truncated header", BAD_TRUNCATED },
	{ "a byte after the header", BAD_TRAILING },
	{ "payload over PROXY_MAX", BAD_OVERSIZE },
	{ "zero-length payload with an fd", BAD_EMPTY_WITH_FD },
	{ "authority not a host name", BAD_NAME },
	{ "malformed ALPN list", BAD_ALPN },
};

/* handoff_test_bad - send one refused message; it must leak nothing */
static void
handoff_test_bad(int worker, int channel, const struct bad_row *row)
{
	static uint8_t	 big[PROXY_MAX + 64];
	struct tcp	 t, t2;
	uint8_t		 hdr[PROXY_MAX];
	int		 fds[10], p[2], before, after, r, i, sent;
	ssize_t		 n;

	if (handoff_test_tcp(&t) < 0 || handoff_test_tcp(&t2) < 0) {
		TAP_OK(0, "%s: loopback TCP connections", row->label);
		return;
	}
	n = handoff_test_header(t.tc_accepted, "alpha.localhost", NULL, 0, 0,
	    NULL, 0, hdr, sizeof(hdr));
	if (pipe2(p, O_CLOEXEC) < 0 || n < 0) {
		TAP_OK(0, "%s: setup", row->label);
		return;
	}
	fds[0] = t.tc_accepted;
	fds[1] = t2.tc_accepted;
	for (i = 2; i < 10; i++)
		fds[i] = t.tc_accepted;	/* the same socket, ten times */

	switch (row->kind) {
	case BAD_TWO_FDS:
		sent = handoff_test_sendmsg(worker, hdr, n, fds, 2, 1);
		break;
	case BAD_TWO_CMSGS:
		sent = handoff_test_sendmsg(worker, hdr, n, fds, 2, 2);
		break;
	case BAD_TEN_FDS:
		sent = handoff_test_sendmsg(worker, hdr, n, fds, 10, 1);
		break;
	case BAD_ZERO_FDS:
		sent = handoff_test_sendmsg(worker, hdr, n, fds, 0, 1);
		break;
	case BAD_PIPE:
		sent = handoff_send(worker, p[0], hdr, n);
		break;
	case BAD_NOT_PROXY:
		sent = handoff_send(worker, fds[0],
		    (const uint8_t *)"GET / HTTP/1.0\r\n\r\n", 18);
		break;
	case BAD_TRUNCATED:
		sent = handoff_send(worker, fds[0], hdr, n - 1);
		break;
	case BAD_TRAILING:
		hdr[n] = 0;
		sent = handoff_send(worker, fds[0], hdr, n + 1);
		break;
	case BAD_OVERSIZE:
		memcpy(big, hdr, n);
		sent = handoff_send(worker, fds[0], big, sizeof(big));
		break;
	case BAD_EMPTY_WITH_FD:
		sent = handoff_send(worker, fds[0], hdr, 0);
		break;
	case BAD_NAME:
		n = handoff_test_header(t.tc_accepted, "bad name!", NULL, 0, 0,
		    NULL, 0, hdr, sizeof(hdr));
		sent = n < 0 ? -1 : handoff_send(worker, fds[0], hdr, n);
		break;
	case BAD_ALPN:
		n = handoff_test_header(t.tc_accepted, NULL, "\x05" "h2", 3, 0,
		    NULL, 0, hdr, sizeof(hdr));
		sent = n < 0 ? -1 : handoff_send(worker, fds[0], hdr, n);
		break;
	default:
		sent = -1;
	}
	/* The sender's copies go: only what snitch_recv installs remains. */
	(void)close(t.tc_accepted);
	(void)close(t2.tc_accepted);
	(void)close(p[0]);
	TAP_OK(sent == 0, "%s: sent", row->label);

	before = handoff_test_fds();
	errno = 0;
	r = snitch_recv(channel, &conn);
	TAP_OK(r == -1 && errno == EBADMSG, "%s: refused with EBADMSG", row->label);
	after = handoff_test_fds();
	TAP_OK(before == after && conn.sc_fd == -1,
	    "%s: no fd leaked (%d before, %d after)", row->label, before, after);

	(void)close(p[1]);
	(void)close(t.tc_client);
	(void)close(t2.tc_client);
}

/*
 * handoff_test_tlvs - an upstream header's TLVs reach snitch_tlv: kept in
 * order, SNItch's own types left out, one too big for sc_tlvs dropped
 * and the ones after it kept
 */
static void
handoff_test_tlvs(int worker, int channel)
{
	static uint8_t		 tlvs[3 + 2000 + 64], hdr[PROXY_MAX];
	const unsigned char	*v;
	struct tcp		 t;
	size_t			 len = 0, vlen;
	ssize_t			 n;

	memcpy(tlvs + len, "\x05\x00\x04" "id-1", 7);
	len += 7;
	memcpy(tlvs + len, "\x02\x00\x04" "evil", 7);	/* SNItch's own type */
	len += 7;
	memcpy(tlvs + len, "\x30\x07\xd0", 3);	/* 2000 bytes: too big */
	memset(tlvs + len + 3, 'n', 2000);
	len += 3 + 2000;
	memcpy(tlvs + len, "\xea\x00\x07" "\x01" "vpce-x", 10);
	len += 10;
	if (handoff_test_tcp(&t) < 0) {
		TAP_OK(0, "tlvs: loopback TCP connection");
		return;
	}
	n = handoff_test_header(t.tc_accepted, "alpha.localhost", NULL, 0, 0,
	    tlvs, len, hdr, sizeof(hdr));
	TAP_OK(n > 0 && handoff_send(worker, t.tc_accepted, hdr, n) == 0,
	    "tlvs: handoff_send");
	(void)close(t.tc_accepted);
	memset(&conn, 0xa5, sizeof(conn));
	TAP_OK(snitch_recv(channel, &conn) == 1, "tlvs: snitch_recv gives 1");
	v = snitch_tlv(&conn, SNITCH_TLV_UNIQUE_ID, &vlen);
	TAP_OK(v != NULL && vlen == 4 && memcmp(v, "id-1", 4) == 0,
	    "tlvs: the unique id");
	v = snitch_tlv(&conn, SNITCH_TLV_AWS, &vlen);
	TAP_OK(v != NULL && vlen == 7 && memcmp(v, "\x01" "vpce-x", 7) == 0,
	    "tlvs: the AWS id, after one too big for sc_tlvs");
	TAP_OK(snitch_tlv(&conn, SNITCH_TLV_NETNS, &vlen) == NULL && vlen == 0,
	    "tlvs: the one too big for sc_tlvs is left out");
	TAP_OK(snitch_tlv(&conn, 0x02, &vlen) == NULL,
	    "tlvs: SNItch's own types are not among them");
	TAP_OK(strcmp(conn.sc_server_name, "alpha.localhost") == 0,
	    "tlvs: the server name is SNItch's, not the upstream's");
	TAP_OK(conn.sc_tlvs_len == 7 + 10 &&
	    memcmp(conn.sc_tlvs, "\x05\x00\x04" "id-1", 7) == 0,
	    "tlvs: sc_tlvs in wire form, in order");
	conn.sc_tlvs_len = SNITCH_TLVS_MAX + 100;
	TAP_OK(snitch_tlv(&conn, 0x99, &vlen) == NULL,
	    "tlvs: a bogus sc_tlvs_len is not read past sc_tlvs");
	(void)close(conn.sc_fd);
	(void)close(t.tc_client);
}

/* handoff_test_channel - a socketpair channel: good, bad, good, EAGAIN, EOF */
static void
handoff_test_channel(void)
{
	size_t	 i;
	int	 sv[2], fl, r;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		TAP_OK(0, "socketpair: %s", strerror(errno));
		return;
	}
	handoff_test_valid(sv[0], sv[1], "first handoff");
	for (i = 0; i < sizeof(bad_rows) / sizeof(bad_rows[0]); i++)
		handoff_test_bad(sv[0], sv[1], &bad_rows[i]);
	handoff_test_valid(sv[0], sv[1], "handoff after refusals");
	handoff_test_tlvs(sv[0], sv[1]);

	fl = fcntl(sv[1], F_GETFL);
	(void)fcntl(sv[1], F_SETFL, fl | O_NONBLOCK);
	errno = 0;
	r = snitch_recv(sv[1], &conn);
	TAP_OK(r == -1 && errno == EAGAIN, "empty non-blocking channel: EAGAIN");
	(void)fcntl(sv[1], F_SETFL, fl);

	(void)close(sv[0]);
	TAP_OK(snitch_recv(sv[1], &conn) == 0, "closed channel: 0 (EOF)");
	TAP_OK(snitch_recv(sv[1], &conn) == 0, "closed channel: 0 again");
	(void)close(sv[1]);
}

/* handoff_test_helpers - snitch_addr_format and snitch_alpn_next edges */
static void
handoff_test_helpers(void)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	const unsigned char	*proto;
	char			 buf[SNITCH_ADDR_MAX];
	size_t			 off, proto_len;
	int			 r;

	memset(&ss, 0, sizeof(ss));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(443);
	(void)inet_pton(AF_INET, "192.0.2.1", &sin->sin_addr);
	TAP_OK(snitch_addr_format(&ss, buf, sizeof(buf)) == 0 &&
	    strcmp(buf, "192.0.2.1:443") == 0, "addr_format IPv4: %s", buf);
	errno = 0;
	r = snitch_addr_format(&ss, buf, strlen("192.0.2.1:443"));
	TAP_OK(r == -1 && errno == ENOSPC && buf[0] == '\0',
	    "addr_format one byte short: ENOSPC, empty");

	memset(&ss, 0, sizeof(ss));
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(65535);
	(void)inet_pton(AF_INET6, "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255",
	    &sin6->sin6_addr);
	r = snitch_addr_format(&ss, buf, sizeof(buf));
	TAP_OK(r == 0 && strcmp(buf,
	    "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535") == 0,
	    "addr_format longest IPv6 fits SNITCH_ADDR_MAX: %s", buf);
	(void)inet_pton(AF_INET6, "::1", &sin6->sin6_addr);
	sin6->sin6_port = htons(8443);
	TAP_OK(snitch_addr_format(&ss, buf, sizeof(buf)) == 0 &&
	    strcmp(buf, "[::1]:8443") == 0, "addr_format IPv6: %s", buf);

	ss.ss_family = AF_UNIX;
	errno = 0;
	r = snitch_addr_format(&ss, buf, sizeof(buf));
	TAP_OK(r == -1 && errno == EAFNOSUPPORT, "addr_format AF_UNIX: EAFNOSUPPORT");

	memset(&conn, 0, sizeof(conn));
	off = 0;
	TAP_OK(snitch_alpn_next(&conn, &off, &proto, &proto_len) == 0,
	    "alpn_next on no ALPN: 0");
	memcpy(conn.sc_alpn, "\x02" "h2" "\x00", 4);
	conn.sc_alpn_len = 4;
	off = 0;
	r = snitch_alpn_next(&conn, &off, &proto, &proto_len);
	TAP_OK(r == 1 && proto_len == 2, "alpn_next: first of a bad list");
	errno = 0;
	r = snitch_alpn_next(&conn, &off, &proto, &proto_len);
	TAP_OK(r == -1 && errno == EBADMSG, "alpn_next: empty name: EBADMSG");
	memcpy(conn.sc_alpn, "\x09" "http/1.1", 9);
	conn.sc_alpn_len = 9;
	off = 0;
	errno = 0;
	r = snitch_alpn_next(&conn, &off, &proto, &proto_len);
	TAP_OK(r == -1 && errno == EBADMSG, "alpn_next: name overruns: EBADMSG");
	conn.sc_alpn_len = SNITCH_ALPN_MAX + 1;
	off = 0;
	errno = 0;
	r = snitch_alpn_next(&conn, &off, &proto, &proto_len);
	TAP_OK(r == -1 && errno == EBADMSG, "alpn_next: sc_alpn_len too big: EBADMSG");
}

/* handoff_test_sun - the address of the socket at path */
static void
handoff_test_sun(const char *path, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlen(path) < sizeof(sun->sun_path))
		memcpy(sun->sun_path, path, strlen(path));
}

/* handoff_test_connect - a worker's channel to the socket at path */
static int
handoff_test_connect(const char *path)
{
	struct sockaddr_un	 sun;
	int			 fd;

	handoff_test_sun(path, &sun);
	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		(void)close(fd);
		return -1;
	}
	return fd;
}

/* handoff_test_listen - snitch_listen and snitch_accept around a path */
static void
handoff_test_listen(const char *dir)
{
	char		 path[256], longpath[200];
	struct stat	 st;
	int		 fd, fd2, w, ch, r;

	(void)snprintf(path, sizeof(path), "%s/listen.sock", dir);

	memset(longpath, 'x', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	errno = 0;
	r = snitch_listen(longpath, 0);
	TAP_OK(r == -1 && errno == ENAMETOOLONG, "listen: long path: ENAMETOOLONG");
	errno = 0;
	r = snitch_listen("", 0);
	TAP_OK(r == -1 && errno == EINVAL, "listen: empty path: EINVAL");

	/* A regular file in the way is never removed. */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	(void)close(fd);
	errno = 0;
	r = snitch_listen(path, 0);
	TAP_OK(r == -1 && errno == EADDRINUSE, "listen: regular file: EADDRINUSE");
	TAP_OK(stat(path, &st) == 0 && S_ISREG(st.st_mode),
	    "listen: the regular file is still there");
	(void)unlink(path);

	fd = snitch_listen(path, 0640);
	TAP_OK(fd >= 0, "listen: fresh path");
	TAP_OK(stat(path, &st) == 0 && S_ISSOCK(st.st_mode) &&
	    (st.st_mode & 07777) == 0640, "listen: a socket of mode 0640");
	TAP_OK(fcntl(fd, F_GETFD) == FD_CLOEXEC, "listen: close-on-exec");

	errno = 0;
	r = snitch_listen(path, 0);
	TAP_OK(r == -1 && errno == EADDRINUSE,
	    "listen: a live listener is not replaced: EADDRINUSE");
	TAP_OK(stat(path, &st) == 0 && S_ISSOCK(st.st_mode),
	    "listen: the live socket is still there");

	w = handoff_test_connect(path);
	ch = w < 0 ? -1 : snitch_accept(fd);
	TAP_OK(ch >= 0 && fcntl(ch, F_GETFD) == FD_CLOEXEC,
	    "accept: a close-on-exec channel");
	(void)close(w);
	TAP_OK(ch >= 0 && snitch_recv(ch, &conn) == 0,
	    "accept: the worker's close reads as EOF");
	(void)close(ch);

	(void)close(fd);
	fd2 = snitch_listen(path, 0);
	TAP_OK(fd2 >= 0, "listen: a stale socket is replaced");
	(void)close(fd2);
	(void)unlink(path);
}

static volatile sig_atomic_t	 handoff_test_alarms;

/* handoff_test_on_alarm - interrupt snitch_next's poll */
static void
handoff_test_on_alarm(int signo)
{
	(void)signo;
	handoff_test_alarms++;
}

/* handoff_test_interrupt - make snitch_next return EINTR after ms */
static void
handoff_test_interrupt(int ms)
{
	struct sigaction	 sa;
	struct itimerval	 it;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handoff_test_on_alarm;	/* no SA_RESTART */
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGALRM, &sa, NULL);
	memset(&it, 0, sizeof(it));
	it.it_value.tv_sec = ms / 1000;
	it.it_value.tv_usec = (ms % 1000) * 1000;
	(void)setitimer(ITIMER_REAL, &it, NULL);
}

/* handoff_test_watchdog - back to: SIGALRM kills a run that hangs */
static void
handoff_test_watchdog(void)
{
	struct sigaction	 sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGALRM, &sa, NULL);
	(void)alarm(WATCHDOG);
}

/* handoff_test_cpu_ms - CPU time this process used, user and system */
static long
handoff_test_cpu_ms(void)
{
	struct rusage	 ru;

	(void)getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
	    (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
}

/* handoff_test_send_named - hand off a new connection named name on w */
static int
handoff_test_send_named(int w, const char *name, struct tcp *t)
{
	uint8_t	 hdr[PROXY_MAX];
	ssize_t	 n;
	int	 r;

	if (handoff_test_tcp(t) < 0)
		return -1;
	n = handoff_test_header(t->tc_accepted, name, NULL, 0, 0, NULL, 0, hdr,
	    sizeof(hdr));
	r = n < 0 ? -1 : handoff_send(w, t->tc_accepted, hdr, n);
	(void)close(t->tc_accepted);
	return r;
}

/* handoff_test_server - snitch_open, snitch_next over channels, snitch_close */
static void
handoff_test_server(const char *dir)
{
	struct snitch_server	*srv;
	struct rlimit		 rl, low;
	struct stat		 st;
	struct tcp		 t1, t2, t3;
	char			 path[256];
	int			 w1, w2, w3, p[2], base, got1 = 0, got2 = 0;
	int			 i, r, ok, spare;
	long			 cpu;

	(void)snprintf(path, sizeof(path), "%s/server.sock", dir);
	base = handoff_test_fds();
	srv = snitch_open(path, 0600);
	TAP_OK(srv != NULL, "open: %s", srv ? "ok" : strerror(errno));
	if (srv == NULL)
		return;
	TAP_OK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0600,
	    "open: socket mode 0600");

	/* Three workers: one sends junk then a connection, one a
	 * connection, one nothing before it goes away. */
	w1 = handoff_test_connect(path);
	w2 = handoff_test_connect(path);
	w3 = handoff_test_connect(path);
	TAP_OK(w1 >= 0 && w2 >= 0 && w3 >= 0, "three channels connect");
	(void)pipe2(p, O_CLOEXEC);
	(void)handoff_send(w1, p[0], (const uint8_t *)"junk", 4);
	(void)close(p[0]);
	(void)close(p[1]);
	TAP_OK(handoff_test_send_named(w1, "one.localhost", &t1) == 0 &&
	    handoff_test_send_named(w2, "two.localhost", &t2) == 0,
	    "two connections sent");
	(void)close(w3);

	for (i = 0; i < 2; i++) {
		handoff_test_watchdog();
		r = snitch_next(srv, &conn);
		TAP_OK(r == 0, "next %d: a connection", i + 1);
		if (r != 0)
			break;
		if (strcmp(conn.sc_server_name, "one.localhost") == 0)
			got1 += handoff_test_same_socket(conn.sc_fd, &t1);
		else if (strcmp(conn.sc_server_name, "two.localhost") == 0)
			got2 += handoff_test_same_socket(conn.sc_fd, &t2);
		(void)close(conn.sc_fd);
	}
	TAP_OK(got1 == 1 && got2 == 1,
	    "each worker's connection arrived once, junk skipped");
	(void)close(t1.tc_client);
	(void)close(t2.tc_client);

	(void)close(w1);
	(void)close(w2);
	handoff_test_interrupt(200);
	errno = 0;
	r = snitch_next(srv, &conn);
	TAP_OK(r == -1 && errno == EINTR, "next: a signal gives EINTR");
	handoff_test_watchdog();
	TAP_OK(handoff_test_fds() == base + 1,
	    "closed channels dropped: only the listener is open (%d, base %d)",
	    handoff_test_fds(), base);

	/*
	 * EMFILE on accept: the listener stays readable; snitch_next must
	 * rest, not spin, and must accept once fds are free again.
	 */
	w1 = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	spare = open("/dev/null", O_RDONLY | O_CLOEXEC);	/* the lowest free fd */
	(void)close(spare);
	(void)getrlimit(RLIMIT_NOFILE, &rl);
	low = rl;
	low.rlim_cur = spare;	/* the lowest free fd is now over the limit */
	if (w1 >= 0 && spare >= 0 && setrlimit(RLIMIT_NOFILE, &low) == 0) {
		struct sockaddr_un	 sun;

		handoff_test_sun(path, &sun);
		ok = connect(w1, (struct sockaddr *)&sun, sizeof(sun)) == 0;
		cpu = handoff_test_cpu_ms();
		handoff_test_interrupt(500);
		errno = 0;
		r = snitch_next(srv, &conn);
		cpu = handoff_test_cpu_ms() - cpu;
		handoff_test_watchdog();
		TAP_OK(ok && r == -1 && errno == EINTR && cpu < 150,
		    "EMFILE: snitch_next rests (%ld ms CPU in 500 ms)", cpu);
		(void)setrlimit(RLIMIT_NOFILE, &rl);
		TAP_OK(handoff_test_send_named(w1, "three.localhost", &t3) == 0,
		    "EMFILE: a connection sent on the waiting channel");
		r = snitch_next(srv, &conn);
		TAP_OK(r == 0 && strcmp(conn.sc_server_name, "three.localhost") == 0 &&
		    handoff_test_same_socket(conn.sc_fd, &t3),
		    "EMFILE: accepted and received once fds are free");
		if (r == 0)
			(void)close(conn.sc_fd);
		(void)close(t3.tc_client);
	} else
		TAP_OK(0, "EMFILE: setup: %s", strerror(errno));
	(void)close(w1);

	snitch_close(srv);
	TAP_OK(handoff_test_fds() == base, "close: every fd closed");
	TAP_OK(stat(path, &st) == 0 && S_ISSOCK(st.st_mode),
	    "close: the socket file is left in place");
	(void)unlink(path);
}

/* handoff_test_acks - read the ACKs waiting on w: how many messages, and
 * the handoffs they acknowledge in all in *sum */
static int
handoff_test_acks(int w, unsigned *sum)
{
	uint8_t		msg[64];
	struct ack_msg	am;
	ssize_t		n;
	int		count = 0;

	*sum = 0;
	while ((n = recv(w, msg, sizeof(msg), MSG_DONTWAIT)) > 0) {
		if (ack_parse(msg, n, &am) == ACK_ACK) {
			count++;
			*sum += am.am_count;
		}
	}
	return count;
}

/* handoff_test_burst - send n handoffs on w; the client ends in clients */
static int
handoff_test_burst(int w, int n, int *clients)
{
	struct tcp	t;
	int		i;

	for (i = 0; i < n; i++) {
		if (handoff_test_send_named(w, "burst.localhost", &t) < 0)
			return -1;
		clients[i] = t.tc_client;
	}
	return 0;
}

/* handoff_test_close_all - close n fds */
static void
handoff_test_close_all(int *fds, int n)
{
	int	i;

	for (i = 0; i < n; i++)
		(void)close(fds[i]);
}

/* handoff_test_batch - a burst is acknowledged in fewer ACKs, in full */
static void
handoff_test_batch(void)
{
	int		 sv[2], clients[40], i, got = 0, acks;
	unsigned	 unacked = 0, sum;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0 ||
	    handoff_test_burst(sv[0], 40, clients) < 0) {
		TAP_OK(0, "batch: setup: %s", strerror(errno));
		return;
	}
	for (i = 0; i < 40; i++)
		if (snitch_recv_batch(sv[1], &conn, &unacked) == 1) {
			got++;
			(void)close(conn.sc_fd);
		}
	acks = handoff_test_acks(sv[0], &sum);
	TAP_OK(got == 40 && sum == 40 && unacked == 0,
	    "batch: 40 received, all 40 acknowledged (%u), none left (%u)",
	    sum, unacked);
	TAP_OK(acks >= 2 && acks < 40, "batch: in %d ACKs (at most 32 each)",
	    acks);
	handoff_test_close_all(clients, 40);

	/* snitch_recv acknowledges each at once. */
	(void)handoff_test_burst(sv[0], 5, clients);
	for (i = 0; i < 5; i++)
		if (snitch_recv(sv[1], &conn) == 1)
			(void)close(conn.sc_fd);
	acks = handoff_test_acks(sv[0], &sum);
	TAP_OK(acks == 5 && sum == 5, "recv: one ACK per handoff (%d)", acks);
	handoff_test_close_all(clients, 5);
	(void)close(sv[0]);
	(void)close(sv[1]);
}

/* handoff_test_replace - SNITCH_REPLACE takes a live path over */
static void
handoff_test_replace(const char *dir)
{
	struct snitch_bound	 b1, b2;
	struct stat		 st;
	char			 path[256], longpath[sizeof(((struct sockaddr_un *)0)->sun_path)];
	mode_t			 old;
	int			 l1, l2, w, ch;

	(void)snprintf(path, sizeof(path), "%s/replace.sock", dir);
	old = umask(022);
	l1 = snitch_listen_flags(path, 0666, 0, &b1);
	TAP_OK(l1 >= 0 && stat(path, &st) == 0 &&
	    (st.st_mode & 07777) == 0666,
	    "listen: mode 0666 exactly, whatever the umask");
	TAP_OK(umask(old) == 022, "listen: the umask is given back");
	l2 = snitch_listen_flags(path, 0600, SNITCH_REPLACE, &b2);
	TAP_OK(l2 >= 0 && stat(path, &st) == 0 && st.st_ino == b2.sb_ino &&
	    st.st_ino != b1.sb_ino, "replace: the path is the new socket");
	TAP_OK(snitch_unlink(path, &b1) == 0 && stat(path, &st) == 0 &&
	    st.st_ino == b2.sb_ino,
	    "replace: the old instance's unlink leaves the new socket");
	w = handoff_test_connect(path);
	(void)fcntl(l2, F_SETFL, O_NONBLOCK);
	ch = snitch_accept(l2);
	TAP_OK(w >= 0 && ch >= 0, "replace: a worker connects to the new one");
	(void)close(ch);
	(void)close(w);
	(void)close(l1);
	TAP_OK(snitch_unlink(path, &b2) == 1 && lstat(path, &st) == -1,
	    "unlink: the new instance's own file is removed");
	(void)close(l2);

	/* The path fits sun_path, the temporary name beside it does not. */
	memset(longpath, 'x', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 10] = '\0';
	errno = 0;
	TAP_OK(snitch_listen(longpath, 0) == -1 && errno == ENAMETOOLONG,
	    "listen: no room for the temporary name: ENAMETOOLONG");

	/* A symlink at the path is never followed nor replaced. */
	(void)symlink("/nonexistent/target", path);
	errno = 0;
	TAP_OK(snitch_listen_flags(path, 0666, SNITCH_REPLACE, NULL) == -1 &&
	    errno == EADDRINUSE && lstat(path, &st) == 0 && S_ISLNK(st.st_mode),
	    "replace: a symlink at the path: EADDRINUSE, left as it is");
	(void)unlink(path);
}

/* handoff_test_drain - snitch_drain loses nothing queued, then ESHUTDOWN */
static void
handoff_test_drain(const char *dir)
{
	struct snitch_server	*srv;
	struct stat		 st;
	char			 path[256];
	int			 w1, w2, clients[8], got = 0, r;
	unsigned		 sum1, sum2;

	(void)snprintf(path, sizeof(path), "%s/drain.sock", dir);
	if ((srv = snitch_open(path, 0600)) == NULL) {
		TAP_OK(0, "drain: open: %s", strerror(errno));
		return;
	}
	w1 = handoff_test_connect(path);
	(void)handoff_test_burst(w1, 1, clients);
	handoff_test_watchdog();
	r = snitch_next(srv, &conn);
	TAP_OK(r == 0, "drain: a channel up, a handoff received");
	if (r == 0)
		(void)close(conn.sc_fd);
	/* w2 is still in the backlog; a worker of version 1 sends at once. */
	w2 = handoff_test_connect(path);
	(void)handoff_test_burst(w2, 1, clients + 1);
	(void)handoff_test_burst(w1, 3, clients + 2);
	TAP_OK(snitch_drain(srv) == 0, "drain: called");
	TAP_OK(lstat(path, &st) == -1 && errno == ENOENT,
	    "drain: its own socket file is removed");
	TAP_OK(handoff_test_burst(w1, 1, clients + 5) == -1 && errno == EPIPE,
	    "drain: a worker's next send fails with EPIPE");
	while ((r = snitch_next(srv, &conn)) == 0) {
		got++;
		(void)close(conn.sc_fd);
	}
	TAP_OK(got == 4 && errno == ESHUTDOWN,
	    "drain: the 4 queued (one in the backlog) received, then "
	    "ESHUTDOWN (%d, %s)", got, strerror(errno));
	(void)handoff_test_acks(w1, &sum1);
	(void)handoff_test_acks(w2, &sum2);
	TAP_OK(sum1 == 4 && sum2 == 1, "drain: all acknowledged (%u, %u)",
	    sum1, sum2);
	snitch_close(srv);
	handoff_test_close_all(clients, 5);
	(void)close(w1);
	(void)close(w2);
}

/* main - run every part under a watchdog; exit 1 when a check failed */
int
main(void)
{
	char	dir[] = "/tmp/handoff_test.XXXXXX";

	setvbuf(stdout, NULL, _IOLBF, 0);
	handoff_test_watchdog();
	if (mkdtemp(dir) == NULL) {
		TAP_OK(0, "mkdtemp: %s", strerror(errno));
		return TAP_DONE();
	}
	handoff_test_channel();
	handoff_test_helpers();
	handoff_test_listen(dir);
	handoff_test_server(dir);
	handoff_test_batch();
	handoff_test_replace(dir);
	handoff_test_drain(dir);
	(void)rmdir(dir);
	return TAP_DONE();
}
