/*
 * demo.c - snitch-demo: a small TLS backend on libsnitch's one-call API.
 *
 * Run by hand, by `make run` and by the tests, as any user that may
 * create SOCKET; it needs no privilege.  The parent only receives
 * connections and forks one child per connection; the child runs the TLS
 * handshake and answers one HTTP request with what the handoff told it
 * (backend, server names, addresses, ALPN, ECH), one key=value a line,
 * so that a test can check what a backend sees.  A client whose first
 * byte starts no TLS handshake record (one from SNItch's listen_http
 * listeners) gets the same answer in clear, with tls=0.  The body's format is
 * what the tests grep: change both together.
 *
 * Its logging is not common/log.c (the Makefile links snitch-demo with
 * libsnitch only): each line is a single write(2) to stderr, so that the
 * lines of concurrent children do not mix.  Client-controlled strings are
 * escaped before they reach the log or the body.
 */
#include <sys/socket.h>
#include <sys/time.h>

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "dumpable.h"
#include "snitch.h"

#define DEMO_NAME_MAX		64	/* -n, it is in every line */
#define DEMO_REQUEST_MAX	8192	/* request line and headers */
#define DEMO_IO_TIMEOUT		10	/* seconds per read, write */
#define DEMO_ERR_MAX		512	/* around an OpenSSL reason */
#define DEMO_TICK_MS		250	/* longest wait before a stop is seen */
/* the ALPN list escaped (4 bytes per byte at worst), and the rest */
#define DEMO_BODY_MAX		(4 * SNITCH_ALPN_MAX + 4096)

/* What the TLS callbacks saw, for the body. */
struct demo_tls {
	char	dt_sni[4 * SNITCH_NAME_MAX + 4];	/* escaped SNI */
};

static const char		*demo_name;	/* -n */
static volatile sig_atomic_t	 demo_stop;

/* demo_log - one line "snitch-demo NAME: ..." to stderr in one write */
static void __attribute__((format(printf, 1, 2)))
demo_log(const char *fmt, ...)
{
	char	 line[1024];
	va_list	 ap;
	int	 head, n;

	head = snprintf(line, sizeof(line), "snitch-demo %s: ",
	    demo_name != NULL ? demo_name : "-");
	if (head < 0 || (size_t)head >= sizeof(line))
		return;
	va_start(ap, fmt);
	n = vsnprintf(line + head, sizeof(line) - head, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	n += head;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, n);
}

/*
 * demo_escape - in[0..len) with bytes outside printable ASCII (and
 * '\\', ',', '=', space) as \xHH, NUL-terminated; cut short if out is
 * too small.  ',' and '=' would forge list items or keys in the body.
 */
static void
demo_escape(const unsigned char *in, size_t len, char *out, size_t size)
{
	size_t	 i, o = 0;

	if (size == 0)
		return;
	for (i = 0; i < len; i++) {
		if (in[i] > ' ' && in[i] < 0x7f && in[i] != '\\' &&
		    in[i] != ',' && in[i] != '=') {
			if (size - o < 2)
				break;
			out[o++] = in[i];
		} else {
			if (size - o < 5)
				break;
			(void)snprintf(out + o, 5, "\\x%02x", in[i]);
			o += 4;
		}
	}
	out[o] = '\0';
}

/* demo_append - add a formatted string at *len; -1 when out is full */
static int __attribute__((format(printf, 4, 5)))
demo_append(char *out, size_t size, size_t *len, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(out + *len, size - *len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size - *len)
		return -1;
	*len += n;
	return 0;
}

/* demo_on_signal - SIGTERM, SIGINT: ask the main loop to stop */
static void
demo_on_signal(int signo)
{
	(void)signo;
	demo_stop = 1;
}

/* demo_on_tick - SIGALRM: nothing; it only interrupts snitch_next's poll */
static void
demo_on_tick(int signo)
{
	(void)signo;
}

/*
 * demo_tick - a SIGALRM every DEMO_TICK_MS.  A stop signal that comes
 * between demo_loop's test of demo_stop and libsnitch's poll would wait
 * for the next connection, which after a handover never comes; the tick
 * makes the poll return EINTR, so the stop is seen within a tick.  A
 * forked child has no timer (fork does not inherit it).
 */
static void
demo_tick(void)
{
	struct itimerval	it;

	it.it_interval.tv_sec = 0;
	it.it_interval.tv_usec = DEMO_TICK_MS * 1000;
	it.it_value = it.it_interval;
	if (setitimer(ITIMER_REAL, &it, NULL) < 0)
		demo_log("setitimer: %s", strerror(errno));
}

/* demo_alpn_select - choose http/1.1 when the client offers it, else none */
static int
demo_alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned int inlen, void *arg)
{
	unsigned int	 off = 0, len;

	(void)ssl;
	(void)arg;
	while (off < inlen) {
		len = in[off];
		if (len == 0 || inlen - off - 1 < len)
			break;
		if (len == 8 && memcmp(in + off + 1, "http/1.1", 8) == 0) {
			*out = in + off + 1;
			*outlen = len;
			return SSL_TLSEXT_ERR_OK;
		}
		off += 1 + len;
	}
	/* No ALPN rather than a fatal no_application_protocol alert. */
	return SSL_TLSEXT_ERR_NOACK;
}

/* demo_servername - record the name the client asked for; accept any */
static int
demo_servername(SSL *ssl, int *alert, void *arg)
{
	struct demo_tls	*dt = SSL_get_app_data(ssl);
	const char	*name;

	(void)alert;
	(void)arg;
	name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	if (dt != NULL && name != NULL)
		demo_escape((const unsigned char *)name, strlen(name),
		    dt->dt_sni, sizeof(dt->dt_sni));
	return SSL_TLSEXT_ERR_OK;
}

/* demo_ssl_error - why an SSL call returning ret failed, into err */
static void
demo_ssl_error(SSL *ssl, int ret, const char *what, char *err, size_t size)
{
	unsigned long	 e;
	int		 saved = errno;
	char		 reason[256];

	switch (SSL_get_error(ssl, ret)) {
	case SSL_ERROR_ZERO_RETURN:
		(void)snprintf(err, size, "%s: client closed", what);
		break;
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		/* SO_RCVTIMEO/SO_SNDTIMEO expired: the socket said EAGAIN. */
		(void)snprintf(err, size, "%s: timed out", what);
		break;
	case SSL_ERROR_SYSCALL:
		if ((e = ERR_get_error()) != 0) {
			ERR_error_string_n(e, reason, sizeof(reason));
			(void)snprintf(err, size, "%s: %s", what, reason);
		} else
			(void)snprintf(err, size, "%s: %s", what,
			    saved ? strerror(saved) : "unexpected EOF");
		break;
	default:
		if ((e = ERR_get_error()) != 0)
			ERR_error_string_n(e, reason, sizeof(reason));
		else
			(void)snprintf(reason, sizeof(reason), "unknown error");
		(void)snprintf(err, size, "%s: %s", what, reason);
		break;
	}
	ERR_clear_error();
}

/* demo_body - the answer's body: what this backend was told */
static int
demo_body(SSL *ssl, const struct demo_tls *dt, const struct snitch_conn *conn,
    char *body, size_t size, size_t *len)
{
	const unsigned char	*proto;
	const char		*sni = NULL;
	char			 client[SNITCH_ADDR_MAX];
	char			 local[SNITCH_ADDR_MAX];
	char			 esc[4 * 255 + 1];
	size_t			 off = 0, proto_len;
	int			 first = 1;

	if (snitch_addr_format(&conn->sc_client, client, sizeof(client)) < 0)
		(void)snprintf(client, sizeof(client), "-");
	if (snitch_addr_format(&conn->sc_local, local, sizeof(local)) < 0)
		(void)snprintf(local, sizeof(local), "-");
	if (ssl != NULL)
		sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	if (sni != NULL)
		demo_escape((const unsigned char *)sni, strlen(sni), esc,
		    sizeof(esc));
	*len = 0;
	/* sc_server_name is a host name (libsnitch checked it): no escaping. */
	if (demo_append(body, size, len, "backend=%s\nserver_name=%s\n"
	    "tls_server_name=%s\nclient=%s\nlocal=%s\nalpn=", demo_name,
	    conn->sc_server_name[0] != '\0' ? conn->sc_server_name : "-",
	    sni != NULL ? esc : dt->dt_sni[0] != '\0' ? dt->dt_sni : "-",
	    client, local) < 0)
		return -1;
	while (snitch_alpn_next(conn, &off, &proto, &proto_len) == 1) {
		demo_escape(proto, proto_len, esc, sizeof(esc));
		if (demo_append(body, size, len, "%s%s", first ? "" : ",",
		    esc) < 0)
			return -1;
		first = 0;
	}
	if (first && demo_append(body, size, len, "-") < 0)
		return -1;
	/* The balancer's own id for the connection, if one sent it. */
	if ((proto = snitch_tlv(conn, SNITCH_TLV_UNIQUE_ID, &proto_len)) != NULL)
		demo_escape(proto, proto_len, esc, sizeof(esc));
	return demo_append(body, size, len, "\nech=%d\ntls=%d\nunique_id=%s\n",
	    conn->sc_ech ? 1 : 0, ssl != NULL, proto != NULL ? esc : "-");
}

/*
 * demo_plain - whether the client on fd speaks in clear: its first byte
 * starts no TLS handshake record (RFC 8446 5.1: content type 22)
 */
static int
demo_plain(int fd)
{
	unsigned char	first;

	return recv(fd, &first, 1, MSG_PEEK) == 1 && first != 22;
}

/* demo_read - read from the client, through TLS unless ssl is NULL */
static int
demo_read(SSL *ssl, int fd, char *buf, size_t len, char *err, size_t size)
{
	ssize_t	n;

	if (ssl != NULL) {
		if ((n = SSL_read(ssl, buf, (int)len)) <= 0)
			demo_ssl_error(ssl, (int)n, "read", err, size);
		return (int)n;
	}
	if ((n = read(fd, buf, len)) <= 0)
		(void)snprintf(err, size, "read: %s", n == 0 ?
		    "client closed" : strerror(errno));
	return (int)n;
}

/* demo_write - write the whole answer, through TLS unless ssl is NULL */
static int
demo_write(SSL *ssl, int fd, const char *buf, size_t len, char *err,
    size_t size)
{
	ssize_t	n;

	if (ssl != NULL) {
		if ((n = SSL_write(ssl, buf, (int)len)) != (ssize_t)len) {
			demo_ssl_error(ssl, (int)n, "write", err, size);
			return -1;
		}
		return 0;
	}
	if ((n = write(fd, buf, len)) != (ssize_t)len) {
		(void)snprintf(err, size, "write: %s", n < 0 ?
		    strerror(errno) : "short");
		return -1;
	}
	return 0;
}

/* demo_serve - the child: handshake, read one request, answer; -1 with err */
static int
demo_serve(SSL_CTX *ctx, const struct snitch_conn *conn, char *err,
    size_t size)
{
	static char	 body[DEMO_BODY_MAX], answer[DEMO_BODY_MAX + 256];
	struct timeval	 tv = { .tv_sec = DEMO_IO_TIMEOUT };
	struct demo_tls	 dt = { .dt_sni = "" };
	char		 request[DEMO_REQUEST_MAX];
	size_t		 got = 0, body_len, answer_len = 0;
	SSL		*ssl = NULL;
	int		 n, ret = -1;

	/* A client that stalls holds only this child, and only this long. */
	if (setsockopt(conn->sc_fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
	    sizeof(tv)) < 0 || setsockopt(conn->sc_fd, SOL_SOCKET,
	    SO_SNDTIMEO, &tv, sizeof(tv)) < 0) {
		(void)snprintf(err, size, "setsockopt: %s", strerror(errno));
		goto done;
	}
	if (demo_plain(conn->sc_fd))
		;	/* HTTP in clear: no handshake */
	else if ((ssl = SSL_new(ctx)) == NULL ||
	    !SSL_set_fd(ssl, conn->sc_fd) || !SSL_set_app_data(ssl, &dt)) {
		(void)snprintf(err, size, "SSL_new: %s",
		    ERR_error_string(ERR_get_error(), NULL));
		goto done;
	} else if ((n = SSL_accept(ssl)) != 1) {
		demo_ssl_error(ssl, n, "handshake", err, size);
		goto done;
	}

	/* The request up to its blank line (RFC 9112 2.2 allows bare LF). */
	for (;;) {
		if (memmem(request, got, "\r\n\r\n", 4) != NULL ||
		    memmem(request, got, "\n\n", 2) != NULL)
			break;
		if (got == sizeof(request)) {
			(void)snprintf(err, size, "request over %d bytes",
			    DEMO_REQUEST_MAX);
			goto done;
		}
		n = demo_read(ssl, conn->sc_fd, request + got,
		    sizeof(request) - got, err, size);
		if (n <= 0)
			goto done;
		got += n;
	}

	if (demo_body(ssl, &dt, conn, body, sizeof(body), &body_len) < 0 ||
	    demo_append(answer, sizeof(answer), &answer_len,
	    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n\r\n", body_len) < 0 ||
	    sizeof(answer) - answer_len < body_len) {
		(void)snprintf(err, size, "answer too long");
		goto done;
	}
	memcpy(answer + answer_len, body, body_len);
	answer_len += body_len;
	if (demo_write(ssl, conn->sc_fd, answer, answer_len, err, size) == -1)
		goto done;
	/* close_notify, then FIN: the client knows the answer is whole. */
	if (ssl != NULL)
		(void)SSL_shutdown(ssl);
	(void)shutdown(conn->sc_fd, SHUT_WR);
	ret = 0;

done:
	SSL_free(ssl);
	(void)close(conn->sc_fd);
	return ret;
}

/* demo_child - run in the forked child for one connection; never returns */
static void __attribute__((noreturn))
demo_child(struct snitch_server *srv, SSL_CTX *ctx,
    const struct snitch_conn *conn)
{
	struct sigaction	 sa;
	char			 client[SNITCH_ADDR_MAX], err[DEMO_ERR_MAX];
	const char		*name;

	/*
	 * Drop the listener and the channels: a child that outlives the
	 * parent must not keep the socket answering nor the workers'
	 * channels open.
	 */
	snitch_close(srv);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGINT, &sa, NULL);

	if (snitch_addr_format(&conn->sc_client, client, sizeof(client)) < 0)
		(void)snprintf(client, sizeof(client), "-");
	name = conn->sc_server_name[0] != '\0' ? conn->sc_server_name : "-";
	/* ech= too: a hello with ECH (or a test's fake one) may never
	 * finish its handshake here, and the log is then all that shows
	 * what the handoff said. */
	if (demo_serve(ctx, conn, err, sizeof(err)) < 0) {
		demo_log("client=%s server_name=%s ech=%d: %s", client, name,
		    conn->sc_ech ? 1 : 0, err);
		_exit(1);
	}
	demo_log("client=%s server_name=%s ech=%d done", client, name,
	    conn->sc_ech ? 1 : 0);
	_exit(0);
}

/* demo_tls_context - the TLS server context all children share */
static SSL_CTX *
demo_tls_context(const char *cert, const char *key)
{
	SSL_CTX	*ctx;

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL)
		return NULL;
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
	    SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_alpn_select_cb(ctx, demo_alpn_select, NULL);
	SSL_CTX_set_tlsext_servername_callback(ctx, demo_servername);
	return ctx;
}

/* demo_usage - print the synopsis and exit 1 */
static void __attribute__((noreturn))
demo_usage(void)
{
	(void)fprintf(stderr, "usage: snitch-demo [-r] -s SOCKET -n NAME "
	    "-c CERT.pem -k KEY.pem [-m MODE] [-u USER]\n");
	exit(1);
}

/*
 * demo_loop - receive connections and fork a child for each; on SIGTERM
 * or SIGINT take no new handoff, serve those already sent (snitch_drain)
 * and return 0; -1 on a failure, logged
 */
static int
demo_loop(struct snitch_server *srv, SSL_CTX *ctx)
{
	struct snitch_conn	conn;
	pid_t			pid;
	int			draining = 0;

	for (;;) {
		/* A signal just after this test waits for demo_tick's */
		if (demo_stop && !draining) {
			demo_log("stopping: draining the channels");
			(void)snitch_drain(srv);
			draining = 1;
		}
		if (snitch_next(srv, &conn) < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ESHUTDOWN)
				return 0;
			demo_log("snitch_next: %s", strerror(errno));
			return -1;
		}
		if ((pid = fork()) < 0) {
			demo_log("fork: %s", strerror(errno));
			(void)close(conn.sc_fd);
			continue;
		}
		if (pid == 0)
			demo_child(srv, ctx, &conn);
		(void)close(conn.sc_fd);
	}
}

/* main - set up, then receive connections and fork a child for each */
int
main(int argc, char *argv[])
{
	struct snitch_server	*srv;
	struct sigaction	 sa;
	SSL_CTX			*ctx;
	const char		*sock = NULL, *cert = NULL, *key = NULL;
	const char		*p;
	char			*end;
	unsigned long		 mode = 0;
	uid_t			 peer = SNITCH_PEER_ANY;
	int			 ch, flags = 0;

	/* no ptrace, no pidfd_getfd of the clients by our uid: dumpable.c */
	if (dumpable_set(0) < 0) {
		demo_log("PR_SET_DUMPABLE: %s", strerror(errno));
		return 1;
	}
	while ((ch = getopt(argc, argv, "rs:n:c:k:m:u:")) != -1) {
		switch (ch) {
		case 'r':
			flags |= SNITCH_REPLACE;
			break;
		case 's':
			sock = optarg;
			break;
		case 'n':
			demo_name = optarg;
			break;
		case 'c':
			cert = optarg;
			break;
		case 'k':
			key = optarg;
			break;
		case 'u':
			if (snitch_peer_uid(optarg, &peer) < 0)
				demo_usage();
			break;
		case 'm':
			errno = 0;
			mode = strtoul(optarg, &end, 8);
			if (errno || end == optarg || *end != '\0' ||
			    mode > 07777)
				demo_usage();
			break;
		default:
			demo_usage();
		}
	}
	if (optind != argc || sock == NULL || demo_name == NULL ||
	    cert == NULL || key == NULL)
		demo_usage();
	/* The name is in every log line and the body: keep it plain. */
	if (*demo_name == '\0' || strlen(demo_name) > DEMO_NAME_MAX)
		demo_usage();
	for (p = demo_name; *p != '\0'; p++)
		if (*p <= ' ' || *p >= 0x7f || *p == '\\' || *p == '=' ||
		    *p == ',')
			demo_usage();

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	/* A client gone mid-write is an EPIPE for that child, not a death. */
	sa.sa_handler = SIG_IGN;
	(void)sigaction(SIGPIPE, &sa, NULL);
	/* Children are reaped by the kernel: the parent never waits. */
	sa.sa_handler = SIG_DFL;
	sa.sa_flags = SA_NOCLDWAIT;
	(void)sigaction(SIGCHLD, &sa, NULL);
	/* No SA_RESTART: the signal must interrupt poll in snitch_next. */
	sa.sa_handler = demo_on_signal;
	sa.sa_flags = 0;
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = demo_on_tick;
	(void)sigaction(SIGALRM, &sa, NULL);

	if ((ctx = demo_tls_context(cert, key)) == NULL) {
		demo_log("%s, %s: %s", cert, key,
		    ERR_error_string(ERR_get_error(), NULL));
		return 1;
	}
	if ((srv = snitch_open_flags(sock, (mode_t)mode, peer, flags)) == NULL) {
		demo_log("%s: %s", sock, strerror(errno));
		SSL_CTX_free(ctx);
		return 1;
	}
	demo_log("listening on %s", sock);
	demo_tick();
	if (demo_loop(srv, ctx) < 0) {
		snitch_close(srv);
		SSL_CTX_free(ctx);
		return 1;
	}
	demo_log("stopped");
	snitch_close(srv);
	SSL_CTX_free(ctx);
	return 0;
}
