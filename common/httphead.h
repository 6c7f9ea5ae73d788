/*
 * httphead.h - the routing name of an HTTP/1.x request, from its head.
 *
 * For `listen_http` listeners: the client speaks HTTP/1.x in clear, the
 * worker peeks at its request head, routes it by name as it routes TLS
 * clients by server name, then hands the socket on untouched: the
 * backend reads the request from its first byte.  Nothing here reads,
 * writes or allocates; it only looks at the bytes peeked so far.
 *
 * The contract, for the worker's event loop (the same as hello_resume's):
 *
 *   - Keep one struct httphead_walk per connection, zeroed before the
 *     first byte.  Call httphead_resume with every byte peeked so far,
 *     from the first (peeking consumes nothing, so each peek returns the
 *     earlier bytes again, and maybe more).  Each call walks only the
 *     bytes new since the last: a head sent one byte per segment is
 *     still walked once in all (hh_examined adds up to the head's
 *     length).  Fewer bytes than the last call (a broken promise)
 *     answer HTTPHEAD_NEED_MORE for the missing ones.
 *   - HTTPHEAD_NEED_MORE comes with hh_need: the head can neither end
 *     (its blank line) nor run over HTTPHEAD_MAX before that many more
 *     bytes have come.  Set SO_RCVLOWAT to the bytes peeked plus
 *     hh_need; a refusal may show in fewer bytes (a control byte, say),
 *     and then shows at the next wakeup or the peek deadline.  The first byte alone decides
 *     HTTPHEAD_TLS and HTTPHEAD_NOT_HTTP: keep the mark at 1 until one
 *     byte is in.
 *   - Any other answer is final: more bytes never change it, and asking
 *     again gives it again without walking anything.  The order and the
 *     cut of the segments never change an answer.
 *
 * When is the head "done"?  Routing needs only the request line and the
 * Host line, and the backend reads the rest itself; but HTTPHEAD_DONE
 * comes only once the blank line ending the head is walked, and refuses
 * what comes before it as the backend must.  A demanding operator
 * wants SNItch and the backend to see one request: RFC 9110 7.2 (and RFC
 * 9112 3.2) make a second Host line a 400, and a switch that routed on
 * the first while the backend used the last would send a request for
 * one site to another's backend (the same split clienthello.c refuses
 * for two host_names).  Obs-fold, a bare LF or CR and whitespace before
 * a colon, anywhere in the head, are where two parsers disagree on
 * where a line ends and so on which Host there is.  The cost is small:
 * the head is bounded (HTTPHEAD_MAX) and real clients send it in one
 * segment.  Bytes after the head (a body, pipelined requests) are not
 * looked at; the first request of a connection routes the connection.
 *
 * The decisions, each with its RFC:
 *
 *   - Request line (RFC 9112 3): METHOD SP TARGET SP HTTP/d.d CRLF, with
 *     single spaces; anything else is 400.  The method is any token
 *     (RFC 9110 9.1); a first byte 0x16 is HTTPHEAD_TLS (a TLS client on
 *     an HTTP listener), any other first byte that cannot start a token
 *     is HTTPHEAD_NOT_HTTP, empty lines before the request line included
 *     (RFC 9112 2.2 asks to skip them between requests; a new
 *     connection has had none).
 *   - Version (RFC 9110 2.5, 6.2): HTTP/1.0, HTTP/1.1, and HTTP/1.2 to
 *     1.9 read as 1.1 (a higher minor version SHOULD be processed as the
 *     highest one implemented; hh_version says 11).  Another major
 *     version (HTTP/0.9 written out, HTTP/2.0 as in h2c's prior-knowledge
 *     preface "PRI * HTTP/2.0", HTTP/3.0) is HTTPHEAD_VERSION, 505,
 *     once the request line is otherwise well formed.  "HTTP/1.10" or
 *     "http/1.1" are not versions at all: 400.
 *   - Target forms (RFC 9112 3.2): origin-form ("/..."), absolute-form
 *     ("http://" or "https://", scheme in any case; another scheme is
 *     400: SNItch is no forward proxy), authority-form only for CONNECT
 *     (host:port, the port required) and asterisk-form only for
 *     OPTIONS ("*" alone).  Control bytes are 400; bytes over 0x7f are
 *     left to the backend in a path or query, never in an authority.
 *   - The routing name: the absolute-form's host (RFC 9112 3.2.2: it
 *     wins over Host), else the Host field's.  An absolute-form with
 *     userinfo ("user@") is 400 (RFC 9110 4.2.4), so is one with an
 *     empty host (4.2.1).  HTTP/1.1 without a Host line is 400 even with
 *     an absolute-form target (RFC 9112 3.2); HTTP/1.0 without one, and
 *     an origin-form target, has no name: the default route.  CONNECT
 *     routes by Host, as every request but the absolute-form does.
 *   - Host (RFC 9110 7.2, RFC 3986 3.2.2): uri-host [":" port].  Two Host
 *     lines, or a value that is not that syntax, are 400.  An empty
 *     value is valid (RFC 9112 3.2 has clients send one when the target
 *     has no authority): no name.  The host part is normalized as SNI
 *     names are (hostname_normalize: lowercase, one trailing dot
 *     dropped) after the port is dropped; a valid host that is not a
 *     host name (an IPv4 literal, an IPv6 literal in brackets, a
 *     reg-name with '_' or '%' escapes, longer than 253 bytes) has no
 *     name and routes to the default, never `*`, as the same literal in
 *     SNI would.  Percent escapes are not decoded.
 *   - Field lines (RFC 9112 5): a line starting with SP or HTAB (obs-fold,
 *     5.2; also right after the request line, 2.2) is 400: SNItch does
 *     not rewrite bytes it hands on, so it cannot replace the fold.
 *     Whitespace before the colon (5.1), a name that is not a token, a
 *     line without a colon, a control byte but HTAB in a value, a bare
 *     CR (2.2) and a bare LF are 400.  RFC 9112 2.2 lets a recipient
 *     take a bare LF as a line end; SNItch does not, since a backend
 *     that does not would see other lines (and another Host) than it.
 *   - Bounds: the head, blank line included, of at most HTTPHEAD_MAX
 *     bytes.  A head not ended by then is HTTPHEAD_TOO_LARGE, decided on
 *     its byte HTTPHEAD_MAX + 1: 414 (URI Too Long) when the request line
 *     itself is not ended (RFC 9112 3: a request-target longer than the
 *     server wishes to parse; the rare over-long method gets 414 too),
 *     431 (Request Header Fields Too Large, RFC 6585 5) otherwise.
 *   - ACME (RFC 8555 8.3): hh_acme when the path, as sent, starts with
 *     "/.well-known/acme-challenge/"; case and escapes are not folded.
 */
#ifndef HTTPHEAD_H
#define HTTPHEAD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "hostname.h"

#define HTTPHEAD_MAX	8192	/* a head's bytes, the blank line included */

enum httphead_result {
	HTTPHEAD_DONE,		/* a whole head, valid: route by hh_name */
	HTTPHEAD_NEED_MORE,	/* valid so far; hh_need more bytes at least */
	HTTPHEAD_TLS,		/* first byte 0x16: a TLS client */
	HTTPHEAD_NOT_HTTP,	/* a first byte that cannot start a method */
	HTTPHEAD_MALFORMED,	/* 400: hh_reason says why */
	HTTPHEAD_TOO_LARGE,	/* 414 or 431 (hh_status): over HTTPHEAD_MAX */
	HTTPHEAD_VERSION,	/* 505: an HTTP major version other than 1 */
};

enum httphead_form {
	HTTPHEAD_FORM_NONE,		/* not known (no HTTPHEAD_DONE) */
	HTTPHEAD_FORM_ORIGIN,		/* /path?query */
	HTTPHEAD_FORM_ABSOLUTE,		/* http://authority/path */
	HTTPHEAD_FORM_AUTHORITY,	/* CONNECT host:port */
	HTTPHEAD_FORM_ASTERISK,		/* OPTIONS * */
};

enum httphead_from {
	HTTPHEAD_FROM_NONE,	/* no Host and no absolute-form: default */
	HTTPHEAD_FROM_TARGET,	/* the absolute-form target's host */
	HTTPHEAD_FROM_HOST,	/* the Host field's host */
};

/*
 * The answer.  Every field is cleared on entry (hh_name_len to -1);
 * only hh_need and hh_examined are set for HTTPHEAD_NEED_MORE, only
 * hh_reason, hh_status and hh_examined for the other answers but
 * HTTPHEAD_DONE, and the rest only for HTTPHEAD_DONE.  Pointers point into the bytes given to this call,
 * valid while they are; they are as the client sent them: escape them
 * before logging.
 */
struct httphead {
	const uint8_t	*hh_method;	/* the method token */
	size_t		 hh_method_len;
	const uint8_t	*hh_target;	/* the request-target */
	size_t		 hh_target_len;
	enum httphead_form hh_form;
	int		 hh_version;	/* 10 or 11 (1.2 to 1.9 read as 11) */
	enum httphead_from hh_from;	/* where the host came from */
	const uint8_t	*hh_host;	/* that host, port dropped, as sent;
					   NULL with HTTPHEAD_FROM_NONE */
	size_t		 hh_host_len;	/* may be 0: an empty Host */
	char		 hh_name[HOSTNAME_MAX + 1];	/* hh_host normalized */
	ssize_t		 hh_name_len;	/* -1: not a host name, or no host:
					   the default route */
	int		 hh_acme;	/* path starts with the ACME prefix */
	size_t		 hh_head_len;	/* bytes up to and including the
					   blank line */
	size_t		 hh_need;	/* HTTPHEAD_NEED_MORE: at least this
					   many more bytes before another
					   answer can come; a refusal may
					   show sooner */
	int		 hh_status;	/* a refusal's HTTP status: 400, 414,
					   431, 505; 0 otherwise (and for
					   HTTPHEAD_TLS, HTTPHEAD_NOT_HTTP) */
	const char	*hh_reason;	/* why not HTTPHEAD_DONE, a short
					   static string for the log; NULL
					   for HTTPHEAD_DONE, _NEED_MORE */
	size_t		 hh_examined;	/* bytes this call walked */
};

/*
 * How far a resumed walk got: the caller keeps one per connection,
 * zeroed before its first byte.  Small, for the worker's connection
 * slots: every offset fits 16 bits (HTTPHEAD_MAX + 1 does).
 */
struct httphead_walk {
	uint16_t	 hw_pos;	/* bytes walked */
	uint16_t	 hw_mark;	/* where the current token or line
					   started */
	uint16_t	 hw_method_len;
	uint16_t	 hw_target_len;
	uint16_t	 hw_auth_off;	/* the authority being walked, or the
					   target's (absolute-form) once
					   walked */
	uint16_t	 hw_auth_len;	/* its host part's length */
	uint16_t	 hw_host_off;	/* the Host field's host part */
	uint16_t	 hw_host_len;
	uint16_t	 hw_flags;	/* HW_ bits, in httphead.c */
	uint8_t		 hw_state;	/* where in the head, in httphead.c */
	uint8_t		 hw_auth;	/* where in an authority */
	uint8_t		 hw_count;	/* bytes matched: "http://", a field
					   name against "host", the ACME
					   prefix */
	uint8_t		 hw_form;	/* enum httphead_form */
	uint8_t		 hw_version;	/* major * 10 + minor, once read */
	uint8_t		 hw_answer;	/* 0, or 1 + the answer once given */
	uint8_t		 hw_reason;	/* the refusal, in httphead.c */
};

enum httphead_result httphead_parse(const uint8_t *wire, size_t len,
		    struct httphead *hh);
enum httphead_result httphead_resume(const uint8_t *wire, size_t len,
		    struct httphead_walk *hw, struct httphead *hh);
const char	*httphead_result_name(enum httphead_result);

#endif
