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
 *
 * (one line), with the outcome's detail (alert= reason=, fallback_of=,
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

/* ACCESS_PUT - append a string literal at p */
#define ACCESS_PUT(p, lit) \
	(memcpy((p), (lit), sizeof(lit) - 1), (p) += sizeof(lit) - 1)

/* access_decimal - v in decimal at p; returns the end */
static char *
access_decimal(char *p, uint64_t v)
{
	char	digits[20];
	int	n = 0;

	do
		digits[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	while (n > 0)
		*p++ = digits[--n];
	return p;
}

/* access_addr - "1.2.3.4:5" or "[::1]:5" at out; the end */
static char *
access_addr(const union conn_addr *a, char *out)
{
	char		 host[INET6_ADDRSTRLEN];
	const uint8_t	*ip = (const uint8_t *)&a->sin.sin_addr;
	char		*p = out;
	int		 i, n;

	if (a->sa.sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &a->sin6.sin6_addr, host, sizeof(host));
		n = snprintf(out, CONN_ADDR_TEXT_MAX, "[%s]:%u", host,
		    ntohs(a->sin6.sin6_port));
		return out + (n > 0 && n < CONN_ADDR_TEXT_MAX ? n : 0);
	}
	/* Once per connection: a fifth of the log line's cost in snprintf
	 * and inet_ntop. */
	for (i = 0; i < 4; i++) {
		p = access_decimal(p, ip[i]);
		*p++ = i < 3 ? '.' : ':';
	}
	p = access_decimal(p, ntohs(a->sin.sin_port));
	*p = '\0';
	return p;
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
access_escaped(char *p, const uint8_t *raw, size_t len)
{
	int	n;

	/* Real names are printable: strnvisx would copy them unchanged
	 * at a third of the worker's user time (wide chars, malloc). */
	if (access_plain(raw, len)) {
		memcpy(p, raw, len);
		return p + len;
	}
	n = strnvisx(p, 4 * len + 1, (const char *)raw, len, ACCESS_VIS);
	return p + (n > 0 ? n : 0);
}

/*
 * access_escaped_item - an item of a comma-separated list: escaped as
 * above, and its commas as \054 too (strnvisx leaves them, and
 * VIS_CSTYLE would make them "\,", which a split at commas would cut).
 */
static char *
access_escaped_item(char *p, const uint8_t *raw, size_t len)
{
	const uint8_t	*comma;

	while ((comma = memchr(raw, ',', len)) != NULL) {
		p = access_escaped(p, raw, (size_t)(comma - raw));
		ACCESS_PUT(p, "\\054");
		len -= (size_t)(comma - raw) + 1;
		raw = comma + 1;
	}
	return access_escaped(p, raw, len);
}

/* access_name - the server name, escaped, cut at ACCESS_NAME_MAX bytes */
static char *
access_name(char *p, const struct hello *hl)
{
	size_t	len;

	if (hl == NULL || hl->hl_name == NULL) {
		*p++ = '-';
		return p;
	}
	len = hl->hl_name_len > ACCESS_NAME_MAX ? ACCESS_NAME_MAX :
	    hl->hl_name_len;
	p = access_escaped(p, hl->hl_name, len);
	if (len < hl->hl_name_len)
		ACCESS_PUT(p, "...");
	return p;
}

/*
 * access_alpn - the ALPN protocol names, escaped, comma-separated, cut
 * after ACCESS_ALPN_MAX bytes of the list.  The parser checked that the
 * u8-prefixed names fill the list exactly (RFC 7301 section 3.1).
 */
static char *
access_alpn(char *p, const struct hello *hl)
{
	const uint8_t	*pos, *end;
	size_t		 len;

	if (hl == NULL || hl->hl_alpn == NULL || hl->hl_alpn_len == 0) {
		*p++ = '-';
		return p;
	}
	pos = hl->hl_alpn;
	end = pos + (hl->hl_alpn_len > ACCESS_ALPN_MAX ? ACCESS_ALPN_MAX :
	    hl->hl_alpn_len);
	while (pos < end) {
		if (pos != hl->hl_alpn)
			*p++ = ',';
		len = *pos++;
		if (len > (size_t)(end - pos))
			len = (size_t)(end - pos);
		p = access_escaped_item(p, pos, len);
		pos += len;
	}
	if (end < hl->hl_alpn + hl->hl_alpn_len)
		ACCESS_PUT(p, "...");
	return p;
}

/* access_time - "2026-11-30T07:12:03.456Z" (UTC, ms) at p; the end */
static char *
access_time(char *p)
{
	static time_t	 cached_sec = -1;
	static char	 cached[24];	/* "2026-11-30T07:12:03" */
	static size_t	 cached_len;
	struct timespec	 ts;
	struct tm	 tm;
	unsigned	 ms;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (ts.tv_sec != cached_sec) {
		cached_len = gmtime_r(&ts.tv_sec, &tm) == NULL ? 0 :
		    strftime(cached, sizeof(cached), "%Y-%m-%dT%H:%M:%S", &tm);
		cached_sec = ts.tv_sec;
	}
	memcpy(p, cached, cached_len);
	p += cached_len;
	ms = (unsigned)(ts.tv_nsec / 1000000);
	*p++ = '.';
	*p++ = (char)('0' + ms / 100);
	*p++ = (char)('0' + ms / 10 % 10);
	*p++ = (char)('0' + ms % 10);
	*p++ = 'Z';
	return p;
}

/* access_init - what is the same on every line of this worker */
void
access_init(struct worker *w)
{
	size_t	i;
	int	n;

	n = snprintf(w->w_access_head, sizeof(w->w_access_head),
	    " worker=%d gen=%u listener=", w->w_index, w->w_gen);
	w->w_access_head_len = n > 0 && (size_t)n < sizeof(w->w_access_head) ?
	    (size_t)n : 0;
	for (i = 0; i < w->w_nlisteners; i++)
		(void)access_addr(&w->w_listeners[i].ls_addr,
		    w->w_listeners[i].ls_text);
}

/*
 * access_line - log what happened to c: outcome (a word of the table in
 * peek.c), detail (more key=value pairs, or NULL), and what the hello
 * said (hl NULL when there was no whole hello); peek_us is the time
 * from accept to this outcome.
 */
void
access_line(struct worker *w, struct conn *c, const struct hello *hl,
    int backend, const char *outcome, const char *detail, uint64_t peek_us)
{
	char			 line[ACCESS_LINE_MAX], *p = line;
	const union conn_addr	*local;

	if (w->w_conf.wc_access_log == LOG_ACCESS_OFF)
		return;
	ACCESS_PUT(p, "time=");
	p = access_time(p);
	memcpy(p, w->w_access_head, w->w_access_head_len);
	p += w->w_access_head_len;
	if (!w->w_listeners[c->cn_listener].ls_wildcard ||
	    (local = peek_local(w, c)) == NULL)
		p = stpcpy(p, w->w_listeners[c->cn_listener].ls_text);
	else
		p = access_addr(local, p);
	ACCESS_PUT(p, " client=");
	p = access_addr(&c->cn_peer, p);
	ACCESS_PUT(p, " name=");
	p = access_name(p, hl);
	ACCESS_PUT(p, " backend=");
	p = stpcpy(p, backend >= 0 ? w->w_backends[backend].be_name : "-");
	ACCESS_PUT(p, " outcome=");
	p = stpcpy(p, outcome);
	if (detail != NULL) {
		*p++ = ' ';
		/* bounded by its callers: a reason and a backend name */
		p = stpcpy(p, detail);
	}
	ACCESS_PUT(p, " alpn=");
	p = access_alpn(p, hl);
	ACCESS_PUT(p, " peek_us=");
	p = access_decimal(p, peek_us);
	ACCESS_PUT(p, " hello_bytes=");
	p = access_decimal(p, hl != NULL ? hl->hl_wire_len : c->cn_peeked);
	ACCESS_PUT(p, " records=");
	if (hl != NULL)
		p = access_decimal(p, hl->hl_records);
	else
		*p++ = '-';
	log_access(line, (size_t)(p - line));
}
