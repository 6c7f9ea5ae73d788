/*
 * httphead_test.c - httphead_parse against a table of request heads.
 *
 * Each row is a label, the bytes (written as C strings, or a prefix, a
 * run of 'a' making the head hc_pad_to bytes long, and a suffix), the
 * expected answer and the expected fields.  Every row is also fed to
 * httphead_parse one prefix at a time, each from a buffer of exactly
 * that size so that AddressSanitizer sees any read past the bytes given,
 * and to httphead_resume one byte more per call through one walk, which
 * must answer as the whole parse does and walk each byte once.  The
 * property test then cuts every row at every point (and every pair of
 * points for short rows, random points for long ones): each cut, fed
 * through one walk, must end in the answer of the whole.  The resume
 * table (resume_cases) spells out a few walks step by step.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "httphead.h"
#include "tap.h"

#define ROW_MAX		(HTTPHEAD_MAX + 1024)
#define SPLIT_ALL	160	/* rows this short: every pair of cuts */
#define SPLIT_RANDOM	400	/* longer rows: this many random cuts */

#define L63	"abcdefghij" "abcdefghij" "abcdefghij" "abcdefghij" \
		"abcdefghij" "abcdefghij" "abc"
#define REQ	"GET / HTTP/1.1\r\n"
#define HOST	"Host: a.example\r\n"

struct head_case {
	const char	*hc_label;
	const char	*hc_bytes;	/* the input, or the prefix of a padded one */
	size_t		 hc_len;	/* 0: strlen(hc_bytes) */
	size_t		 hc_pad_to;	/* a run of 'a' makes the head this long */
	const char	*hc_suffix;	/* after the run */
	const char	*hc_after;	/* bytes after the head */
	enum httphead_result hc_result;
	int		 hc_status;	/* refusals */
	const char	*hc_reason;	/* refusals; NULL: not checked */
	const char	*hc_name;	/* HTTPHEAD_DONE: the name; NULL: none */
	enum httphead_from hc_from;
	const char	*hc_host;	/* the host as sent; NULL: not checked */
	enum httphead_form hc_form;	/* 0: HTTPHEAD_FORM_ORIGIN */
	int		 hc_version;	/* 0: 11 */
	int		 hc_acme;
	size_t		 hc_decided;	/* bytes that decide; 0: not checked */
	size_t		 hc_need;	/* need-more rows */
};

#define DONE(n)		.hc_result = HTTPHEAD_DONE, .hc_name = (n), \
			.hc_from = HTTPHEAD_FROM_HOST
#define BAD(why)	.hc_result = HTTPHEAD_MALFORMED, .hc_status = 400, \
			.hc_reason = (why)

static const struct head_case head_cases[] = {
	/* Heads that route, and their names */
	{ "origin-form with Host", REQ HOST "\r\n", DONE("a.example"),
	  .hc_host = "a.example", .hc_decided = 35 },
	{ "Host with a port", REQ "Host: a.example:8080\r\n\r\n",
	  DONE("a.example"), .hc_host = "a.example" },
	{ "Host with an empty port (port = *DIGIT)",
	  REQ "Host: a.example:\r\n\r\n", DONE("a.example") },
	{ "Host in uppercase", REQ "Host: WWW.Example.ORG\r\n\r\n",
	  DONE("www.example.org"), .hc_host = "WWW.Example.ORG" },
	{ "Host with a trailing dot", REQ "Host: a.example.\r\n\r\n",
	  DONE("a.example") },
	{ "Host with a trailing dot and a port",
	  REQ "Host: a.example.:443\r\n\r\n", DONE("a.example") },
	{ "Host with two trailing dots: not a name",
	  REQ "Host: a.example..\r\n\r\n", DONE(NULL) },
	{ "Host with OWS around its value",
	  REQ "Host: \t a.example \t\r\n\r\n", DONE("a.example"),
	  .hc_host = "a.example" },
	{ "Host without OWS", REQ "Host:a.example\r\n\r\n", DONE("a.example") },
	{ "field name Host in any case", REQ "hOsT: a.example\r\n\r\n",
	  DONE("a.example") },
	{ "Host among other fields",
	  REQ "User-Agent: curl/8.5\r\nHost: a.example\r\nAccept: */*\r\n\r\n",
	  DONE("a.example") },
	{ "fields named like Host are other fields",
	  REQ "Hostx: b.example\r\nHos: c.example\r\nX-Host: d\r\n" HOST "\r\n",
	  DONE("a.example") },
	{ "IPv6 literal with a port: valid, no name (default)",
	  REQ "Host: [2001:db8::1]:8080\r\n\r\n", DONE(NULL),
	  .hc_host = "[2001:db8::1]" },
	{ "IPv6 literal without a port", REQ "Host: [::1]\r\n\r\n", DONE(NULL),
	  .hc_host = "[::1]" },
	{ "IPvFuture literal", REQ "Host: [v1.fe80::a+en1]\r\n\r\n",
	  DONE(NULL) },
	{ "IPv4 literal: valid, no name", REQ "Host: 192.0.2.1:80\r\n\r\n",
	  DONE(NULL), .hc_host = "192.0.2.1" },
	{ "reg-name with '_': valid, no name", REQ "Host: a_b.example\r\n\r\n",
	  DONE(NULL) },
	{ "reg-name with a comma: valid, no name",
	  REQ "Host: a.example,b.example\r\n\r\n", DONE(NULL) },
	{ "percent escape in Host: valid, not decoded, no name",
	  REQ "Host: %61.example\r\n\r\n", DONE(NULL), .hc_host = "%61.example" },
	{ "empty Host: valid (RFC 9112 3.2), no name", REQ "Host:\r\n\r\n",
	  DONE(NULL), .hc_host = "" },
	{ "Host of OWS only: empty", REQ "Host:  \t \r\n\r\n", DONE(NULL),
	  .hc_host = "" },
	{ "absolute-form wins over Host",
	  "GET http://t.example/x HTTP/1.1\r\nHost: h.example\r\n\r\n",
	  .hc_result = HTTPHEAD_DONE, .hc_name = "t.example",
	  .hc_from = HTTPHEAD_FROM_TARGET, .hc_host = "t.example",
	  .hc_form = HTTPHEAD_FORM_ABSOLUTE },
	{ "absolute-form https, any case, with a port",
	  "GET HTTPS://T.Example:8443/ HTTP/1.1\r\nHost: T.Example:8443\r\n\r\n",
	  .hc_result = HTTPHEAD_DONE, .hc_name = "t.example",
	  .hc_from = HTTPHEAD_FROM_TARGET, .hc_form = HTTPHEAD_FORM_ABSOLUTE },
	{ "absolute-form without a path",
	  "GET http://t.example HTTP/1.1\r\nHost: t.example\r\n\r\n",
	  .hc_result = HTTPHEAD_DONE, .hc_name = "t.example",
	  .hc_from = HTTPHEAD_FROM_TARGET, .hc_form = HTTPHEAD_FORM_ABSOLUTE },
	{ "absolute-form with a query after the authority",
	  "GET http://t.example?x=/ HTTP/1.1\r\nHost: t.example\r\n\r\n",
	  .hc_result = HTTPHEAD_DONE, .hc_name = "t.example",
	  .hc_from = HTTPHEAD_FROM_TARGET, .hc_form = HTTPHEAD_FORM_ABSOLUTE },
	{ "absolute-form IPv6 literal wins over a Host name",
	  "GET http://[::1]:80/ HTTP/1.1\r\nHost: h.example\r\n\r\n",
	  .hc_result = HTTPHEAD_DONE, .hc_from = HTTPHEAD_FROM_TARGET,
	  .hc_host = "[::1]", .hc_form = HTTPHEAD_FORM_ABSOLUTE },
	{ "absolute-form in HTTP/1.0 without Host",
	  "GET http://t.example/ HTTP/1.0\r\n\r\n",
	  .hc_result = HTTPHEAD_DONE, .hc_name = "t.example",
	  .hc_from = HTTPHEAD_FROM_TARGET, .hc_form = HTTPHEAD_FORM_ABSOLUTE,
	  .hc_version = 10 },
	{ "HTTP/1.0 without Host: no name (default)", "GET / HTTP/1.0\r\n\r\n",
	  .hc_result = HTTPHEAD_DONE, .hc_version = 10 },
	{ "HTTP/1.0 with Host", "GET / HTTP/1.0\r\n" HOST "\r\n",
	  DONE("a.example"), .hc_version = 10 },
	{ "HTTP/1.2 is read as 1.1 (RFC 9110 2.5)",
	  "GET / HTTP/1.2\r\n" HOST "\r\n", DONE("a.example") },
	{ "CONNECT authority-form routes by Host",
	  "CONNECT b.example:443 HTTP/1.1\r\nHost: p.example:443\r\n\r\n",
	  DONE("p.example"), .hc_form = HTTPHEAD_FORM_AUTHORITY },
	{ "CONNECT to an IPv6 literal",
	  "CONNECT [2001:db8::1]:443 HTTP/1.1\r\n" HOST "\r\n",
	  DONE("a.example"), .hc_form = HTTPHEAD_FORM_AUTHORITY },
	{ "OPTIONS *", "OPTIONS * HTTP/1.1\r\n" HOST "\r\n", DONE("a.example"),
	  .hc_form = HTTPHEAD_FORM_ASTERISK },
	{ "lowercase method is a token (the backend's 501)",
	  "get / HTTP/1.1\r\n" HOST "\r\n", DONE("a.example") },
	{ "extension method", "PROPFIND /d/ HTTP/1.1\r\n" HOST "\r\n",
	  DONE("a.example") },
	{ "OPTIONS with a path", "OPTIONS /x HTTP/1.1\r\n" HOST "\r\n",
	  DONE("a.example") },

	/* The ACME path */
	{ "ACME challenge",
	  "GET /.well-known/acme-challenge/tok_en-1 HTTP/1.1\r\n" HOST "\r\n",
	  DONE("a.example"), .hc_acme = 1 },
	{ "ACME prefix alone",
	  "GET /.well-known/acme-challenge/ HTTP/1.1\r\n" HOST "\r\n",
	  DONE("a.example"), .hc_acme = 1 },
	{ "ACME in absolute-form",
	  "GET http://t.example/.well-known/acme-challenge/x HTTP/1.1\r\n"
	  HOST "\r\n", .hc_result = HTTPHEAD_DONE, .hc_name = "t.example",
	  .hc_from = HTTPHEAD_FROM_TARGET, .hc_form = HTTPHEAD_FORM_ABSOLUTE,
	  .hc_acme = 1 },
	{ "ACME without the last slash: no",
	  "GET /.well-known/acme-challenge HTTP/1.1\r\n" HOST "\r\n",
	  DONE("a.example") },
	{ "ACME percent-encoded: not folded",
	  "GET /.well-known/acme%2Dchallenge/x HTTP/1.1\r\n" HOST "\r\n",
	  DONE("a.example") },
	{ "ACME in another case: no",
	  "GET /.Well-Known/acme-challenge/x HTTP/1.1\r\n" HOST "\r\n",
	  DONE("a.example") },
	{ "ACME in the query: no",
	  "GET /?/.well-known/acme-challenge/x HTTP/1.1\r\n" HOST "\r\n",
	  DONE("a.example") },
	{ "ACME path in the Host line's value: no",
	  REQ "X: /.well-known/acme-challenge/\r\n" HOST "\r\n",
	  DONE("a.example") },

	/* What is the backend's business */
	{ "percent escapes in the path", "GET /%00%ff/a%2Fb HTTP/1.1\r\n"
	  HOST "\r\n", DONE("a.example") },
	{ "raw UTF-8 in the path", "GET /caf\xc3\xa9 HTTP/1.1\r\n" HOST "\r\n",
	  DONE("a.example") },
	{ "obs-text in a field value", REQ "X: \xff\xfe\r\n" HOST "\r\n",
	  DONE("a.example") },
	{ "HTAB and SP inside a field value", REQ "X: a\t b\r\n" HOST "\r\n",
	  DONE("a.example") },
	{ "empty field value", REQ "X:\r\n" HOST "\r\n", DONE("a.example") },
	{ "bytes after the head are not looked at", REQ HOST "\r\n",
	  .hc_after = "\x00\x01\x16 garbage\r\n\n", DONE("a.example") },
	{ "a pipelined request after the head is not looked at", REQ HOST "\r\n",
	  .hc_after = "GET / HTTP/1.1\r\nHost: b.example\r\nHost: c\r\n\r\n",
	  DONE("a.example") },
	{ "a body after a POST head",
	  "POST /f HTTP/1.1\r\n" HOST "Content-Length: 5\r\n\r\n",
	  .hc_after = "hello", DONE("a.example") },

	/* Bounds */
	{ "head of exactly HTTPHEAD_MAX bytes", REQ HOST "X-Pad: ",
	  .hc_pad_to = HTTPHEAD_MAX, .hc_suffix = "\r\n\r\n",
	  DONE("a.example") },
	{ "head of exactly HTTPHEAD_MAX, more bytes after",
	  REQ HOST "X-Pad: ", .hc_pad_to = HTTPHEAD_MAX, .hc_suffix = "\r\n\r\n",
	  .hc_after = "body", DONE("a.example") },
	{ "head of HTTPHEAD_MAX + 1 bytes: 431", REQ HOST "X-Pad: ",
	  .hc_pad_to = HTTPHEAD_MAX + 1, .hc_suffix = "\r\n\r\n",
	  .hc_result = HTTPHEAD_TOO_LARGE, .hc_status = 431,
	  .hc_reason = "head over 8192 bytes",
	  .hc_decided = HTTPHEAD_MAX + 1 },
	{ "head whose blank line crosses the bound: 431", REQ HOST "X-Pad: ",
	  .hc_pad_to = HTTPHEAD_MAX + 2, .hc_suffix = "\r\n\r\n",
	  .hc_result = HTTPHEAD_TOO_LARGE, .hc_status = 431,
	  .hc_decided = HTTPHEAD_MAX + 1 },
	{ "request line of HTTPHEAD_MAX - 2 bytes and the blank line: routes",
	  "GET /", .hc_pad_to = HTTPHEAD_MAX, .hc_suffix = " HTTP/1.0\r\n\r\n",
	  .hc_result = HTTPHEAD_DONE, .hc_version = 10 },
	{ "request line over the bound: 414", "GET /",
	  .hc_pad_to = HTTPHEAD_MAX + 100, .hc_suffix = " HTTP/1.1\r\n"
	  HOST "\r\n", .hc_result = HTTPHEAD_TOO_LARGE, .hc_status = 414,
	  .hc_reason = "request line over 8192 bytes",
	  .hc_decided = HTTPHEAD_MAX + 1 },
	{ "long request line, whole, then a head over the bound: 431", "GET /",
	  .hc_pad_to = HTTPHEAD_MAX + 3, .hc_suffix = " HTTP/1.1\r\n" HOST
	  "\r\n", .hc_result = HTTPHEAD_TOO_LARGE, .hc_status = 431,
	  .hc_decided = HTTPHEAD_MAX + 1 },

	/* Not yet */
	{ "nothing yet", "", .hc_result = HTTPHEAD_NEED_MORE, .hc_need = 16 },
	{ "one method byte", "G", .hc_result = HTTPHEAD_NEED_MORE,
	  .hc_need = 15 },
	{ "method and SP", "GET ", .hc_result = HTTPHEAD_NEED_MORE,
	  .hc_need = 14 },
	{ "half the version", "GET / HTT", .hc_result = HTTPHEAD_NEED_MORE,
	  .hc_need = 5 + 4 },
	{ "request line whole", REQ, .hc_result = HTTPHEAD_NEED_MORE,
	  .hc_need = 2 },
	{ "in a field name", REQ "Ho", .hc_result = HTTPHEAD_NEED_MORE,
	  .hc_need = 5 },
	{ "in the Host value", REQ "Host: a", .hc_result = HTTPHEAD_NEED_MORE,
	  .hc_need = 4 },
	{ "request line and Host, no blank line: not done yet", REQ HOST,
	  .hc_result = HTTPHEAD_NEED_MORE, .hc_need = 2 },
	{ "the blank line's CR", REQ HOST "\r",
	  .hc_result = HTTPHEAD_NEED_MORE, .hc_need = 1 },
	{ "HTTPHEAD_MAX bytes, not ended: one more decides", REQ HOST "X-Pad: ",
	  .hc_pad_to = HTTPHEAD_MAX, .hc_result = HTTPHEAD_NEED_MORE,
	  .hc_need = 1 },

	/* Not HTTP */
	{ "TLS ClientHello", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc",
	  .hc_result = HTTPHEAD_TLS, .hc_reason = "TLS client", .hc_decided = 1 },
	{ "TLS record byte alone", "\x16", .hc_result = HTTPHEAD_TLS },
	{ "TLS alert record", "\x15\x03\x03\x00\x02\x02\x28",
	  .hc_result = HTTPHEAD_NOT_HTTP, .hc_decided = 1 },
	{ "SSL 2.0 compatible hello", "\x80\x2e\x01\x03\x01",
	  .hc_result = HTTPHEAD_NOT_HTTP, .hc_decided = 1 },
	{ "NUL", "\x00", 1, .hc_result = HTTPHEAD_NOT_HTTP,
	  .hc_reason = "not HTTP" },
	{ "empty line before the request line", "\r\n" REQ HOST "\r\n",
	  .hc_result = HTTPHEAD_NOT_HTTP },
	{ "space before the method", " GET / HTTP/1.1\r\n",
	  .hc_result = HTTPHEAD_NOT_HTTP },
	{ "SSH banner", "SSH-2.0-OpenSSH_9.2\r\n", BAD("bad request line"),
	  .hc_decided = 20 },

	/* Host refused (RFC 9110 7.2) */
	{ "two Host fields", REQ HOST "Host: b.example\r\n\r\n",
	  BAD("two Host fields"), .hc_decided = 16 + 17 + 5 },
	{ "two Host fields, the same value", REQ HOST HOST "\r\n",
	  BAD("two Host fields") },
	{ "two Host fields in other cases", REQ "HOST: a\r\nhost: a\r\n\r\n",
	  BAD("two Host fields") },
	{ "a second Host far after the first (done early would miss it)",
	  REQ HOST "Accept: */*\r\nUser-Agent: x\r\nCookie: c=1\r\n"
	  "Host: evil.example\r\n\r\n", BAD("two Host fields") },
	{ "an empty Host, then another", REQ "Host:\r\n" HOST "\r\n",
	  BAD("two Host fields") },
	{ "HTTP/1.1 without Host", REQ "Accept: */*\r\n\r\n",
	  BAD("HTTP/1.1 without Host"), .hc_decided = 16 + 13 + 2 },
	{ "HTTP/1.1 absolute-form without Host",
	  "GET http://t.example/ HTTP/1.1\r\n\r\n", BAD("HTTP/1.1 without Host") },
	{ "Host with a space inside", REQ "Host: a .example\r\n\r\n",
	  BAD("Host not valid") },
	{ "Host with userinfo", REQ "Host: u@a.example\r\n\r\n",
	  BAD("Host not valid") },
	{ "Host with a path", REQ "Host: a.example/x\r\n\r\n",
	  BAD("Host not valid") },
	{ "Host with a letter in its port", REQ "Host: a.example:8o\r\n\r\n",
	  BAD("Host not valid") },
	{ "Host with two ports", REQ "Host: a.example:80:81\r\n\r\n",
	  BAD("Host not valid") },
	{ "Host with an unclosed IPv6 literal", REQ "Host: [::1\r\n\r\n",
	  BAD("Host not valid") },
	{ "Host with empty brackets", REQ "Host: []\r\n\r\n",
	  BAD("Host not valid") },
	{ "Host with bytes after an IPv6 literal", REQ "Host: [::1]x\r\n\r\n",
	  BAD("Host not valid") },
	{ "Host with a bad percent escape", REQ "Host: %zz.example\r\n\r\n",
	  BAD("Host not valid") },
	{ "Host with a cut percent escape", REQ "Host: a%6\r\n\r\n",
	  BAD("Host not valid") },
	{ "Host with UTF-8", REQ "Host: caf\xc3\xa9.example\r\n\r\n",
	  BAD("Host not valid") },
	{ "Host with a quote", REQ "Host: \"a.example\"\r\n\r\n",
	  BAD("Host not valid") },
	{ "Host with a control byte", REQ "Host: a\x01.example\r\n\r\n",
	  BAD("control byte") },
	{ "Host with a NUL", REQ "Host: a\0.example\r\n\r\n",
	  sizeof(REQ "Host: a\0.example\r\n\r\n") - 1,
	  BAD("control byte") },

	/* Field lines (RFC 9112 5) */
	{ "obs-fold", REQ HOST "X: a\r\n b\r\n\r\n", BAD("obs-fold") },
	{ "obs-fold with HTAB", REQ HOST "X: a\r\n\tb\r\n\r\n", BAD("obs-fold") },
	{ "obs-fold continuing Host", REQ "Host:\r\n a.example\r\n\r\n",
	  BAD("obs-fold") },
	{ "whitespace between the request line and the first field",
	  REQ " Host: a.example\r\n\r\n", BAD("obs-fold") },
	{ "whitespace before the colon", REQ "Host : a.example\r\n\r\n",
	  BAD("whitespace before colon") },
	{ "HTAB before the colon", REQ HOST "X\t: y\r\n\r\n",
	  BAD("whitespace before colon") },
	{ "empty field name", REQ HOST ": x\r\n\r\n", BAD("bad field name") },
	{ "a non-token byte in a field name", REQ HOST "X(y): z\r\n\r\n",
	  BAD("bad field name") },
	{ "UTF-8 in a field name", REQ HOST "\xc3\xa9: z\r\n\r\n",
	  BAD("bad field name") },
	{ "field line without a colon", REQ HOST "Foo\r\n\r\n",
	  BAD("field line without colon") },
	{ "bare LF ending the request line", "GET / HTTP/1.1\n" HOST "\r\n",
	  BAD("bare LF"), .hc_decided = 15 },
	{ "bare LF ending a field", REQ "Host: a.example\n\r\n", BAD("bare LF") },
	{ "bare LF as the blank line", REQ HOST "\n", BAD("bare LF") },
	{ "bare LF in a field name", REQ HOST "X\n", BAD("field line without colon") },
	{ "bare CR in a value", REQ HOST "X: a\rb\r\n\r\n", BAD("bare CR") },
	{ "CR CR LF", REQ HOST "X: a\r\r\n\r\n", BAD("bare CR") },
	{ "CR then not LF after the request line", "GET / HTTP/1.1\rX",
	  BAD("bare CR") },
	{ "blank line's CR then not LF", REQ HOST "\rX", BAD("bare CR") },
	{ "DEL in a value", REQ HOST "X: a\x7f\r\n\r\n", BAD("control byte") },
	{ "NUL in a field name", REQ HOST "X\0: a\r\n\r\n",
	  sizeof(REQ HOST "X\0: a\r\n\r\n") - 1,
	  BAD("control byte") },
	{ "ESC in a value", REQ HOST "X: \x1b[31m\r\n\r\n", BAD("control byte") },

	/* The request line (RFC 9112 3) */
	{ "two spaces after the method", "GET  / HTTP/1.1\r\n" HOST "\r\n",
	  BAD("bad request line"), .hc_decided = 5 },
	{ "HTAB after the method", "GET\t/ HTTP/1.1\r\n", BAD("control byte") },
	{ "a non-token byte in the method", "GE(T / HTTP/1.1\r\n",
	  BAD("bad request line") },
	{ "HTTP/0.9 simple request (no version)", "GET /\r\n",
	  BAD("bad request line") },
	{ "method alone", "GET\r\n", BAD("bad request line") },
	{ "lowercase version name", "GET / http/1.1\r\n" HOST "\r\n",
	  BAD("bad request line") },
	{ "two-digit minor version", "GET / HTTP/1.10\r\n" HOST "\r\n",
	  BAD("bad request line") },
	{ "version without a dot", "GET / HTTP/11\r\n" HOST "\r\n",
	  BAD("bad request line") },
	{ "space after the version", "GET / HTTP/1.1 \r\n" HOST "\r\n",
	  BAD("bad request line") },
	{ "two spaces before the version", "GET /  HTTP/1.1\r\n",
	  BAD("bad request line") },
	{ "HTTP/2.0: 505", "GET / HTTP/2.0\r\n" HOST "\r\n",
	  .hc_result = HTTPHEAD_VERSION, .hc_status = 505,
	  .hc_reason = "HTTP version not supported", .hc_decided = 16 },
	{ "h2c prior-knowledge preface: 505",
	  "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", .hc_result = HTTPHEAD_VERSION,
	  .hc_status = 505, .hc_decided = 16 },
	{ "HTTP/0.9 written out: 505", "GET / HTTP/0.9\r\n\r\n",
	  .hc_result = HTTPHEAD_VERSION, .hc_status = 505 },
	{ "HTTP/3.0: 505", "GET / HTTP/3.0\r\n\r\n",
	  .hc_result = HTTPHEAD_VERSION, .hc_status = 505 },
	{ "a bad line with version 2.0 is 400 first", "GET / HTTP/2.0 \r\n",
	  BAD("bad request line") },

	/* Targets (RFC 9112 3.2) */
	{ "asterisk with GET", "GET * HTTP/1.1\r\n" HOST "\r\n",
	  BAD("target form does not fit the method"), .hc_decided = 16 },
	{ "asterisk with more after it", "OPTIONS *x HTTP/1.1\r\n",
	  BAD("bad request target") },
	{ "CONNECT with origin-form", "CONNECT / HTTP/1.1\r\n" HOST "\r\n",
	  BAD("bad authority in target") },
	{ "CONNECT without a port", "CONNECT b.example HTTP/1.1\r\n" HOST "\r\n",
	  BAD("bad authority in target") },
	{ "CONNECT with an empty host", "CONNECT :443 HTTP/1.1\r\n" HOST "\r\n",
	  BAD("empty host in target") },
	{ "CONNECT with userinfo", "CONNECT u@b.example:443 HTTP/1.1\r\n",
	  BAD("userinfo in target") },
	{ "CONNECTX is not CONNECT", "CONNECTX b.example:443 HTTP/1.1\r\n",
	  BAD("absolute-form scheme not http or https") },
	{ "absolute-form with userinfo (RFC 9110 4.2.4)",
	  "GET http://u@t.example/ HTTP/1.1\r\n" HOST "\r\n",
	  BAD("userinfo in target"), .hc_decided = 13 },
	{ "absolute-form with user:password",
	  "GET http://u:pw@t.example/ HTTP/1.1\r\n" HOST "\r\n",
	  BAD("userinfo in target") },
	{ "absolute-form with an empty host (RFC 9110 4.2.1)",
	  "GET http:///x HTTP/1.1\r\n" HOST "\r\n", BAD("empty host in target") },
	{ "absolute-form with a port only", "GET http://:80/ HTTP/1.1\r\n",
	  BAD("empty host in target") },
	{ "absolute-form with no authority at all", "GET http:// HTTP/1.1\r\n",
	  BAD("empty host in target") },
	{ "absolute-form of another scheme", "GET ftp://t.example/ HTTP/1.1\r\n",
	  BAD("absolute-form scheme not http or https") },
	{ "absolute-form with one slash", "GET http:/t.example/ HTTP/1.1\r\n",
	  BAD("absolute-form scheme not http or https") },
	{ "a bare host as the target", "GET t.example HTTP/1.1\r\n",
	  BAD("absolute-form scheme not http or https") },
	{ "absolute-form authority with a quote",
	  "GET http://t\"x/ HTTP/1.1\r\n", BAD("bad authority in target") },
	{ "absolute-form authority with UTF-8",
	  "GET http://caf\xc3\xa9/ HTTP/1.1\r\n", BAD("bad authority in target") },
	{ "absolute-form authority with a fragment",
	  "GET http://t.example#f HTTP/1.1\r\n", BAD("bad authority in target") },
	{ "target starting with a digit", "GET 1/ HTTP/1.1\r\n",
	  BAD("bad request target") },
	{ "control byte in the target", "GET /\x01 HTTP/1.1\r\n",
	  BAD("control byte") },
	{ "DEL in the target", "GET /\x7f HTTP/1.1\r\n", BAD("control byte") },
	{ "CR in the target", "GET /x\r\n", BAD("bad request line") },
};

/* The bytes of one row */
struct built {
	uint8_t	 bt_bytes[ROW_MAX];
	size_t	 bt_len;
	size_t	 bt_head;	/* the head's length, when it is whole */
};

/* build_row - the bytes of a row: its text, or prefix, run, suffix */
static void
build_row(const struct head_case *hc, struct built *bt)
{
	size_t	 n = hc->hc_len ? hc->hc_len : strlen(hc->hc_bytes);
	size_t	 slen = hc->hc_suffix ? strlen(hc->hc_suffix) : 0;

	memcpy(bt->bt_bytes, hc->hc_bytes, n);
	if (hc->hc_pad_to != 0) {
		if (hc->hc_pad_to < n + slen || hc->hc_pad_to > HTTPHEAD_MAX + 512) {
			fprintf(stderr, "httphead_test: %s: bad padding\n",
			    hc->hc_label);
			exit(2);
		}
		memset(bt->bt_bytes + n, 'a', hc->hc_pad_to - n - slen);
		n = hc->hc_pad_to - slen;
		if (slen > 0)
			memcpy(bt->bt_bytes + n, hc->hc_suffix, slen);
		n += slen;
	}
	bt->bt_head = n;
	if (hc->hc_after != NULL) {
		memcpy(bt->bt_bytes + n, hc->hc_after, strlen(hc->hc_after));
		n += strlen(hc->hc_after);
	}
	bt->bt_len = n;
}

/* parse_exact - httphead_parse on a copy of exactly len bytes */
static enum httphead_result
parse_exact(const uint8_t *bytes, size_t len, struct httphead *hh,
    uint8_t **copy)
{
	if ((*copy = malloc(len ? len : 1)) == NULL)
		abort();
	memcpy(*copy, bytes, len);
	memset(hh, 0xa5, sizeof(*hh));	/* it promises to clear the rest */
	return httphead_parse(*copy, len, hh);
}

/* same_text - whether p, n holds the NUL-terminated want */
static int
same_text(const uint8_t *p, size_t n, const char *want)
{
	return p != NULL && n == strlen(want) && memcmp(p, want, n) == 0;
}

/* inside - whether [p, p + n) lies within [base, base + size) */
static int
inside(const uint8_t *p, size_t n, const uint8_t *base, size_t size)
{
	return p >= base && n <= size && (size_t)(p - base) <= size - n;
}

/*
 * check_cleared - whether an answer other than done left only what it
 * may set: need for need-more, status and reason for the others
 */
static int
check_cleared(const struct httphead *hh, enum httphead_result r)
{
	return hh->hh_method == NULL && hh->hh_target == NULL &&
	    hh->hh_form == HTTPHEAD_FORM_NONE && hh->hh_version == 0 &&
	    hh->hh_from == HTTPHEAD_FROM_NONE && hh->hh_host == NULL &&
	    hh->hh_name_len == -1 && hh->hh_acme == 0 && hh->hh_head_len == 0 &&
	    (r == HTTPHEAD_NEED_MORE ? hh->hh_need > 0 &&
	    hh->hh_reason == NULL && hh->hh_status == 0 :
	    hh->hh_need == 0 && hh->hh_reason != NULL);
}

/* check_done - whether a done answer says what the row expects */
static int
check_done(const struct head_case *hc, const struct built *bt,
    const struct httphead *hh, const uint8_t *bytes, size_t len)
{
	enum httphead_form form = hc->hc_form ? hc->hc_form :
	    HTTPHEAD_FORM_ORIGIN;

	if (hh->hh_head_len != bt->bt_head || hh->hh_need != 0 ||
	    hh->hh_status != 0 || hh->hh_reason != NULL ||
	    hh->hh_form != form ||
	    hh->hh_version != (hc->hc_version ? hc->hc_version : 11) ||
	    hh->hh_acme != hc->hc_acme || hh->hh_from != hc->hc_from ||
	    hh->hh_method != bytes ||
	    !inside(hh->hh_target, hh->hh_target_len, bytes, bt->bt_head) ||
	    hh->hh_target != bytes + hh->hh_method_len + 1)
		return 0;
	if (hc->hc_from == HTTPHEAD_FROM_NONE ? hh->hh_host != NULL :
	    !inside(hh->hh_host, hh->hh_host_len, bytes, len))
		return 0;
	if (hc->hc_host != NULL &&
	    !(same_text(hh->hh_host, hh->hh_host_len, hc->hc_host) ||
	    (hc->hc_host[0] == '\0' && hh->hh_host_len == 0)))
		return 0;
	if (hc->hc_name == NULL)
		return hh->hh_name_len == -1;
	return hh->hh_name_len == (ssize_t)strlen(hc->hc_name) &&
	    strcmp(hh->hh_name, hc->hc_name) == 0;
}

/* same_answer - whether two answers for the same bytes agree wholly */
static int
same_answer(const struct httphead *a, const struct httphead *b)
{
	return a->hh_method == b->hh_method &&
	    a->hh_method_len == b->hh_method_len &&
	    a->hh_target == b->hh_target &&
	    a->hh_target_len == b->hh_target_len &&
	    a->hh_form == b->hh_form && a->hh_version == b->hh_version &&
	    a->hh_from == b->hh_from && a->hh_host == b->hh_host &&
	    a->hh_host_len == b->hh_host_len &&
	    a->hh_name_len == b->hh_name_len &&
	    strcmp(a->hh_name, b->hh_name) == 0 && a->hh_acme == b->hh_acme &&
	    a->hh_head_len == b->hh_head_len && a->hh_need == b->hh_need &&
	    a->hh_status == b->hh_status && a->hh_reason == b->hh_reason;
}

/*
 * check_prefixes - every prefix, parsed alone and resumed through one
 * walk a byte more each call; returns the first length that answered
 * wrong, or SIZE_MAX.  *decided gets the length that first answered,
 * *walked what the resumed calls walked up to it, *whole what the
 * parse that answered walked.
 */
static size_t
check_prefixes(const struct head_case *hc, const struct built *bt,
    size_t *decided, size_t *walked, size_t *whole)
{
	struct httphead	 hh, rh;
	struct httphead_walk hw;
	enum httphead_result r, rr, final = HTTPHEAD_NEED_MORE;
	uint8_t		*copy;
	size_t		 k, ex, bad = SIZE_MAX;
	int		 ok;

	memset(&hw, 0, sizeof(hw));
	*walked = *whole = 0;
	for (k = 0; k <= bt->bt_len && bad == SIZE_MAX; k++) {
		r = parse_exact(bt->bt_bytes, k, &hh, &copy);
		if (hc->hc_result == HTTPHEAD_DONE && k < bt->bt_head)
			ok = r == HTTPHEAD_NEED_MORE && check_cleared(&hh, r) &&
			    k + hh.hh_need <= bt->bt_head;
		else if (hc->hc_result == HTTPHEAD_DONE)
			ok = r == HTTPHEAD_DONE &&
			    check_done(hc, bt, &hh, copy, k);
		else if (final != HTTPHEAD_NEED_MORE)
			ok = r == final && check_cleared(&hh, r);
		else
			ok = (r == HTTPHEAD_NEED_MORE || r == hc->hc_result) &&
			    check_cleared(&hh, r);
		memset(&rh, 0xa5, sizeof(rh));
		rr = httphead_resume(copy, k, &hw, &rh);
		ex = rh.hh_examined;
		rh.hh_examined = hh.hh_examined;	/* not the same walk */
		ok = ok && rr == r && same_answer(&rh, &hh);
		if (final == HTTPHEAD_NEED_MORE)
			*walked += ex;
		else if (ex != 0)
			ok = 0;		/* an answer given is not walked again */
		if (r != HTTPHEAD_NEED_MORE && final == HTTPHEAD_NEED_MORE) {
			final = r;
			*decided = k;
			*whole = hh.hh_examined;
		}
		if (!ok)
			bad = k;
		free(copy);
	}
	return bad;
}

/* test_row - one row: the whole input, then every prefix of it */
static void
test_row(const struct head_case *hc)
{
	static struct built bt;
	struct httphead	 hh;
	enum httphead_result r;
	uint8_t		*copy;
	size_t		 bad, decided = SIZE_MAX, walked, whole;

	build_row(hc, &bt);
	r = parse_exact(bt.bt_bytes, bt.bt_len, &hh, &copy);
	TAP_OK(r == hc->hc_result, "%s: %s (got %s, %s)", hc->hc_label,
	    httphead_result_name(hc->hc_result), httphead_result_name(r),
	    hh.hh_reason ? hh.hh_reason : "-");
	if (hc->hc_result == HTTPHEAD_DONE)
		TAP_OK(r == HTTPHEAD_DONE &&
		    check_done(hc, &bt, &hh, copy, bt.bt_len),
		    "%s: fields (name %s, from %d, form %d, version %d, "
		    "acme %d, head %zu)", hc->hc_label,
		    hh.hh_name_len > 0 ? hh.hh_name : "-", hh.hh_from,
		    hh.hh_form, hh.hh_version, hh.hh_acme, hh.hh_head_len);
	else
		TAP_OK(check_cleared(&hh, r) &&
		    (hc->hc_status == 0 || hh.hh_status == hc->hc_status) &&
		    (hc->hc_reason == NULL || (hh.hh_reason != NULL &&
		    strcmp(hh.hh_reason, hc->hc_reason) == 0)),
		    "%s: status %d, reason \"%s\", nothing else set",
		    hc->hc_label, hh.hh_status,
		    hh.hh_reason ? hh.hh_reason : "-");
	if (hc->hc_result == HTTPHEAD_NEED_MORE)
		TAP_OK(hh.hh_need == hc->hc_need, "%s: need %zu (got %zu)",
		    hc->hc_label, hc->hc_need, hh.hh_need);
	free(copy);
	bad = check_prefixes(hc, &bt, &decided, &walked, &whole);
	TAP_OK(bad == SIZE_MAX, "%s: every prefix of %zu bytes, parsed and "
	    "resumed", hc->hc_label, bt.bt_len);
	if (bad != SIZE_MAX)
		printf("#   first wrong answer for %zu bytes\n", bad);
	/* too large: the byte over the bound decides by being there */
	if (hc->hc_result != HTTPHEAD_NEED_MORE)
		TAP_OK(walked == whole && whole + (hc->hc_result ==
		    HTTPHEAD_TOO_LARGE) == decided, "%s: resumed a byte at a "
		    "time, walked %zu bytes, as a whole parse (%zu), up to "
		    "the answer (%zu)", hc->hc_label, walked, whole, decided);
	if (hc->hc_decided != 0)
		TAP_OK(decided == hc->hc_decided, "%s: decided after %zu bytes "
		    "(got %zu)", hc->hc_label, hc->hc_decided, decided);
}

/* split_random - xorshift, so that a failure can be replayed */
static uint32_t
split_random(uint32_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 17;
	*state ^= *state << 5;
	return *state;
}

/*
 * split_feed - feed bytes to one walk in pieces ending at the cuts
 * (ascending, the last one all of them), each call from a buffer of exactly the
 * bytes so far; whether the last answer is the whole parse's, and each
 * byte was walked once.
 */
static int
split_feed(const uint8_t *bytes, const size_t *cuts,
    size_t ncuts, enum httphead_result want, const struct httphead *whole)
{
	struct httphead_walk hw;
	struct httphead	 hh;
	enum httphead_result r = HTTPHEAD_NEED_MORE;
	uint8_t		*copy;
	size_t		 i, walked = 0;
	int		 ok = 1;

	memset(&hw, 0, sizeof(hw));
	for (i = 0; i < ncuts; i++) {
		if ((copy = malloc(cuts[i] ? cuts[i] : 1)) == NULL)
			abort();
		memcpy(copy, bytes, cuts[i]);
		r = httphead_resume(copy, cuts[i], &hw, &hh);
		walked += hh.hh_examined;
		if (i + 1 == ncuts && r == HTTPHEAD_DONE) {
			/* pointers differ by buffer: compare as offsets */
			ok = hh.hh_head_len == whole->hh_head_len &&
			    hh.hh_name_len == whole->hh_name_len &&
			    strcmp(hh.hh_name, whole->hh_name) == 0 &&
			    hh.hh_from == whole->hh_from &&
			    hh.hh_form == whole->hh_form &&
			    hh.hh_acme == whole->hh_acme &&
			    hh.hh_version == whole->hh_version &&
			    hh.hh_host_len == whole->hh_host_len &&
			    hh.hh_target_len == whole->hh_target_len;
		} else if (i + 1 == ncuts)
			ok = hh.hh_status == whole->hh_status &&
			    hh.hh_reason == whole->hh_reason &&
			    hh.hh_need == whole->hh_need;
		free(copy);
	}
	return ok && r == want && walked == whole->hh_examined;
}

/*
 * test_splits - the property: every row, cut anywhere into 2 or 3
 * pieces (or, for a long row, at random points into up to 12), fed
 * through one walk, ends in the answer of the whole, each byte walked
 * once.
 */
static void
test_splits(void)
{
	static struct built bt;
	struct httphead	 whole;
	enum httphead_result want;
	uint8_t		*copy;
	uint32_t	 seed = 0x48545450;	/* "HTTP" */
	size_t		 i, a, b, j, n, cuts[16], tried = 0, wrong = 0;

	for (i = 0; i < sizeof(head_cases) / sizeof(head_cases[0]); i++) {
		build_row(&head_cases[i], &bt);
		want = parse_exact(bt.bt_bytes, bt.bt_len, &whole, &copy);
		free(copy);
		if (bt.bt_len <= SPLIT_ALL) {
			for (a = 0; a <= bt.bt_len; a++)
				for (b = a; b <= bt.bt_len; b++) {
					cuts[0] = a;
					cuts[1] = b;
					cuts[2] = bt.bt_len;
					tried++;
					if (!split_feed(bt.bt_bytes,
					    cuts, 3, want, &whole)) {
						if (wrong++ < 5)
							printf("# %s: cut at %zu "
							    "and %zu\n",
							    head_cases[i].hc_label,
							    a, b);
					}
				}
			continue;
		}
		for (j = 0; j < SPLIT_RANDOM; j++) {
			n = 1 + split_random(&seed) % 12;
			for (a = 0; a + 1 < n; a++)
				cuts[a] = split_random(&seed) % (bt.bt_len + 1);
			cuts[n - 1] = bt.bt_len;
			/* ascending: a few cuts, so insertion sort */
			for (a = 1; a < n; a++)
				for (b = a; b > 0 && cuts[b - 1] > cuts[b]; b--) {
					size_t t = cuts[b];
					cuts[b] = cuts[b - 1];
					cuts[b - 1] = t;
				}
			tried++;
			if (!split_feed(bt.bt_bytes, cuts, n, want,
			    &whole) && wrong++ < 5)
				printf("# %s: random cut %zu\n",
				    head_cases[i].hc_label, j);
		}
	}
	TAP_OK(wrong == 0, "every row cut into pieces answers as whole, each "
	    "byte walked once: %zu of %zu cuts wrong", wrong, tried);
}

/*
 * Walks resumed step by step: the bytes, then for each call the bytes
 * given so far, the answer, hh_need and hh_examined.
 */
static const struct resume_case {
	const char	*rc_label;
	const char	*rc_bytes;
	struct resume_step {
		size_t		 rs_len;	/* 0 ends the steps */
		enum httphead_result rs_result;
		size_t		 rs_need;
		size_t		 rs_examined;
	}		 rc_steps[6];
} resume_cases[] = {
	{ "a head in three segments, then asked again", REQ HOST "\r\n",
	  { { 3, HTTPHEAD_NEED_MORE, 15, 3 },
	    { 20, HTTPHEAD_NEED_MORE, 5, 17 },
	    { 35, HTTPHEAD_DONE, 0, 15 },
	    { 35, HTTPHEAD_DONE, 0, 0 } } },
	{ "a refusal given again without walking",
	  REQ HOST HOST "\r\n",
	  { { 30, HTTPHEAD_NEED_MORE, 4, 30 },
	    { 40, HTTPHEAD_MALFORMED, 0, 8 },
	    { 52, HTTPHEAD_MALFORMED, 0, 0 } } },
	{ "the same bytes twice walk nothing new", REQ "Host: a",
	  { { 23, HTTPHEAD_NEED_MORE, 4, 23 },
	    { 23, HTTPHEAD_NEED_MORE, 4, 0 },
	    { 10, HTTPHEAD_NEED_MORE, 13 + 4, 0 } } },
	{ "TLS on the first byte, given again", "\x16\x03\x01\x00\x05",
	  { { 1, HTTPHEAD_TLS, 0, 1 },
	    { 5, HTTPHEAD_TLS, 0, 0 } } },
};

/* test_resume - the rows of resume_cases */
static void
test_resume(void)
{
	const struct resume_case *rc;
	const struct resume_step *rs;
	struct httphead_walk hw;
	struct httphead	 hh;
	enum httphead_result r;
	uint8_t		*copy;
	size_t		 i, j;

	for (i = 0; i < sizeof(resume_cases) / sizeof(resume_cases[0]); i++) {
		rc = &resume_cases[i];
		memset(&hw, 0, sizeof(hw));
		for (j = 0; j < 6 && rc->rc_steps[j].rs_len != 0; j++) {
			rs = &rc->rc_steps[j];
			if ((copy = malloc(rs->rs_len)) == NULL)
				abort();
			memcpy(copy, rc->rc_bytes, rs->rs_len);
			r = httphead_resume(copy, rs->rs_len, &hw, &hh);
			TAP_OK(r == rs->rs_result && hh.hh_need == rs->rs_need &&
			    hh.hh_examined == rs->rs_examined,
			    "resume: %s: %zu bytes: %s, need %zu, examined %zu "
			    "(got %s, %zu, %zu)", rc->rc_label, rs->rs_len,
			    httphead_result_name(rs->rs_result), rs->rs_need,
			    rs->rs_examined, httphead_result_name(r),
			    hh.hh_need, hh.hh_examined);
			free(copy);
		}
	}
}

/* test_names - the longest name routes; one byte more is no name */
static void
test_names(void)
{
	static const char label[] = L63;
	char		 name[4 * sizeof(label)], req[512];
	struct httphead	 hh;
	size_t		 n;

	for (n = HOSTNAME_MAX; n <= HOSTNAME_MAX + 1; n++) {
		snprintf(name, sizeof(name), "%s.%s.%s.%s", label, label, label,
		    label);
		name[n] = '\0';
		if (name[n - 1] == '.')
			name[n - 1] = 'x';
		snprintf(req, sizeof(req), REQ "Host: %s:80\r\n\r\n", name);
		TAP_OK(httphead_parse((const uint8_t *)req, strlen(req), &hh) ==
		    HTTPHEAD_DONE && (n == HOSTNAME_MAX ?
		    hh.hh_name_len == (ssize_t)n && strcmp(hh.hh_name, name) == 0 :
		    hh.hh_name_len == -1), "a Host name of %zu bytes: %s", n,
		    n == HOSTNAME_MAX ? "routes" : "no name (default)");
	}
}

/* test_result_names - the words logs and counters use */
static void
test_result_names(void)
{
	static const struct {
		enum httphead_result	 rn_result;
		const char		*rn_name;
	} names[] = {
		{ HTTPHEAD_DONE, "done" },
		{ HTTPHEAD_NEED_MORE, "need-more" },
		{ HTTPHEAD_TLS, "tls" },
		{ HTTPHEAD_NOT_HTTP, "not-http" },
		{ HTTPHEAD_MALFORMED, "malformed" },
		{ HTTPHEAD_TOO_LARGE, "too-large" },
		{ HTTPHEAD_VERSION, "version" },
	};
	size_t	 i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		TAP_OK(strcmp(httphead_result_name(names[i].rn_result),
		    names[i].rn_name) == 0, "httphead_result_name %s",
		    names[i].rn_name);
}

/* main - every row, its prefixes and cuts, then the steps and names */
int
main(void)
{
	size_t	 i;

	for (i = 0; i < sizeof(head_cases) / sizeof(head_cases[0]); i++)
		test_row(&head_cases[i]);
	test_splits();
	test_resume();
	test_names();
	test_result_names();
	return TAP_DONE();
}
