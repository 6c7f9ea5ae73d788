/*
 * access.c - the access log line: one per connection, key=value.
 *
 * Runs in the worker, unprivileged, once per connection, on what the
 * client sent.  The line was once 82% of a worker's user time
 * (bench/PROFILE.md): it is assembled by hand rather than by printf, the
 * date is formatted once a second, and client bytes (server name, ALPN)
 * go through strnvisx only when they hold a byte that needs escaping.
 *
 *   time=2026-11-30T07:12:03.456Z worker=0 gen=1 listener=127.0.0.1:443
 *   client=203.0.113.7:51234 name=www.example.org backend=web
 *   outcome=handoff alpn=h2,http/1.1 peek_us=153 hello_bytes=517 records=1
 *   via=-
 *
 * (one line); on a listen_http listener name= is the request's host,
 * normalized (a host name holds nothing to escape), and the detail has
 * method= and acme=1 for an ACME http-01 request; on a proxy_protocol
 * listener client= is the PROXY
 * header's client and via= the proxy that sent it (the socket's peer), with the outcome's detail (alert= reason=, fallback_of=,
 * then alpn_route= when an ALPN route chose the backend) right after
 * outcome=.  Keys are always present, in this order; a value
 * that does not apply is "-".  log_access sends it where access_log says.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <bsd/string.h>
#define LIBBSD_NETBSD_VIS	/* we use strnvisx only; silence the warning */
#include <bsd/vis.h>

#include "log.h"
#include "worker.h"

#define ACCESS_LINE_MAX		4096
#define ACCESS_NAME_MAX		128	/* raw name bytes shown */
#define ACCESS_ALPN_MAX		256	/* raw ALPN list bytes shown */
#define ACCESS_VIS		(VIS_CSTYLE | VIS_OCTAL | VIS_WHITE)

/*
 * Every writer below takes the end of the line and never passes it: a
 * piece that does not fit is cut, so the line's size is a bound by
 * construction, not by adding up what its callers promise.
 */

/* access_put - n bytes of src at p, as many as fit before end; the end */
static char *
access_put(char *p, const char *end, const void *src, size_t n)
{
	if (n > (size_t)(end - p))
		n = (size_t)(end - p);
	memcpy(p, src, n);
	return p + n;
}

/* ACCESS_PUT - append a string literal at p, within end */
#define ACCESS_PUT(p, end, lit) \
	((p) = access_put((p), (end), (lit), sizeof(lit) - 1))

/* access_decimal - v in decimal at p, within end; returns the end */
static char *
access_decimal(char *p, const char *end, uint64_t v)
{
	char	digits[20];
	int	n = 0;

	do
		digits[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	while (n > 0 && p < end)
		*p++ = digits[--n];
	return p;
}

/* access_addr - "1.2.3.4:5" or "[::1]:5" at out, within end; the end */
static char *
access_addr(const union conn_addr *a, char *out, const char *end)
{
	char		 host[INET6_ADDRSTRLEN], text[CONN_ADDR_TEXT_MAX];
	const uint8_t	*ip = (const uint8_t *)&a->sin.sin_addr;
	char		*p = text, *text_end = text + sizeof(text);
	int		 i, n;

	if (a->sa.sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &a->sin6.sin6_addr, host, sizeof(host));
		n = snprintf(text, sizeof(text), "[%s]:%u", host,
		    ntohs(a->sin6.sin6_port));
		return access_put(out, end, text, n > 0 &&
		    (size_t)n < sizeof(text) ? (size_t)n : 0);
	}
	/* Once per connection: a fifth of the log line's cost in snprintf
	 * and inet_ntop. */
	for (i = 0; i < 4; i++) {
		p = access_decimal(p, text_end, ip[i]);
		p = access_put(p, text_end, i < 3 ? "." : ":", 1);
	}
	p = access_decimal(p, text_end, ntohs(a->sin.sin_port));
	return access_put(out, end, text, (size_t)(p - text));
}

/* access_plain - whether client bytes can be logged as they are */
static int
access_plain(const uint8_t *raw, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++)
		if (raw[i] <= ' ' || raw[i] >= 0x7f || raw[i] == '\\')
			return 0;
	return 1;
}

/* access_escaped - client bytes at p, escaped if they need it; the end */
static char *
access_escaped(char *p, const char *end, const uint8_t *raw, size_t len)
{
	size_t	room = (size_t)(end - p);
	int	n;

	/* Real names are printable: strnvisx would copy them unchanged
	 * at a third of the worker's user time (wide chars, malloc). */
	if (access_plain(raw, len))
		return access_put(p, end, raw, len);
	/* strnvisx writes up to 4 bytes a byte, and a NUL. */
	if (room < 4 * len + 1)
		len = room > 0 ? (room - 1) / 4 : 0;
	if (len == 0)
		return p;
	n = strnvisx(p, 4 * len + 1, (const char *)raw, len, ACCESS_VIS);
	return p + (n > 0 ? n : 0);
}

/*
 * access_escaped_item - an item of a comma-separated list: escaped as
 * above, and its commas as \054 too (strnvisx leaves them, and
 * VIS_CSTYLE would make them "\,", which a split at commas would cut).
 */
static char *
access_escaped_item(char *p, const char *end, const uint8_t *raw, size_t len)
{
	const uint8_t	*comma;

	while ((comma = memchr(raw, ',', len)) != NULL) {
		p = access_escaped(p, end, raw, (size_t)(comma - raw));
		ACCESS_PUT(p, end, "\\054");
		len -= (size_t)(comma - raw) + 1;
		raw = comma + 1;
	}
	return access_escaped(p, end, raw, len);
}

/* access_name - the server name, escaped, cut at ACCESS_NAME_MAX bytes */
static char *
access_name(char *p, const char *end, const struct hello *hl)
{
	size_t	len;

	if (hl == NULL || hl->hl_name == NULL)
		return ACCESS_PUT(p, end, "-");
	len = hl->hl_name_len > ACCESS_NAME_MAX ? ACCESS_NAME_MAX :
	    hl->hl_name_len;
	p = access_escaped(p, end, hl->hl_name, len);
	if (len < hl->hl_name_len)
		ACCESS_PUT(p, end, "...");
	return p;
}

/*
 * access_alpn - the ALPN protocol names, escaped, comma-separated, cut
 * after ACCESS_ALPN_MAX bytes of the list.  The parser checked that the
 * u8-prefixed names fill the list exactly (RFC 7301 section 3.1).
 */
static char *
access_alpn(char *p, const char *end, const struct hello *hl)
{
	const uint8_t	*pos, *stop;
	size_t		 len;

	if (hl == NULL || hl->hl_alpn == NULL || hl->hl_alpn_len == 0)
		return ACCESS_PUT(p, end, "-");
	pos = hl->hl_alpn;
	stop = pos + (hl->hl_alpn_len > ACCESS_ALPN_MAX ? ACCESS_ALPN_MAX :
	    hl->hl_alpn_len);
	while (pos < stop) {
		if (pos != hl->hl_alpn)
			ACCESS_PUT(p, end, ",");
		len = *pos++;
		if (len > (size_t)(stop - pos))
			len = (size_t)(stop - pos);
		p = access_escaped_item(p, end, pos, len);
		pos += len;
	}
	if (stop < hl->hl_alpn + hl->hl_alpn_len)
		ACCESS_PUT(p, end, "...");
	return p;
}

/* access_time - "2026-11-30T07:12:03.456Z" (UTC, ms) at p; the end */
static char *
access_time(char *p, const char *end)
{
	static time_t	 cached_sec = -1;
	static char	 cached[24];	/* "2026-11-30T07:12:03" */
	static size_t	 cached_len;
	struct timespec	 ts;
	struct tm	 tm;
	unsigned	 ms;
	char		 frac[5];

	clock_gettime(CLOCK_REALTIME, &ts);
	if (ts.tv_sec != cached_sec) {
		cached_len = gmtime_r(&ts.tv_sec, &tm) == NULL ? 0 :
		    strftime(cached, sizeof(cached), "%Y-%m-%dT%H:%M:%S", &tm);
		cached_sec = ts.tv_sec;
	}
	p = access_put(p, end, cached, cached_len);
	ms = (unsigned)(ts.tv_nsec / 1000000);
	frac[0] = '.';
	frac[1] = (char)('0' + ms / 100);
	frac[2] = (char)('0' + ms / 10 % 10);
	frac[3] = (char)('0' + ms % 10);
	frac[4] = 'Z';
	return access_put(p, end, frac, sizeof(frac));
}

/* access_init - what is the same on every line of this worker */
void
access_init(struct worker *w)
{
	struct listener	*ls;
	size_t		 i;
	int		 n;

	n = snprintf(w->w_access_head, sizeof(w->w_access_head),
	    " worker=%d gen=%u listener=", w->w_index, w->w_gen);
	w->w_access_head_len = n > 0 && (size_t)n < sizeof(w->w_access_head) ?
	    (size_t)n : 0;
	for (i = 0; i < w->w_nlisteners; i++) {
		ls = &w->w_listeners[i];
		*access_addr(&ls->ls_addr, ls->ls_text,
		    ls->ls_text + sizeof(ls->ls_text) - 1) = '\0';
	}
}

/*
 * access_line - log what happened to c: outcome (a word of the table in
 * outcome.c), detail (more key=value pairs, or NULL), and what the hello
 * said (hl NULL when there was no whole hello); peek_us is the time
 * from accept to this outcome.
 */
void
access_line(struct worker *w, struct conn *c, const struct hello *hl,
    int channel, const char *outcome, const char *detail, uint64_t peek_us)
{
	char			 line[ACCESS_LINE_MAX], *p = line;
	const char		*end = line + sizeof(line), *text;
	const union conn_addr	*local;

	if (w->w_conf.wc_access_log == LOG_ACCESS_OFF)
		return;
	ACCESS_PUT(p, end, "time=");
	p = access_time(p, end);
	p = access_put(p, end, w->w_access_head, w->w_access_head_len);
	if (!w->w_listeners[c->cn_listener].ls_wildcard ||
	    (local = conn_local(w, c)) == NULL) {
		text = w->w_listeners[c->cn_listener].ls_text;
		p = access_put(p, end, text, strlen(text));
	} else
		p = access_addr(local, p, end);
	ACCESS_PUT(p, end, " client=");
	p = access_addr(&c->cn_peer, p, end);
	ACCESS_PUT(p, end, " name=");
	/* An HTTP client's: its Host (or target's host), normalized. */
	if (hl == NULL && wire_http_head(w, c) && w->w_http_name_len > 0)
		p = access_put(p, end, w->w_http_name,
		    (size_t)w->w_http_name_len);
	else
		p = access_name(p, end, hl);
	ACCESS_PUT(p, end, " backend=");
	text = channel >= 0 ? w->w_channels[channel].ch_name : "-";
	p = access_put(p, end, text, strlen(text));
	ACCESS_PUT(p, end, " outcome=");
	p = access_put(p, end, outcome, strlen(outcome));
	if (detail != NULL) {
		ACCESS_PUT(p, end, " ");
		p = access_put(p, end, detail, strlen(detail));
	}
	ACCESS_PUT(p, end, " alpn=");
	p = access_alpn(p, end, hl);
	ACCESS_PUT(p, end, " peek_us=");
	p = access_decimal(p, end, peek_us);
	ACCESS_PUT(p, end, " hello_bytes=");
	p = access_decimal(p, end, hl != NULL ? hl->hl_wire_len :
	    c->cn_peeked);
	ACCESS_PUT(p, end, " records=");
	if (hl != NULL)
		p = access_decimal(p, end, hl->hl_records);
	else
		ACCESS_PUT(p, end, "-");
	ACCESS_PUT(p, end, " via=");
	if (c->cn_proxied)
		p = access_addr(&c->cn_via, p, end);
	else
		ACCESS_PUT(p, end, "-");
	log_access(line, (size_t)(p - line));
}
