/*
 * load.c - bench-load, the client of every benchmark run.
 *
 * Runs as whoever starts it (bench/run.sh), against loopback only.  One
 * epoll loop keeps -c connections going, closed loop: connect, send a
 * ClientHello, read the reply until EOF, close, start the next.  The
 * hellos alternate between the names a.bench.test and b.bench.test and
 * have the shape of a TLS 1.3 browser's: SNI, supported_groups,
 * key_share with an x25519 share, and, with -k mlkem, an X25519MLKEM768
 * share of 1216 bytes before it (a hello of about 1.5 KB, as Chrome and
 * Firefox now send).  The reply must be the size asked for, filled with
 * the letter of the name's backend: anything else is counted as an error.
 *
 * Bulk runs: with -b MIB each reply is MIB MiB (download); with -u MIB
 * each connection sends MIB MiB after the hello, then reads the usual
 * reply (upload).  The backend learns which from the hello's random.
 *
 * It reports one line on stdout: connections completed inside the
 * measured window and their rate, latency percentiles (connect to the
 * reply's EOF), errors by kind, MiB/s for bulk runs (the bulk bytes,
 * whichever way they went, over the run), its own CPU seconds (so a
 * caller can add up every process on the path), and the longest stall:
 * the longest time, from the start to the end of -d, in which no
 * connection completed (stall_ms; a backend restarting behind the
 * switch shows there, whether its clients failed or waited).  Runs are
 * bounded in time (-d after -w of warm-up, then at most one -o timeout
 * for connections still open) and optionally in count (-N).
 *
 * With -H N it holds N connections open instead, half of them silent and
 * half having sent the first half of a hello, until -d ends or SIGTERM:
 * "held=N" on stdout once they are all connected, and at the end how
 * many the other side closed meanwhile.
 *
 * With -D it writes the ClientHello for a.bench.test to stdout and exits,
 * for a look with other tools.
 *
 * With -h it speaks plain HTTP instead (the HTTP routing runs, a switch's
 * listener that routes by Host): each connection sends
 * "GET / HTTP/1.1", a Host of a.bench.test or b.bench.test (alternating
 * as the hellos' names do) and "Connection: close", then reads the
 * response until EOF.  It counts as served only if it begins with an
 * HTTP/1.x status line of 200 and its body, after the blank line, is
 * the size asked for (-r), filled with the letter of the Host's backend;
 * a response with another status, or not HTTP, is a "status" error (the
 * HTTP routers answer what they cannot route with 4xx or 5xx).  The
 * head's length is not checked: a proxy may add fields to it.
 *
 * With -P 1 or -P 2 every connection starts with a PROXY protocol header
 * (version 1 text or version 2 binary), in the same send as the hello,
 * as a load balancer writes it: the client it names is fake, 198.51.100.x
 * (RFC 5737 TEST-NET-2) and a port, both from the connection's number, so
 * that each connection names another client; the destination is the
 * target.  A backend that is told a client in 198.51.100.0/24 was told
 * the header's client (bench/backend.c counts them).
 *
 * Sources rotate over -S loopback addresses (127.0.1.1, 127.0.1.2, ...)
 * so that 4-tuples are not reused faster than TIME_WAIT allows.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
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

#define LOAD_EVENTS		512
#define LOAD_HELLO_MAX		4096
#define LOAD_READ_BUF		(256 * 1024)
#define LOAD_MLKEM_SHARE	1216	/* ML-KEM-768 key (1184) + x25519 (32) */
#define LOAD_IDLE_CONNECTING	256	/* idle connects in flight at once */
#define LOAD_IDLE_RATE		10000	/* idle connects per second, at most */
#define LOAD_SWEEP_NS		100000000ULL	/* timeout checks, 100 ms */
#define LOAD_PROXY_MAX		108	/* a v1 line at most 107, v2 here 28 */
#define LOAD_PROXY_NET		0xc6336400U	/* 198.51.100.0, TEST-NET-2 */
#define LOAD_HTTP_STATUS	13	/* "HTTP/1.1 200 ", the part checked */

/* latency histogram: exact below 128 ns, then 128 steps per power of 2 */
#define HIST_SUB_BITS		7
#define HIST_SUB		(1 << HIST_SUB_BITS)
#define HIST_BUCKETS		(57 * HIST_SUB)

enum lconn_state { LC_FREE, LC_CONNECTING, LC_SENDING, LC_READING, LC_IDLE };

struct lconn {
	int		lc_fd;
	enum lconn_state lc_state;
	int		lc_name;	/* 0: a.bench.test, 1: b.bench.test */
	uint64_t	lc_number;	/* the how-manyth connection started */
	uint64_t	lc_got;		/* reply bytes received */
	uint64_t	lc_sent;	/* upload bytes sent, after the hello */
	uint64_t	lc_start;	/* ns */
	/* -h: the status line's start, blank-line progress, body bytes */
	uint8_t		lc_status[LOAD_HTTP_STATUS];
	int		lc_head_end;	/* of "\r\n\r\n", how much is seen */
	uint64_t	lc_body;
};

struct load {
	/* options */
	struct sockaddr_in	 ld_target[2];	/* per name */
	int			 ld_conc;
	double			 ld_duration;
	double			 ld_warmup;
	uint64_t		 ld_max_conns;
	int			 ld_mlkem;
	uint32_t		 ld_bulk_mib;
	uint64_t		 ld_upload;	/* -u: bytes to send, or 0 */
	uint64_t		 ld_reply;	/* expected bytes per reply */
	uint64_t		 ld_timeout_ns;
	int			 ld_idle;	/* -H: hold this many */
	int			 ld_sources;
	int			 ld_dump;	/* -D: print the hello, exit */
	int			 ld_proxy;	/* -P: PROXY header version, or 0 */
	int			 ld_http;	/* -h: plain HTTP requests */
	/* state */
	int			 ld_epoll;
	struct lconn		*ld_conns;
	uint8_t			 ld_hello[2][LOAD_HELLO_MAX]; /* -h: requests */
	uint8_t			 ld_out[LOAD_PROXY_MAX + LOAD_HELLO_MAX];
	size_t			 ld_hello_len[2];
	uint64_t		 ld_started;
	int			 ld_active;
	int			 ld_connecting;
	uint64_t		 ld_t0, ld_from, ld_to;
	/* results */
	uint64_t		 ld_done;	/* completed inside the window */
	uint64_t		 ld_done_all;
	uint64_t		 ld_bytes;
	uint64_t		 ld_last_end;
	uint64_t		 ld_stall;	/* ns, longest without a completion */
	uint64_t		 ld_err_connect, ld_err_reset, ld_err_timeout;
	uint64_t		 ld_err_short, ld_err_misrouted, ld_err_alert;
	uint64_t		 ld_err_status;	/* -h: not an HTTP/1.x 200 */
	uint64_t		 ld_dropped;	/* idle: closed by the other side */
	uint64_t		 ld_hist[HIST_BUCKETS];
};

static volatile sig_atomic_t	load_stop;
static uint8_t			load_buf[LOAD_READ_BUF];
static uint8_t			load_upload[LOAD_READ_BUF];	/* -u sends */
static const char *const	load_names[2] = { "a.bench.test", "b.bench.test" };

/* load_signal - SIGTERM or SIGINT: wind down */
static void
load_signal(int sig)
{
	(void)sig;
	load_stop = 1;
}

/* load_now - monotonic nanoseconds */
static uint64_t
load_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* load_usage - how to run it */
static void __attribute__((noreturn))
load_usage(void)
{
	fprintf(stderr,
	    "usage: bench-load -t HOST:PORT [-T HOST:PORT] [-c CONC] "
	    "[-d SECONDS] [-w SECONDS]\n"
	    "           [-N COUNT] [-k x25519|mlkem] [-b MIB | -u MIB] "
	    "[-r BYTES] [-H IDLE] [-o MS] [-S SOURCES]\n"
	    "           [-P 1|2] [-h]\n"
	    "       bench-load -D [-k x25519|mlkem | -h] "
	    "[-P 1|2 -t HOST:PORT]\n");
	exit(2);
}

/* hist_index - the bucket of a value in ns */
static unsigned
hist_index(uint64_t v)
{
	unsigned	e;

	if (v < HIST_SUB)
		return (unsigned)v;
	e = (unsigned)(63 - __builtin_clzll(v)) - HIST_SUB_BITS;
	if (e > 55)
		return HIST_BUCKETS - 1;
	return e * HIST_SUB + (unsigned)(v >> e);
}

/* hist_value - the middle of bucket i, in ns */
static double
hist_value(unsigned i)
{
	unsigned	e;

	if (i < 2 * HIST_SUB)
		return i;
	e = i / HIST_SUB - 1;
	return ((double)(i - e * HIST_SUB) + 0.5) * (double)(1ULL << e);
}

/* hist_percentile - the value at fraction q of the recorded ones */
static double
hist_percentile(const struct load *ld, double q)
{
	uint64_t	rank, seen = 0, total = 0;
	unsigned	i;

	for (i = 0; i < HIST_BUCKETS; i++)
		total += ld->ld_hist[i];
	if (total == 0)
		return 0;
	rank = (uint64_t)(q * (double)total);
	if ((double)rank < q * (double)total || rank == 0)
		rank++;
	for (i = 0; i < HIST_BUCKETS; i++) {
		seen += ld->ld_hist[i];
		if (seen >= rank)
			return hist_value(i);
	}
	return hist_value(HIST_BUCKETS - 1);
}

/* struct wire - a write cursor over a hello being built */
struct wire {
	uint8_t	*wr_buf;
	size_t	 wr_len;
};

/* wire_put - append bytes */
static void
wire_put(struct wire *wr, const void *p, size_t len)
{
	memcpy(wr->wr_buf + wr->wr_len, p, len);
	wr->wr_len += len;
}

/* wire_u8, wire_u16 - append an integer, big-endian */
static void
wire_u8(struct wire *wr, unsigned v)
{
	wr->wr_buf[wr->wr_len++] = (uint8_t)v;
}

static void
wire_u16(struct wire *wr, unsigned v)
{
	wire_u8(wr, v >> 8);
	wire_u8(wr, v & 0xff);
}

/* wire_open - room for a length of size bytes; its offset */
static size_t
wire_open(struct wire *wr, size_t size)
{
	size_t	at = wr->wr_len;

	memset(wr->wr_buf + at, 0, size);
	wr->wr_len += size;
	return at;
}

/* wire_close - fill in the length opened at `at` */
static void
wire_close(struct wire *wr, size_t at, size_t size)
{
	size_t	len = wr->wr_len - at - size, i;

	for (i = 0; i < size; i++)
		wr->wr_buf[at + i] = (uint8_t)(len >> (8 * (size - 1 - i)));
}

/* wire_random - append len pseudo-random bytes (xorshift64) */
static void
wire_random(struct wire *wr, size_t len, uint64_t *seed)
{
	while (len-- > 0) {
		*seed ^= *seed << 13;
		*seed ^= *seed >> 7;
		*seed ^= *seed << 17;
		wire_u8(wr, (unsigned)(*seed >> 24));
	}
}

/*
 * load_hello - a TLS 1.3 ClientHello for name, as one record
 * (RFC 8446 4.1.2, extensions 4.2; RFC 6066 3 for server_name):
 *
 *   record:     16 03 01 length(2)
 *   handshake:  01 length(3)
 *               legacy_version 03 03, random(32), session_id(1+32),
 *               cipher_suites(2+30), compression 01 00,
 *               extensions(2+...): server_name, extended_master_secret,
 *               renegotiation_info, supported_groups, ec_point_formats,
 *               session_ticket, ALPN (h2, http/1.1), status_request,
 *               key_share ([X25519MLKEM768 1216 bytes,] x25519 32 bytes),
 *               supported_versions (1.3, 1.2), signature_algorithms,
 *               psk_key_exchange_modes, record_size_limit
 *
 * In bulk runs the random starts with the marker ("BULK" or "UPLD") and
 * the MiB (see backend.c); the switches do not look at the random.
 */
static size_t
load_hello(uint8_t *buf, const char *name, int mlkem, const char *marker,
    uint32_t bulk_mib)
{
	static const uint16_t	suites[] = {
		0x1301, 0x1303, 0x1302, 0xc02b, 0xc02f, 0xcca9, 0xcca8,
		0xc02c, 0xc030, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035,
	};
	static const uint16_t	sigalgs[] = {
		0x0403, 0x0503, 0x0603, 0x0804, 0x0805, 0x0806, 0x0401,
		0x0501, 0x0601, 0x0203, 0x0201,
	};
	struct wire	 wr = { .wr_buf = buf, .wr_len = 0 };
	uint64_t	 seed = 0x9e3779b97f4a7c15ULL ^ (uint64_t)strlen(name);
	size_t		 rec, hs, ext, at, at2, i, nlen = strlen(name);

	wire_u8(&wr, 0x16);
	wire_u16(&wr, 0x0301);
	rec = wire_open(&wr, 2);
	wire_u8(&wr, 0x01);
	hs = wire_open(&wr, 3);
	wire_u16(&wr, 0x0303);
	if (bulk_mib > 0) {
		wire_put(&wr, marker, 4);
		wire_u16(&wr, bulk_mib >> 16);
		wire_u16(&wr, bulk_mib & 0xffff);
		wire_random(&wr, 24, &seed);
	} else
		wire_random(&wr, 32, &seed);
	wire_u8(&wr, 32);
	wire_random(&wr, 32, &seed);
	wire_u16(&wr, sizeof(suites));
	for (i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
		wire_u16(&wr, suites[i]);
	wire_u8(&wr, 1);
	wire_u8(&wr, 0);
	ext = wire_open(&wr, 2);

	wire_u16(&wr, 0x0000);			/* server_name */
	at = wire_open(&wr, 2);
	at2 = wire_open(&wr, 2);
	wire_u8(&wr, 0);			/* host_name */
	wire_u16(&wr, (unsigned)nlen);
	wire_put(&wr, name, nlen);
	wire_close(&wr, at2, 2);
	wire_close(&wr, at, 2);

	wire_put(&wr, "\x00\x17\x00\x00", 4);	/* extended_master_secret */
	wire_put(&wr, "\xff\x01\x00\x01\x00", 5); /* renegotiation_info */

	wire_u16(&wr, 0x000a);			/* supported_groups */
	at = wire_open(&wr, 2);
	at2 = wire_open(&wr, 2);
	if (mlkem)
		wire_u16(&wr, 0x11ec);		/* X25519MLKEM768 */
	wire_u16(&wr, 0x001d);			/* x25519 */
	wire_u16(&wr, 0x0017);
	wire_u16(&wr, 0x0018);
	wire_u16(&wr, 0x0019);
	wire_u16(&wr, 0x0100);
	wire_u16(&wr, 0x0101);
	wire_close(&wr, at2, 2);
	wire_close(&wr, at, 2);

	wire_put(&wr, "\x00\x0b\x00\x02\x01\x00", 6); /* ec_point_formats */
	wire_put(&wr, "\x00\x23\x00\x00", 4);	/* session_ticket */
	wire_put(&wr, "\x00\x10\x00\x0e\x00\x0c\x02h2\x08http/1.1", 18);
	wire_put(&wr, "\x00\x05\x00\x05\x01\x00\x00\x00\x00", 9);

	wire_u16(&wr, 0x0033);			/* key_share */
	at = wire_open(&wr, 2);
	at2 = wire_open(&wr, 2);
	if (mlkem) {
		wire_u16(&wr, 0x11ec);
		wire_u16(&wr, LOAD_MLKEM_SHARE);
		wire_random(&wr, LOAD_MLKEM_SHARE, &seed);
	}
	wire_u16(&wr, 0x001d);
	wire_u16(&wr, 32);
	wire_random(&wr, 32, &seed);
	wire_close(&wr, at2, 2);
	wire_close(&wr, at, 2);

	wire_put(&wr, "\x00\x2b\x00\x05\x04\x03\x04\x03\x03", 9);
	wire_u16(&wr, 0x000d);			/* signature_algorithms */
	wire_u16(&wr, 2 + sizeof(sigalgs));
	wire_u16(&wr, sizeof(sigalgs));
	for (i = 0; i < sizeof(sigalgs) / sizeof(sigalgs[0]); i++)
		wire_u16(&wr, sigalgs[i]);
	wire_put(&wr, "\x00\x2d\x00\x02\x01\x01", 6); /* psk_key_exchange_modes */
	wire_put(&wr, "\x00\x1c\x00\x02\x40\x01", 6); /* record_size_limit */

	wire_close(&wr, ext, 2);
	wire_close(&wr, hs, 3);
	wire_close(&wr, rec, 2);
	return wr.wr_len;
}

/*
 * load_request - -h: the request for name, in place of its hello
 * (RFC 9112 3: request-line, the fields, an empty line; Host the name
 * alone, as a browser sends it for port 80); its length
 */
static size_t
load_request(uint8_t *buf, const char *name)
{
	return (size_t)snprintf((char *)buf, LOAD_HELLO_MAX,
	    "GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", name);
}

/* load_addr - parse HOST:PORT (IPv4) */
static int
load_addr(const char *s, struct sockaddr_in *sin)
{
	char		 host[64];
	const char	*colon = strrchr(s, ':');

	if (colon == NULL || (size_t)(colon - s) >= sizeof(host))
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)atoi(colon + 1));
	return inet_pton(AF_INET, host, &sin->sin_addr) == 1 ? 0 : -1;
}

/*
 * load_proxy - the PROXY protocol header of connection number n to dst,
 * version 1 or 2, into buf (LOAD_PROXY_MAX bytes); its length.  The
 * layouts (haproxy doc/proxy-protocol.txt, 2.1 and 2.2):
 *
 *   v1: "PROXY TCP4 " src " " dst " " sport " " dport "\r\n"
 *   v2: signature 0d 0a 0d 0a 00 0d 0a 51 55 49 54 0a, 21 (version 2,
 *       PROXY), 11 (TCP over IPv4), length(2) 12, then source(4),
 *       destination(4), source port(2), destination port(2)
 *
 * The client: 198.51.100.(1 + n % 254), port 1024 + n / 254 % 64512.
 */
static size_t
load_proxy(uint8_t *buf, int version, uint64_t n,
    const struct sockaddr_in *dst)
{
	static const uint8_t	 sig[12] = "\r\n\r\n\0\r\nQUIT\n";
	struct wire		 wr = { .wr_buf = buf, .wr_len = 0 };
	struct in_addr		 src;
	char			 s[INET_ADDRSTRLEN], d[INET_ADDRSTRLEN];
	unsigned		 sport = 1024 + (unsigned)(n / 254 % 64512);

	src.s_addr = htonl(LOAD_PROXY_NET + 1 + (uint32_t)(n % 254));
	if (version == 1) {
		inet_ntop(AF_INET, &src, s, sizeof(s));
		inet_ntop(AF_INET, &dst->sin_addr, d, sizeof(d));
		return (size_t)snprintf((char *)buf, LOAD_PROXY_MAX,
		    "PROXY TCP4 %s %s %u %u\r\n", s, d, sport,
		    ntohs(dst->sin_port));
	}
	wire_put(&wr, sig, sizeof(sig));
	wire_u8(&wr, 0x21);
	wire_u8(&wr, 0x11);
	wire_u16(&wr, 12);
	wire_put(&wr, &src, 4);
	wire_put(&wr, &dst->sin_addr, 4);
	wire_u16(&wr, sport);
	wire_put(&wr, &dst->sin_port, 2);
	return wr.wr_len;
}

/*
 * load_first - what connection c sends first: len bytes of its hello,
 * with -P behind a PROXY header in the same buffer (one send, one
 * segment, as a load balancer sends them); *len becomes the total
 */
static const uint8_t *
load_first(struct load *ld, const struct lconn *c, size_t *len)
{
	size_t	at;

	if (ld->ld_proxy == 0 || *len == 0)
		return ld->ld_hello[c->lc_name];
	at = load_proxy(ld->ld_out, ld->ld_proxy, c->lc_number,
	    &ld->ld_target[c->lc_name]);
	memcpy(ld->ld_out + at, ld->ld_hello[c->lc_name], *len);
	*len += at;
	return ld->ld_out;
}

/* load_socket - a non-blocking TCP socket bound to one of the sources */
static int
load_socket(struct load *ld, uint64_t n)
{
	struct sockaddr_in	src;
	int			fd, on = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (ld->ld_sources > 1) {
		memset(&src, 0, sizeof(src));
		src.sin_family = AF_INET;
		src.sin_addr.s_addr = htonl(0x7f000101U +
		    (uint32_t)(n % (uint64_t)ld->ld_sources));
		/* the port is chosen at connect, for the whole 4-tuple */
		(void)setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &on,
		    sizeof(on));
		if (bind(fd, (struct sockaddr *)&src, sizeof(src)) == -1) {
			close(fd);
			return -1;
		}
	}
	return fd;
}

/* load_start - open connection slot c; 0, or -1 (counted as an error) */
static int
load_start(struct load *ld, struct lconn *c, uint64_t now)
{
	struct epoll_event	ev;
	int			fd;

	c->lc_name = (int)(ld->ld_started & 1);
	c->lc_got = 0;
	c->lc_sent = 0;
	c->lc_head_end = 0;
	c->lc_body = 0;
	c->lc_start = now;
	c->lc_number = ld->ld_started;
	if ((fd = load_socket(ld, ld->ld_started++)) == -1)
		goto fail;
	if (connect(fd, (struct sockaddr *)&ld->ld_target[c->lc_name],
	    sizeof(ld->ld_target[0])) == -1 && errno != EINPROGRESS) {
		close(fd);
		goto fail;
	}
	ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
	ev.data.ptr = c;
	if (epoll_ctl(ld->ld_epoll, EPOLL_CTL_ADD, fd, &ev) == -1) {
		close(fd);
		goto fail;
	}
	c->lc_fd = fd;
	c->lc_state = LC_CONNECTING;
	ld->ld_active++;
	ld->ld_connecting++;
	return 0;

fail:
	ld->ld_err_connect++;
	c->lc_state = LC_FREE;
	c->lc_fd = -1;
	return -1;
}

/* load_more - whether the closed loop starts another connection */
static int
load_more(const struct load *ld, uint64_t now)
{
	return !load_stop && now < ld->ld_to &&
	    (ld->ld_max_conns == 0 || ld->ld_started < ld->ld_max_conns);
}

/* load_finish - slot c is done: count it, and start the next one */
static void
load_finish(struct load *ld, struct lconn *c, uint64_t now, uint64_t *err)
{
	if (c->lc_state == LC_CONNECTING)
		ld->ld_connecting--;
	close(c->lc_fd);
	c->lc_fd = -1;
	c->lc_state = LC_FREE;
	ld->ld_active--;
	if (err != NULL)
		(*err)++;
	else {
		if (now - ld->ld_last_end > ld->ld_stall && now <= ld->ld_to)
			ld->ld_stall = now - ld->ld_last_end;
		ld->ld_done_all++;
		ld->ld_bytes += ld->ld_upload > 0 ? c->lc_sent : c->lc_got;
		ld->ld_last_end = now;
		if (c->lc_start >= ld->ld_from && now <= ld->ld_to) {
			ld->ld_done++;
			ld->ld_hist[hist_index(now - c->lc_start)]++;
		}
	}
	while (ld->ld_idle == 0 && load_more(ld, now))
		if (load_start(ld, c, now) == 0)
			break;
}

/* load_http_200 - a status line's first LOAD_HTTP_STATUS bytes say 200 */
static int
load_http_200(const uint8_t *s)
{
	return memcmp(s, "HTTP/1.", 7) == 0 && s[7] >= '0' && s[7] <= '9' &&
	    memcmp(s + 8, " 200 ", 5) == 0;
}

/*
 * load_http_reply - -h: n more bytes of connection c's response, whose
 * layout is (RFC 9112 4 and 6)
 *
 *   HTTP-version SP status-code SP [reason-phrase] CRLF
 *   *(field-line CRLF)
 *   CRLF
 *   body
 *
 * The status is checked once its first bytes are in, whatever segments
 * they came in; the blank line is found across segments too.  0, or -1
 * when the bytes end the connection with an error (counted, c finished)
 */
static int
load_http_reply(struct load *ld, struct lconn *c, const uint8_t *buf,
    size_t n, uint64_t now)
{
	static const char	 blank[] = "\r\n\r\n";
	uint64_t		*err = NULL, before = c->lc_got;
	size_t			 i;

	for (i = 0; i < n && c->lc_got < LOAD_HTTP_STATUS; i++)
		c->lc_status[c->lc_got++] = buf[i];
	c->lc_got += n - i;
	if (before == 0 && buf[0] == 0x15)
		err = &ld->ld_err_alert;	/* a TLS alert: refused */
	else if (before < LOAD_HTTP_STATUS &&
	    c->lc_got >= LOAD_HTTP_STATUS && !load_http_200(c->lc_status))
		err = &ld->ld_err_status;
	for (i = 0; err == NULL && i < n; i++) {
		if (c->lc_head_end < 4) {
			/* on a mismatch, a CR may start the blank line anew */
			c->lc_head_end = buf[i] == blank[c->lc_head_end] ?
			    c->lc_head_end + 1 : buf[i] == '\r';
			continue;
		}
		if (buf[i] != 'a' + c->lc_name)
			err = &ld->ld_err_misrouted;
		c->lc_body++;
	}
	if (err == NULL)
		return 0;
	load_finish(ld, c, now, err);
	return -1;
}

/* load_complete - at EOF: the reply is whole, or the error it counts as */
static uint64_t *
load_complete(struct load *ld, const struct lconn *c)
{
	if (!ld->ld_http)
		return c->lc_got == ld->ld_reply ? NULL : &ld->ld_err_short;
	return c->lc_got >= LOAD_HTTP_STATUS && c->lc_head_end == 4 &&
	    c->lc_body == ld->ld_reply ? NULL : &ld->ld_err_short;
}

/* load_read - read the reply until EAGAIN or EOF */
static void
load_read(struct load *ld, struct lconn *c, uint64_t now)
{
	ssize_t	n;

	for (;;) {
		n = recv(c->lc_fd, load_buf, sizeof(load_buf), 0);
		if (n > 0 && ld->ld_http) {
			if (load_http_reply(ld, c, load_buf, (size_t)n,
			    now) == -1)
				return;
			continue;
		}
		if (n > 0) {
			/* the backend of name a answers with 'a's; 0x15
			 * is a TLS alert record: the switch refused */
			if (c->lc_got == 0 && load_buf[0] != 'a' + c->lc_name) {
				load_finish(ld, c, now, load_buf[0] == 0x15 ?
				    &ld->ld_err_alert : &ld->ld_err_misrouted);
				return;
			}
			c->lc_got += (uint64_t)n;
			continue;
		}
		if (n == 0) {
			load_finish(ld, c, now, load_complete(ld, c));
			return;
		}
		if (errno == EAGAIN || errno == EINTR)
			return;
		load_finish(ld, c, now, c->lc_got == 0 ? &ld->ld_err_reset :
		    &ld->ld_err_short);
		return;
	}
}

/* load_send - send the upload until EAGAIN; all sent, read the reply */
static void
load_send(struct load *ld, struct lconn *c, uint64_t now)
{
	uint64_t	left;
	ssize_t		n;

	while ((left = ld->ld_upload - c->lc_sent) > 0) {
		n = send(c->lc_fd, load_upload, left < sizeof(load_upload) ?
		    (size_t)left : sizeof(load_upload), MSG_NOSIGNAL);
		if (n > 0) {
			c->lc_sent += (uint64_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;		/* the next EPOLLOUT edge resumes */
		load_finish(ld, c, now, c->lc_sent == 0 ? &ld->ld_err_reset :
		    &ld->ld_err_short);
		return;
	}
	/* what came meanwhile raised no edge we waited for: read it now */
	c->lc_state = LC_READING;
	load_read(ld, c, now);
}

/* load_event - epoll reports on connection c */
static void
load_event(struct load *ld, struct lconn *c, uint32_t events, uint64_t now)
{
	const uint8_t	*out;
	size_t		 len;
	ssize_t		 n;

	if (c->lc_state == LC_IDLE) {
		/* nothing is expected on a held connection: it was closed */
		if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
			ld->ld_dropped++;
			close(c->lc_fd);
			c->lc_fd = -1;
			c->lc_state = LC_FREE;
			ld->ld_active--;
		}
		return;
	}
	if (c->lc_state == LC_CONNECTING) {
		if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return;
		len = ld->ld_hello_len[c->lc_name];
		if (ld->ld_idle > 0)
			len = c - ld->ld_conns < ld->ld_idle / 2 ? 0 : len / 2;
		out = load_first(ld, c, &len);
		n = len ? send(c->lc_fd, out, len, MSG_NOSIGNAL) : 0;
		if (n < 0 && errno == EAGAIN)
			return;		/* not connected yet */
		if (n != (ssize_t)len || (events & (EPOLLERR | EPOLLHUP))) {
			load_finish(ld, c, now, &ld->ld_err_connect);
			return;
		}
		ld->ld_connecting--;
		c->lc_state = ld->ld_idle > 0 ? LC_IDLE : LC_READING;
		if (c->lc_state == LC_IDLE)
			return;
		if (ld->ld_upload > 0) {
			c->lc_state = LC_SENDING;
			load_send(ld, c, now);
			return;
		}
	}
	if (c->lc_state == LC_SENDING) {
		if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
			load_send(ld, c, now);
		return;
	}
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		load_read(ld, c, now);
}

/* load_sweep - end connections past their timeout */
static void
load_sweep(struct load *ld, uint64_t now)
{
	struct lconn	*c;
	int		 i, n = ld->ld_idle ? ld->ld_idle : ld->ld_conc;

	for (i = 0; i < n; i++) {
		c = &ld->ld_conns[i];
		if ((c->lc_state == LC_CONNECTING || c->lc_state == LC_SENDING ||
		    c->lc_state == LC_READING) &&
		    now - c->lc_start > ld->ld_timeout_ns)
			load_finish(ld, c, now, &ld->ld_err_timeout);
	}
}

/* load_report - the result line */
static void
load_report(struct load *ld)
{
	struct rusage	ru;
	double		secs = ld->ld_duration, span, cpu = 0;
	uint64_t	end = load_now();

	/* no completion from the last one to the end of -d is a stall too */
	if (end > ld->ld_to)
		end = ld->ld_to;
	if (end > ld->ld_last_end && end - ld->ld_last_end > ld->ld_stall)
		ld->ld_stall = end - ld->ld_last_end;

	span = ld->ld_last_end > ld->ld_t0 ?
	    (double)(ld->ld_last_end - ld->ld_t0) / 1e9 : 0;
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
		    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
	printf("conns=%llu seconds=%.3f rate=%.1f p50_us=%.1f p90_us=%.1f "
	    "p99_us=%.1f max_us=%.1f errors=%llu connect=%llu reset=%llu "
	    "timeout=%llu short=%llu misrouted=%llu alert=%llu status=%llu "
	    "all=%llu mibps=%.1f cpu_s=%.3f stall_ms=%.1f\n",
	    (unsigned long long)ld->ld_done, secs, (double)ld->ld_done / secs,
	    hist_percentile(ld, 0.50) / 1e3, hist_percentile(ld, 0.90) / 1e3,
	    hist_percentile(ld, 0.99) / 1e3, hist_percentile(ld, 1.0) / 1e3,
	    (unsigned long long)(ld->ld_err_connect + ld->ld_err_reset +
	    ld->ld_err_timeout + ld->ld_err_short + ld->ld_err_misrouted +
	    ld->ld_err_alert + ld->ld_err_status),
	    (unsigned long long)ld->ld_err_connect,
	    (unsigned long long)ld->ld_err_reset,
	    (unsigned long long)ld->ld_err_timeout,
	    (unsigned long long)ld->ld_err_short,
	    (unsigned long long)ld->ld_err_misrouted,
	    (unsigned long long)ld->ld_err_alert,
	    (unsigned long long)ld->ld_err_status,
	    (unsigned long long)ld->ld_done_all,
	    span > 0 ? (double)ld->ld_bytes / (1 << 20) / span : 0.0, cpu,
	    (double)ld->ld_stall / 1e6);
}

/* load_idle - -H: connect and hold ld_idle connections */
static void
load_idle(struct load *ld)
{
	struct epoll_event	 events[LOAD_EVENTS];
	uint64_t		 now;
	int			 i, n, next = 0, announced = 0;

	while (!load_stop && (now = load_now()) < ld->ld_to) {
		/*
		 * Paced: a connection is established for us as soon as it
		 * is in the listener's accept queue, and a switch short of
		 * CPU would let that queue overflow; the dropped SYNs would
		 * come back only after seconds of retransmission backoff.
		 */
		while (next < ld->ld_idle &&
		    ld->ld_connecting < LOAD_IDLE_CONNECTING &&
		    (double)next < (double)(now - ld->ld_t0) / 1e9 *
		    LOAD_IDLE_RATE + 1)
			(void)load_start(ld, &ld->ld_conns[next++], now);
		if (!announced && next == ld->ld_idle &&
		    ld->ld_connecting == 0) {
			printf("held=%d errors=%llu connect_s=%.3f\n",
			    ld->ld_active,
			    (unsigned long long)ld->ld_err_connect,
			    (double)(now - ld->ld_t0) / 1e9);
			fflush(stdout);
			announced = 1;
		}
		n = epoll_wait(ld->ld_epoll, events, LOAD_EVENTS,
		    next < ld->ld_idle ? 1 : 100);
		now = load_now();
		for (i = 0; i < n; i++)
			load_event(ld, events[i].data.ptr, events[i].events,
			    now);
	}
	printf("held=%d dropped=%llu errors=%llu\n", ld->ld_active,
	    (unsigned long long)ld->ld_dropped,
	    (unsigned long long)ld->ld_err_connect);
}

/* load_run - the closed loop */
static void
load_run(struct load *ld)
{
	struct epoll_event	 events[LOAD_EVENTS];
	uint64_t		 now, sweep;
	int			 i, n;

	now = load_now();
	for (i = 0; i < ld->ld_conc && load_more(ld, now); i++)
		(void)load_start(ld, &ld->ld_conns[i], now);
	sweep = now + LOAD_SWEEP_NS;
	while (ld->ld_active > 0) {
		n = epoll_wait(ld->ld_epoll, events, LOAD_EVENTS, 50);
		now = load_now();
		for (i = 0; i < n; i++)
			load_event(ld, events[i].data.ptr, events[i].events,
			    now);
		if (now >= sweep) {
			load_sweep(ld, now);
			sweep = now + LOAD_SWEEP_NS;
		}
		/* a slot whose start failed stays free: retry it */
		for (i = 0; ld->ld_active < ld->ld_conc && i < ld->ld_conc &&
		    load_more(ld, now); i++)
			if (ld->ld_conns[i].lc_state == LC_FREE)
				(void)load_start(ld, &ld->ld_conns[i], now);
	}
}

/* load_nofile - raise the descriptor limit to what slots need */
static void
load_nofile(int slots)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return;
	if (rl.rlim_cur < (rlim_t)slots + 64) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int
main(int argc, char **argv)
{
	static struct load	 ld;
	static struct lconn	 first;	/* -D: connection 0, a.bench.test */
	const uint8_t		*out;
	size_t			 len;
	struct sigaction	 sa;
	uint32_t		 upload_mib = 0;
	int			 ch, have_b = 0, slots, i;

	ld.ld_conc = 20;
	ld.ld_duration = 5;
	ld.ld_warmup = 0.5;
	ld.ld_reply = 64;
	ld.ld_timeout_ns = 10000000000ULL;
	ld.ld_sources = 64;
	while ((ch = getopt(argc, argv, "b:c:Dd:hH:k:N:o:P:r:S:t:T:u:w:")) != -1) {
		switch (ch) {
		case 'b': ld.ld_bulk_mib = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'c': ld.ld_conc = atoi(optarg); break;
		case 'D': ld.ld_dump = 1; break;
		case 'd': ld.ld_duration = atof(optarg); break;
		case 'h': ld.ld_http = 1; break;
		case 'H': ld.ld_idle = atoi(optarg); break;
		case 'k':
			if (strcmp(optarg, "mlkem") == 0)
				ld.ld_mlkem = 1;
			else if (strcmp(optarg, "x25519") != 0)
				load_usage();
			break;
		case 'N': ld.ld_max_conns = strtoull(optarg, NULL, 10); break;
		case 'o': ld.ld_timeout_ns = strtoull(optarg, NULL, 10) *
			    1000000ULL;
			break;
		case 'P': ld.ld_proxy = atoi(optarg);
			if (ld.ld_proxy != 1 && ld.ld_proxy != 2)
				load_usage();
			break;
		case 'r': ld.ld_reply = strtoull(optarg, NULL, 10); break;
		case 'S': ld.ld_sources = atoi(optarg); break;
		case 't':
			if (load_addr(optarg, &ld.ld_target[0]) == -1)
				load_usage();
			break;
		case 'T':
			if (load_addr(optarg, &ld.ld_target[1]) == -1)
				load_usage();
			have_b = 1;
			break;
		case 'u': upload_mib = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'w': ld.ld_warmup = atof(optarg); break;
		default: load_usage();
		}
	}
	if ((ld.ld_target[0].sin_family == 0 && !ld.ld_dump) || optind != argc ||
	    ld.ld_conc < 1 || ld.ld_duration <= 0 || ld.ld_warmup < 0 ||
	    ld.ld_idle < 0 || ld.ld_sources < 1 || ld.ld_sources > 250 ||
	    (ld.ld_bulk_mib > 0 && upload_mib > 0) || (ld.ld_http &&
	    (ld.ld_mlkem || ld.ld_bulk_mib > 0 || upload_mib > 0)))
		load_usage();
	if (!have_b)
		ld.ld_target[1] = ld.ld_target[0];
	if (ld.ld_bulk_mib > 0) {
		ld.ld_reply = (uint64_t)ld.ld_bulk_mib << 20;
		ld.ld_warmup = 0;
	}
	if (upload_mib > 0) {
		ld.ld_upload = (uint64_t)upload_mib << 20;
		ld.ld_warmup = 0;
		memset(load_upload, 'u', sizeof(load_upload));
	}
	for (i = 0; i < 2; i++)
		ld.ld_hello_len[i] = ld.ld_http ?
		    load_request(ld.ld_hello[i], load_names[i]) :
		    load_hello(ld.ld_hello[i], load_names[i],
		    ld.ld_mlkem, upload_mib > 0 ? "UPLD" : "BULK",
		    upload_mib > 0 ? upload_mib : ld.ld_bulk_mib);
	if (ld.ld_dump) {
		len = ld.ld_hello_len[0];
		out = load_first(&ld, &first, &len);
		return fwrite(out, len, 1, stdout) == 1 ? 0 : 1;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = load_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	slots = ld.ld_idle ? ld.ld_idle : ld.ld_conc;
	load_nofile(slots);
	if ((ld.ld_conns = calloc((size_t)slots, sizeof(*ld.ld_conns))) == NULL ||
	    (ld.ld_epoll = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		perror("bench-load");
		return 1;
	}
	ld.ld_t0 = load_now();
	ld.ld_last_end = ld.ld_t0;	/* the first stall starts here */
	ld.ld_from = ld.ld_t0 + (uint64_t)(ld.ld_warmup * 1e9);
	ld.ld_to = ld.ld_from + (uint64_t)(ld.ld_duration * 1e9);
	if (ld.ld_idle > 0) {
		load_idle(&ld);
		return 0;
	}
	load_run(&ld);
	load_report(&ld);
	return 0;
}
