/*
 * serve.c - answer one stats client: HTTP GET /metrics (Prometheus), or
 * the line "summary" (`snitch -s`).
 *
 * Runs in snitch-stats: unprivileged, sandboxed, alone with what a
 * client sends, so a client that crashes it takes nothing else down
 * (the master restarts it).  One client at a time: each gets
 * SERVE_IO_MS to send its request and SERVE_IO_MS to take the answer,
 * whatever it does, and a request of more than SERVE_REQ_MAX bytes is
 * refused (431), so no client holds the next one longer than that.
 *
 * The request, as read here (RFC 9112 section 3, section 2.2 for the
 * bare LF):
 *
 *   summary LF                              snitch -s, nothing else
 *   METHOD SP TARGET SP HTTP/1.x CRLF       only GET /metrics (a query
 *   *( header CRLF ) CRLF                   is ignored) is 200; other
 *                                           targets 404, junk 400
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "figures.h"
#include "render.h"
#include "serve.h"

#define SERVE_IO_MS	200	/* to send the request, and to take the answer */
#define SERVE_REQ_MAX	2048	/* a request line and headers */
/* serve_wait - wait for fd to be ready, until deadline (clock_ms) */
static int
serve_wait(int fd, short events, uint64_t deadline)
{
	struct pollfd	pfd = { .fd = fd, .events = events };
	uint64_t	now = clock_ms();

	if (now >= deadline)
		return -1;
	return poll(&pfd, 1, (int)(deadline - now)) == 1 ? 0 : -1;
}

/*
 * serve_read - the request: "summary\n", or an HTTP request up to the
 * blank line after its headers.  Its length; 0 when the client closed or
 * was too slow, -1 when it is longer than size - 1.
 */
static ssize_t
serve_read(int fd, char *req, size_t size)
{
	uint64_t	deadline = clock_ms() + SERVE_IO_MS;
	size_t		len = 0;
	ssize_t		n;

	for (;;) {
		req[len] = '\0';
		if (strcmp(req, SNAPSHOT_SUMMARY) == 0 ||
		    strstr(req, "\r\n\r\n") != NULL ||
		    strstr(req, "\n\n") != NULL)
			return (ssize_t)len;
		if (len == size - 1)
			return -1;
		if (serve_wait(fd, POLLIN, deadline) == -1)
			return 0;
		n = recv(fd, req + len, size - 1 - len, MSG_DONTWAIT);
		if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR))
			return 0;
		if (n > 0)
			len += (size_t)n;
	}
}

/*
 * serve_route - what to answer a request: its HTTP status (200 with
 * *fn set, or an error), or 0 for snitch -s.
 */
static int
serve_route(char *req, render_fn **fn)
{
	char	*method, *target, *version, *save = NULL;

	if (strcmp(req, SNAPSHOT_SUMMARY) == 0) {
		*fn = render_summary;
		return 0;
	}
	req[strcspn(req, "\r\n")] = '\0';
	method = strtok_r(req, " ", &save);
	target = strtok_r(NULL, " ", &save);
	version = strtok_r(NULL, " ", &save);
	if (method == NULL || target == NULL || version == NULL ||
	    strtok_r(NULL, " ", &save) != NULL ||
	    strncmp(version, "HTTP/1.", 7) != 0)
		return 400;
	target[strcspn(target, "?")] = '\0';
	if (strcmp(method, "GET") != 0 || strcmp(target, "/metrics") != 0)
		return 404;
	*fn = render_metrics;
	return 200;
}

/* serve_reason - the reason phrase of the statuses answered here */
static const char *
serve_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 404: return "Not Found";
	case 431: return "Request Header Fields Too Large";
	default: return "Bad Request";
	}
}

/* serve_write - send all of text, within SERVE_IO_MS in all */
static void
serve_write(int fd, const char *text, size_t len)
{
	uint64_t	deadline = clock_ms() + SERVE_IO_MS;
	size_t		off = 0;
	ssize_t		n;

	while (off < len) {
		n = send(fd, text + off, len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0)
			off += (size_t)n;
		else if ((n == -1 && errno != EAGAIN && errno != EINTR) ||
		    serve_wait(fd, POLLOUT, deadline) == -1)
			return;
	}
}

/*
 * serve_drain - discard what a refused client still sends, until its FIN
 * or SERVE_IO_MS: closing with unread bytes would send a RST, which can
 * destroy the answer before the client read it.
 */
static void
serve_drain(int fd)
{
	uint64_t	deadline = clock_ms() + SERVE_IO_MS;
	char		discard[512];
	ssize_t		n;

	while (serve_wait(fd, POLLIN, deadline) == 0 &&
	    ((n = recv(fd, discard, sizeof(discard), MSG_DONTWAIT)) > 0 ||
	    (n == -1 && (errno == EAGAIN || errno == EINTR))))
		;
}

/* serve_client - answer one client: its request, then the figures */
void
serve_client(int listen_fd)
{
	render_fn	*fn = NULL;
	char		 req[SERVE_REQ_MAX + 1], head[256], *text = NULL;
	const char	*type = "text/plain; charset=utf-8";
	size_t		 len = 0;
	ssize_t		 n;
	int		 fd, status, hlen;

	if ((fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK |
	    SOCK_CLOEXEC)) == -1)
		return;
	if ((n = serve_read(fd, req, sizeof(req))) == 0)
		goto done;
	status = n == -1 ? 431 : serve_route(req, &fn);
	if (fn != NULL && (text = figures_text(fn, &len)) == NULL)
		goto done;
	if (status == 0) {
		serve_write(fd, text, len);
		goto done;
	}
	if (status == 200)
		type = "text/plain; version=0.0.4; charset=utf-8";
	else {
		text = strdup(serve_reason(status));
		len = text != NULL ? strlen(text) : 0;
	}
	hlen = snprintf(head, sizeof(head), "HTTP/1.1 %d %s\r\nContent-Type: "
	    "%s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n", status,
	    serve_reason(status), type, len);
	serve_write(fd, head, (size_t)hlen);
	if (text != NULL)
		serve_write(fd, text, len);
	if (status == 431) {
		(void)shutdown(fd, SHUT_WR);
		serve_drain(fd);
	}
done:
	free(text);
	(void)shutdown(fd, SHUT_WR);
	close(fd);
}
