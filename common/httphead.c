/*
 * httphead.c - the routing name of an HTTP/1.x request, from its head.
 *
 * Runs in the workers, unprivileged, over bytes a client sent and nobody
 * has checked yet; nothing here allocates, logs, keeps state of its own
 * or makes a system call.  httphead.h states the contract and every
 * decision about what is refused; this file is the walk.
 *
 * One state machine, one byte at a time: each byte is judged when it is
 * walked and never looked at again, so an answer is the same however
 * the bytes were cut into segments, and a head dribbled one byte per
 * segment costs what a whole one does.  The walk keeps offsets, never
 * pointers or copies: the caller's buffer starts at the first byte each
 * time, so the request line and the host can be pointed at (and the
 * host normalized) once the head is whole.  Bytes after the head are not
 * looked at.
 */
#include <string.h>

#include "httphead.h"

#define HTTPHEAD_CR	'\r'
#define HTTPHEAD_LF	'\n'
#define HTTPHEAD_SP	' '
#define HTTPHEAD_HTAB	'\t'
#define HTTPHEAD_TLS_HANDSHAKE	0x16	/* RFC 8446 5.1: a ClientHello's record */

/* RFC 8555 8.3: where an http-01 challenge is fetched */
#define HTTPHEAD_ACME		"/.well-known/acme-challenge/"
#define HTTPHEAD_ACME_LEN	(sizeof(HTTPHEAD_ACME) - 1)
#define HTTPHEAD_VERSION_LEN	8	/* "HTTP/" DIGIT "." DIGIT */

/* struct httphead_walk keeps offsets in 16 bits */
_Static_assert(HTTPHEAD_MAX + 1 <= UINT16_MAX, "HTTPHEAD_MAX fits hw_pos");

/* Where in the head the next byte falls (hw_state) */
enum httphead_state {
	HS_METHOD,	/* the method, from the first byte */
	HS_TARGET,	/* the target's first byte decides its form */
	HS_ORIGIN,	/* a path and query, origin-form or absolute-form's */
	HS_ASTERISK,	/* after "*": only SP may follow */
	HS_SCHEME,	/* absolute-form: "http://" or "https://" */
	HS_AUTHORITY,	/* absolute-form: the authority */
	HS_CONNECT,	/* authority-form: the whole target */
	HS_VERSION,	/* "HTTP/d.d" then CR */
	HS_LINE_LF,	/* the request line's LF */
	HS_LINE,	/* a field line's first byte, or the blank line's */
	HS_NAME,	/* a field name */
	HS_VALUE,	/* a field value */
	HS_HOST_VALUE,	/* the Host field's value */
	HS_FIELD_LF,	/* a field line's LF */
	HS_END_LF,	/* the blank line's LF: the head ends */
};

/* hw_flags */
#define HW_CONNECT	0x0001	/* the method is CONNECT, so far */
#define HW_OPTIONS	0x0002	/* the method is OPTIONS, so far */
#define HW_HTTPS	0x0004	/* the scheme had its 's' */
#define HW_HOST_SEEN	0x0008	/* a Host line was walked */
#define HW_NAME_HOST	0x0010	/* this field name is "Host", so far */
#define HW_VALUE_START	0x0020	/* the Host value's first byte is walked */
#define HW_VALUE_END	0x0040	/* the Host value ended: OWS only now */
#define HW_ACME		0x0080	/* the path starts with HTTPHEAD_ACME */
#define HW_ACME_OFF	0x0100	/* ... and cannot any more */

/* Where in an authority, RFC 3986 3.2 (hw_auth) */
enum httphead_auth {
	AU_START,	/* nothing yet */
	AU_REG,		/* in a reg-name */
	AU_PCT1,	/* after "%" */
	AU_PCT2,	/* after "%" HEXDIG */
	AU_LIT0,	/* after "[" */
	AU_LIT,		/* in an IP-literal */
	AU_LIT_END,	/* after "]" */
	AU_PORT,	/* after ":": DIGITs */
	AU_USERINFO,	/* not a port after all: userinfo, if "@" comes */
};

/* What httphead_auth_byte found wrong */
#define AUTH_BAD	(-1)
#define AUTH_USERINFO	(-2)

/*
 * The refusals.  hw_reason indexes this table, so a refusal given again
 * is given with its words; index 0 is none.
 */
enum httphead_why {
	WHY_NONE,
	WHY_TLS,
	WHY_NOT_HTTP,
	WHY_REQUEST_LINE,
	WHY_CONTROL,
	WHY_BARE_LF,
	WHY_BARE_CR,
	WHY_TARGET,
	WHY_SCHEME,
	WHY_AUTHORITY,
	WHY_USERINFO,
	WHY_EMPTY_HOST,
	WHY_FORM_METHOD,
	WHY_OBS_FOLD,
	WHY_SPACE_COLON,
	WHY_FIELD_NAME,
	WHY_NO_COLON,
	WHY_HOST_TWICE,
	WHY_HOST_BAD,
	WHY_NO_HOST,
	WHY_VERSION,
	WHY_LONG_LINE,
	WHY_LONG_HEAD,
};

static const struct httphead_refusal {
	enum httphead_result	 hr_result;
	int			 hr_status;
	const char		*hr_reason;
} httphead_refusals[] = {
	[WHY_NONE] = { HTTPHEAD_NEED_MORE, 0, NULL },
	[WHY_TLS] = { HTTPHEAD_TLS, 0, "TLS client" },
	[WHY_NOT_HTTP] = { HTTPHEAD_NOT_HTTP, 0, "not HTTP" },
	[WHY_REQUEST_LINE] = { HTTPHEAD_MALFORMED, 400, "bad request line" },
	[WHY_CONTROL] = { HTTPHEAD_MALFORMED, 400, "control byte" },
	[WHY_BARE_LF] = { HTTPHEAD_MALFORMED, 400, "bare LF" },
	[WHY_BARE_CR] = { HTTPHEAD_MALFORMED, 400, "bare CR" },
	[WHY_TARGET] = { HTTPHEAD_MALFORMED, 400, "bad request target" },
	[WHY_SCHEME] = { HTTPHEAD_MALFORMED, 400,
	    "absolute-form scheme not http or https" },
	[WHY_AUTHORITY] = { HTTPHEAD_MALFORMED, 400, "bad authority in target" },
	[WHY_USERINFO] = { HTTPHEAD_MALFORMED, 400, "userinfo in target" },
	[WHY_EMPTY_HOST] = { HTTPHEAD_MALFORMED, 400, "empty host in target" },
	[WHY_FORM_METHOD] = { HTTPHEAD_MALFORMED, 400,
	    "target form does not fit the method" },
	[WHY_OBS_FOLD] = { HTTPHEAD_MALFORMED, 400, "obs-fold" },
	[WHY_SPACE_COLON] = { HTTPHEAD_MALFORMED, 400,
	    "whitespace before colon" },
	[WHY_FIELD_NAME] = { HTTPHEAD_MALFORMED, 400, "bad field name" },
	[WHY_NO_COLON] = { HTTPHEAD_MALFORMED, 400, "field line without colon" },
	[WHY_HOST_TWICE] = { HTTPHEAD_MALFORMED, 400, "two Host fields" },
	[WHY_HOST_BAD] = { HTTPHEAD_MALFORMED, 400, "Host not valid" },
	[WHY_NO_HOST] = { HTTPHEAD_MALFORMED, 400, "HTTP/1.1 without Host" },
	[WHY_VERSION] = { HTTPHEAD_VERSION, 505, "HTTP version not supported" },
	[WHY_LONG_LINE] = { HTTPHEAD_TOO_LARGE, 414,
	    "request line over 8192 bytes" },
	[WHY_LONG_HEAD] = { HTTPHEAD_TOO_LARGE, 431, "head over 8192 bytes" },
};

_Static_assert(HTTPHEAD_MAX == 8192, "the reasons above name the bound");

/* httphead_in - whether c is one of the bytes of set (never NUL) */
static int
httphead_in(uint8_t c, const char *set)
{
	return c != '\0' && strchr(set, c) != NULL;
}

/* httphead_alpha - RFC 5234 ALPHA */
static int
httphead_alpha(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* httphead_digit - RFC 5234 DIGIT */
static int
httphead_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

/* httphead_hex - RFC 5234 HEXDIG, in either case as RFC 3986 2.1 allows */
static int
httphead_hex(uint8_t c)
{
	return httphead_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

/* httphead_ctl - RFC 5234 CTL: 0x00-0x1f and DEL */
static int
httphead_ctl(uint8_t c)
{
	return c < 0x20 || c == 0x7f;
}

/* httphead_tchar - RFC 9110 5.6.2: a byte of a token (method, field name) */
static int
httphead_tchar(uint8_t c)
{
	return httphead_alpha(c) || httphead_digit(c) ||
	    httphead_in(c, "!#$%&'*+-.^_`|~");
}

/*
 * httphead_regchar - RFC 3986 3.2.2: a reg-name's byte but "%" (unreserved
 * or sub-delims); also what userinfo and an IP-literal are made of
 */
static int
httphead_regchar(uint8_t c)
{
	return httphead_alpha(c) || httphead_digit(c) ||
	    httphead_in(c, "-._~!$&'()*+,;=");
}

/* httphead_lower - c in lowercase, if a letter */
static uint8_t
httphead_lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c | 0x20) : c;
}

/*
 * httphead_line_why - the refusal for a byte the request line has no
 * place for: CR or LF ends a line too soon, another CTL is a control
 * byte, anything else breaks the line's layout.
 */
static enum httphead_why
httphead_line_why(uint8_t c)
{
	if (c == HTTPHEAD_CR || c == HTTPHEAD_LF || !httphead_ctl(c))
		return WHY_REQUEST_LINE;
	return WHY_CONTROL;
}

/*
 * httphead_auth_byte - walk one byte of an authority, RFC 3986 3.2:
 *
 *	authority   = [ userinfo "@" ] host [ ":" port ]
 *	host        = IP-literal / IPv4address / reg-name
 *	IP-literal  = "[" ( IPv6address / IPvFuture ) "]"
 *	reg-name    = *( unreserved / pct-encoded / sub-delims )
 *	port        = *DIGIT
 *
 * The Host field's value (RFC 9110 7.2: uri-host [ ":" port ]) is the
 * same without userinfo.  An IP-literal's inside is taken as any run of
 * unreserved, sub-delims and ":" (a superset of both forms): it is never
 * a host name, so only its extent matters.  IPv4address is a reg-name
 * here.  *hostlen gets the host part's length when ":" ends it.  0, or
 * AUTH_BAD, or AUTH_USERINFO for an "@".
 */
static int
httphead_auth_byte(struct httphead_walk *hw, uint8_t c, uint16_t off,
    uint16_t *hostlen)
{
	switch (hw->hw_auth) {
	case AU_START:
		if (c == '[') {
			hw->hw_auth = AU_LIT0;
			return 0;
		}
		/* FALLTHROUGH */
	case AU_REG:
		if (httphead_regchar(c))
			hw->hw_auth = AU_REG;
		else if (c == '%')
			hw->hw_auth = AU_PCT1;
		else if (c == ':')
			break;
		else
			return c == '@' ? AUTH_USERINFO : AUTH_BAD;
		return 0;
	case AU_PCT1:
	case AU_PCT2:
		if (!httphead_hex(c))
			return AUTH_BAD;
		hw->hw_auth = hw->hw_auth == AU_PCT1 ? AU_PCT2 : AU_REG;
		return 0;
	case AU_LIT0:
	case AU_LIT:
		if (c == ']' && hw->hw_auth == AU_LIT)
			hw->hw_auth = AU_LIT_END;
		else if (httphead_regchar(c) || c == ':')
			hw->hw_auth = AU_LIT;
		else
			return AUTH_BAD;
		return 0;
	case AU_LIT_END:
		if (c != ':')
			return AUTH_BAD;
		break;
	case AU_PORT:
		if (httphead_digit(c))
			return 0;
		/* FALLTHROUGH */
	default:
		/* "user:password@": what looked like a port was not one */
		if (c == '@')
			return AUTH_USERINFO;
		if (!httphead_regchar(c) && c != '%' && c != ':')
			return AUTH_BAD;
		hw->hw_auth = AU_USERINFO;
		return 0;
	}
	/* ":" ends the host part */
	*hostlen = (uint16_t)(hw->hw_pos - off);
	hw->hw_auth = AU_PORT;
	return 0;
}

/*
 * httphead_auth_end - the authority ends before the byte at hw_pos:
 * 0 when it is whole (an empty one included: the caller judges that),
 * with *hostlen the host part's length, or -1.
 */
static int
httphead_auth_end(struct httphead_walk *hw, uint16_t off, uint16_t *hostlen)
{
	switch (hw->hw_auth) {
	case AU_START:
	case AU_REG:
	case AU_LIT_END:
		*hostlen = (uint16_t)(hw->hw_pos - off);
		return 0;
	case AU_PORT:
		return 0;
	}
	return -1;
}

/* httphead_target_end - the SP after the target: the version comes */
static enum httphead_why
httphead_target_end(struct httphead_walk *hw)
{
	hw->hw_target_len = (uint16_t)(hw->hw_pos - hw->hw_mark);
	hw->hw_state = HS_VERSION;
	hw->hw_count = 0;
	return WHY_NONE;
}

/* httphead_acme - one more path byte against the ACME prefix */
static void
httphead_acme(struct httphead_walk *hw, uint8_t c)
{
	if (hw->hw_flags & (HW_ACME | HW_ACME_OFF))
		return;
	if (c != (uint8_t)HTTPHEAD_ACME[hw->hw_count]) {
		hw->hw_flags |= HW_ACME_OFF;
		return;
	}
	if (++hw->hw_count == HTTPHEAD_ACME_LEN)
		hw->hw_flags |= HW_ACME;
}

/*
 * httphead_method - one byte of the method: a token; SP ends it.  The
 * first byte also says whether this is HTTP at all: a TLS client's
 * first record is a handshake (0x16); a byte no token has is not a
 * request.
 */
static enum httphead_why
httphead_method(struct httphead_walk *hw, uint8_t c)
{
	static const char connect[] = "CONNECT", options[] = "OPTIONS";

	if (hw->hw_pos == 0) {
		if (c == HTTPHEAD_TLS_HANDSHAKE)
			return WHY_TLS;
		if (!httphead_tchar(c))
			return WHY_NOT_HTTP;
		hw->hw_flags |= HW_CONNECT | HW_OPTIONS;
	}
	if (c == HTTPHEAD_SP) {
		hw->hw_method_len = hw->hw_pos;
		if (hw->hw_pos != sizeof(connect) - 1)
			hw->hw_flags &= ~(HW_CONNECT | HW_OPTIONS);
		hw->hw_mark = hw->hw_pos + 1;
		hw->hw_state = HS_TARGET;
		return WHY_NONE;
	}
	if (!httphead_tchar(c))
		return httphead_line_why(c);
	if (hw->hw_pos >= sizeof(connect) - 1 || c != (uint8_t)connect[hw->hw_pos])
		hw->hw_flags &= ~HW_CONNECT;
	if (hw->hw_pos >= sizeof(options) - 1 || c != (uint8_t)options[hw->hw_pos])
		hw->hw_flags &= ~HW_OPTIONS;
	return WHY_NONE;
}

/*
 * httphead_target - the target's first byte decides its form, RFC 9112
 * 3.2: CONNECT takes authority-form only; otherwise "/" starts
 * origin-form, "*" asterisk-form, a letter absolute-form's scheme.
 */
static enum httphead_why
httphead_target(struct httphead_walk *hw, uint8_t c)
{
	if (c == HTTPHEAD_SP || httphead_ctl(c))
		return httphead_line_why(c);
	if (hw->hw_flags & HW_CONNECT) {
		hw->hw_form = HTTPHEAD_FORM_AUTHORITY;
		hw->hw_state = HS_CONNECT;
		hw->hw_auth_off = hw->hw_pos;
		hw->hw_auth = AU_START;
		return WHY_NONE;	/* the caller walks c again there */
	}
	if (c == '/') {
		hw->hw_form = HTTPHEAD_FORM_ORIGIN;
		hw->hw_state = HS_ORIGIN;
	} else if (c == '*') {
		hw->hw_form = HTTPHEAD_FORM_ASTERISK;
		hw->hw_state = HS_ASTERISK;
	} else if (httphead_alpha(c)) {
		hw->hw_form = HTTPHEAD_FORM_ABSOLUTE;
		hw->hw_state = HS_SCHEME;
	} else
		return WHY_TARGET;
	hw->hw_count = 0;
	return WHY_NONE;	/* and c again */
}

/*
 * httphead_scheme - absolute-form's "http://" or "https://", the scheme
 * in any case (RFC 3986 3.1); the authority follows.
 */
static enum httphead_why
httphead_scheme(struct httphead_walk *hw, uint8_t c)
{
	static const char http[] = "http://";

	if (httphead_ctl(c))
		return httphead_line_why(c);
	if (hw->hw_count == 4 && httphead_lower(c) == 's' &&
	    !(hw->hw_flags & HW_HTTPS)) {
		hw->hw_flags |= HW_HTTPS;
		return WHY_NONE;
	}
	if (httphead_lower(c) != (uint8_t)http[hw->hw_count])
		return WHY_SCHEME;
	if (++hw->hw_count == sizeof(http) - 1) {
		hw->hw_state = HS_AUTHORITY;
		hw->hw_auth_off = hw->hw_pos + 1;
		hw->hw_auth = AU_START;
	}
	return WHY_NONE;
}

/* httphead_target_auth - one byte of the target's authority, either form */
static enum httphead_why
httphead_target_auth(struct httphead_walk *hw, uint8_t c)
{
	int	 r;

	if (httphead_ctl(c))
		return httphead_line_why(c);
	r = httphead_auth_byte(hw, c, hw->hw_auth_off, &hw->hw_auth_len);
	if (r == AUTH_USERINFO)
		return WHY_USERINFO;
	return r == AUTH_BAD ? WHY_AUTHORITY : WHY_NONE;
}

/*
 * httphead_authority - absolute-form's authority, up to "/", "?" or the
 * SP ending the target (RFC 3986 3.2).  Its host routes (RFC 9112
 * 3.2.2); RFC 9110 4.2.1 has an empty one rejected, 4.2.4 userinfo
 * treated as an error.
 */
static enum httphead_why
httphead_authority(struct httphead_walk *hw, uint8_t c)
{
	if (c == '/' || c == '?' || c == HTTPHEAD_SP) {
		if (httphead_auth_end(hw, hw->hw_auth_off, &hw->hw_auth_len) == -1)
			return WHY_AUTHORITY;
		if (hw->hw_auth_len == 0)
			return WHY_EMPTY_HOST;
		if (c == HTTPHEAD_SP)
			return httphead_target_end(hw);
		hw->hw_state = HS_ORIGIN;
		hw->hw_count = 0;
		if (c == '?')
			hw->hw_flags |= HW_ACME_OFF;
		httphead_acme(hw, c);
		return WHY_NONE;
	}
	return httphead_target_auth(hw, c);
}

/*
 * httphead_connect - authority-form, RFC 9112 3.2.3: uri-host ":" port,
 * the port required, the host not empty.
 */
static enum httphead_why
httphead_connect(struct httphead_walk *hw, uint8_t c)
{
	if (c == HTTPHEAD_SP) {
		if (hw->hw_auth != AU_PORT)
			return WHY_AUTHORITY;
		if (hw->hw_auth_len == 0)
			return WHY_EMPTY_HOST;
		return httphead_target_end(hw);
	}
	return httphead_target_auth(hw, c);
}

/*
 * httphead_version - "HTTP/" DIGIT "." DIGIT, then CR (RFC 9112 2.3,
 * case-sensitive); the major version is judged once the line is whole.
 */
static enum httphead_why
httphead_version(struct httphead_walk *hw, uint8_t c)
{
	static const char name[] = "HTTP/";
	uint8_t	 at = hw->hw_count++;

	if (at == HTTPHEAD_VERSION_LEN) {
		if (c == HTTPHEAD_CR) {
			hw->hw_state = HS_LINE_LF;
			return WHY_NONE;
		}
		return c == HTTPHEAD_LF ? WHY_BARE_LF : httphead_line_why(c);
	}
	if (at < sizeof(name) - 1 ? c == (uint8_t)name[at] :
	    at == 6 ? c == '.' : httphead_digit(c)) {
		if (at == 5 || at == 7)
			hw->hw_version = (uint8_t)(hw->hw_version * 10 + c - '0');
		return WHY_NONE;
	}
	return httphead_line_why(c);
}

/*
 * httphead_line - a field line's first byte (RFC 9112 5), or the blank
 * line's CR.  Whitespace there is obs-fold (5.2), or whitespace between
 * the request line and the first field (2.2): refused either way.
 */
static enum httphead_why
httphead_line(struct httphead_walk *hw, uint8_t c)
{
	hw->hw_mark = hw->hw_pos;
	if (c == HTTPHEAD_CR) {
		hw->hw_state = HS_END_LF;
		return WHY_NONE;
	}
	if (c == HTTPHEAD_LF)
		return WHY_BARE_LF;
	if (c == HTTPHEAD_SP || c == HTTPHEAD_HTAB)
		return WHY_OBS_FOLD;
	if (httphead_ctl(c))
		return WHY_CONTROL;
	if (!httphead_tchar(c))
		return WHY_FIELD_NAME;
	hw->hw_state = HS_NAME;
	hw->hw_flags |= HW_NAME_HOST;
	hw->hw_count = 0;
	return WHY_NONE;	/* and c again, as the name's first byte */
}

/*
 * httphead_name - a field name: a token up to ":" (RFC 9112 5, 5.1: no
 * whitespace before the colon), compared with "Host" in any case.  A
 * second Host line is refused at its colon (RFC 9110 7.2).
 */
static enum httphead_why
httphead_name(struct httphead_walk *hw, uint8_t c)
{
	static const char host[] = "host";

	if (httphead_tchar(c)) {
		if (hw->hw_count < sizeof(host) - 1 &&
		    httphead_lower(c) == (uint8_t)host[hw->hw_count])
			hw->hw_count++;
		else
			hw->hw_flags &= ~HW_NAME_HOST;
		return WHY_NONE;
	}
	if (c == HTTPHEAD_SP || c == HTTPHEAD_HTAB)
		return WHY_SPACE_COLON;
	if (c == HTTPHEAD_CR || c == HTTPHEAD_LF)
		return WHY_NO_COLON;
	if (c != ':')
		return httphead_ctl(c) ? WHY_CONTROL : WHY_FIELD_NAME;
	if (!(hw->hw_flags & HW_NAME_HOST) || hw->hw_count != sizeof(host) - 1) {
		hw->hw_state = HS_VALUE;
		return WHY_NONE;
	}
	if (hw->hw_flags & HW_HOST_SEEN)
		return WHY_HOST_TWICE;
	hw->hw_flags |= HW_HOST_SEEN;
	hw->hw_flags &= ~(HW_VALUE_START | HW_VALUE_END);
	hw->hw_host_off = hw->hw_pos + 1;
	hw->hw_host_len = 0;
	hw->hw_auth = AU_START;
	hw->hw_state = HS_HOST_VALUE;
	return WHY_NONE;
}

/*
 * httphead_value - a field value, RFC 9110 5.5: VCHAR, obs-text, SP and
 * HTAB; CR ends it, anything else is a control byte or a bare LF.
 */
static enum httphead_why
httphead_value(struct httphead_walk *hw, uint8_t c)
{
	if (c == HTTPHEAD_CR) {
		hw->hw_state = HS_FIELD_LF;
		return WHY_NONE;
	}
	if (c == HTTPHEAD_LF)
		return WHY_BARE_LF;
	if (httphead_ctl(c) && c != HTTPHEAD_HTAB)
		return WHY_CONTROL;
	return WHY_NONE;
}

/*
 * httphead_host_value - the Host field's value: OWS, uri-host [":" port],
 * OWS (RFC 9112 5, RFC 9110 7.2); anything else in it is a 400.
 */
static enum httphead_why
httphead_host_value(struct httphead_walk *hw, uint8_t c)
{
	int	 ows = c == HTTPHEAD_SP || c == HTTPHEAD_HTAB;

	if (httphead_ctl(c) && c != HTTPHEAD_CR && c != HTTPHEAD_HTAB)
		return httphead_value(hw, c);
	if (!ows && c != HTTPHEAD_CR) {
		hw->hw_flags |= HW_VALUE_START;
		if (hw->hw_flags & HW_VALUE_END ||
		    httphead_auth_byte(hw, c, hw->hw_host_off,
		    &hw->hw_host_len) != 0)
			return WHY_HOST_BAD;
		return WHY_NONE;
	}
	if (!(hw->hw_flags & HW_VALUE_START)) {
		/* leading OWS, or an empty value: the host starts after */
		hw->hw_host_off = hw->hw_pos + 1;
	} else if (!(hw->hw_flags & HW_VALUE_END)) {
		if (httphead_auth_end(hw, hw->hw_host_off,
		    &hw->hw_host_len) == -1)
			return WHY_HOST_BAD;
		hw->hw_flags |= HW_VALUE_END;
	}
	return httphead_value(hw, c);
}

/*
 * httphead_byte - walk the byte at hw_pos, RFC 9112 2.1, 3, 5:
 *
 *	HTTP-message   = start-line CRLF *( field-line CRLF ) CRLF
 *	request-line   = method SP request-target SP HTTP-version
 *	method         = token
 *	request-target = origin-form / absolute-form / authority-form /
 *			 asterisk-form
 *	HTTP-version   = "HTTP/" DIGIT "." DIGIT
 *	field-line     = field-name ":" OWS field-value OWS
 *
 * The first byte also says whether this is HTTP at all.  A state that
 * only decides where its byte goes hands it on to the next (the
 * target's and a field line's first byte).  Returns the refusal, or
 * WHY_NONE to go on; *done once the blank line is walked.
 */
static enum httphead_why
httphead_byte(struct httphead_walk *hw, uint8_t c, int *done)
{
	enum httphead_why why;

	switch (hw->hw_state) {
	case HS_METHOD:
		return httphead_method(hw, c);
	case HS_TARGET:
		if ((why = httphead_target(hw, c)) != WHY_NONE)
			return why;
		return httphead_byte(hw, c, done);
	case HS_ORIGIN:
		if (c == HTTPHEAD_SP)
			return httphead_target_end(hw);
		if (httphead_ctl(c))
			return httphead_line_why(c);
		httphead_acme(hw, c);
		return WHY_NONE;
	case HS_ASTERISK:
		if (hw->hw_pos == hw->hw_mark)
			return WHY_NONE;
		if (c == HTTPHEAD_SP)
			return httphead_target_end(hw);
		return httphead_ctl(c) ? httphead_line_why(c) : WHY_TARGET;
	case HS_SCHEME:
		return httphead_scheme(hw, c);
	case HS_AUTHORITY:
		return httphead_authority(hw, c);
	case HS_CONNECT:
		return httphead_connect(hw, c);
	case HS_VERSION:
		return httphead_version(hw, c);
	case HS_LINE_LF:
		if (c != HTTPHEAD_LF)
			return WHY_BARE_CR;
		if (hw->hw_version / 10 != 1)
			return WHY_VERSION;
		/*
		 * RFC 9112 3.2.4: "*" is for OPTIONS only; judged after the
		 * version, whose rules these are ("PRI * HTTP/2.0" is 505).
		 */
		if (hw->hw_form == HTTPHEAD_FORM_ASTERISK &&
		    !(hw->hw_flags & HW_OPTIONS))
			return WHY_FORM_METHOD;
		hw->hw_state = HS_LINE;
		return WHY_NONE;
	case HS_LINE:
		if ((why = httphead_line(hw, c)) != WHY_NONE ||
		    hw->hw_state != HS_NAME)
			return why;
		return httphead_name(hw, c);
	case HS_NAME:
		return httphead_name(hw, c);
	case HS_VALUE:
		return httphead_value(hw, c);
	case HS_HOST_VALUE:
		return httphead_host_value(hw, c);
	case HS_FIELD_LF:
		if (c != HTTPHEAD_LF)
			return WHY_BARE_CR;
		hw->hw_state = HS_LINE;
		return WHY_NONE;
	case HS_END_LF:
		if (c != HTTPHEAD_LF)
			return WHY_BARE_CR;
		/* RFC 9112 3.2: HTTP/1.1 (and 1.2..1.9 read as it) needs Host */
		if (hw->hw_version != 10 && !(hw->hw_flags & HW_HOST_SEEN))
			return WHY_NO_HOST;
		*done = 1;
		return WHY_NONE;
	}
	return WHY_REQUEST_LINE;
}

/*
 * httphead_need - the fewest bytes still to come before the head can
 * end: the shortest rest of the current line, then the blank line.
 * Clamped to the byte that would make the head too large.
 */
static size_t
httphead_need(const struct httphead_walk *hw)
{
	/* after the target: SP "HTTP/1.0" CRLF CRLF */
	size_t	 need, rest = 1 + HTTPHEAD_VERSION_LEN + 2 + 2;

	switch (hw->hw_state) {
	case HS_METHOD:
		/* a method byte if none yet, SP, one target byte */
		need = (hw->hw_pos == 0) + 1 + 1 + rest;
		break;
	case HS_TARGET:
		need = 1 + rest;
		break;
	case HS_VERSION:
		need = HTTPHEAD_VERSION_LEN - hw->hw_count + 2 + 2;
		break;
	case HS_LINE_LF:
	case HS_FIELD_LF:
		need = 1 + 2;
		break;
	case HS_LINE:
		need = 2;
		break;
	case HS_NAME:
		need = 1 + 2 + 2;	/* ":" CRLF CRLF */
		break;
	case HS_VALUE:
	case HS_HOST_VALUE:
		need = 2 + 2;
		break;
	case HS_END_LF:
		need = 1;
		break;
	default:	/* in the target, one byte of it walked at least */
		need = rest;
		break;
	}
	if (need > (size_t)HTTPHEAD_MAX + 1 - hw->hw_pos)
		need = (size_t)HTTPHEAD_MAX + 1 - hw->hw_pos;
	return need;
}

/*
 * httphead_walk_on - walk from where the walk got to the end of the len
 * bytes given, until the head ends or is refused.  A head still going
 * on at its byte HTTPHEAD_MAX + 1 is too large: 414 while in the request
 * line, 431 after.
 */
static enum httphead_why
httphead_walk_on(const uint8_t *wire, size_t len, struct httphead_walk *hw,
    int *done)
{
	enum httphead_why why;

	while (hw->hw_pos < len) {
		if (hw->hw_pos == HTTPHEAD_MAX)
			return hw->hw_state < HS_LINE ? WHY_LONG_LINE :
			    WHY_LONG_HEAD;
		why = httphead_byte(hw, wire[hw->hw_pos], done);
		hw->hw_pos++;
		if (why != WHY_NONE || *done)
			return why;
	}
	return WHY_NONE;
}

/* httphead_clear - the answer's fields before anything is found */
static void
httphead_clear(struct httphead *hh)
{
	memset(hh, 0, sizeof(*hh));
	hh->hh_name_len = -1;
}

/*
 * httphead_found - the fields of a whole head, from the walk's offsets
 * into wire (the same bytes it walked): the routing host, normalized.
 */
static void
httphead_found(const uint8_t *wire, const struct httphead_walk *hw,
    struct httphead *hh)
{
	hh->hh_method = wire;
	hh->hh_method_len = hw->hw_method_len;
	hh->hh_target = wire + hw->hw_method_len + 1;
	hh->hh_target_len = hw->hw_target_len;
	hh->hh_form = (enum httphead_form)hw->hw_form;
	hh->hh_version = hw->hw_version == 10 ? 10 : 11;
	hh->hh_acme = (hw->hw_flags & HW_ACME) != 0;
	hh->hh_head_len = hw->hw_pos;
	if (hw->hw_form == HTTPHEAD_FORM_ABSOLUTE) {
		hh->hh_from = HTTPHEAD_FROM_TARGET;
		hh->hh_host = wire + hw->hw_auth_off;
		hh->hh_host_len = hw->hw_auth_len;
	} else if (hw->hw_flags & HW_HOST_SEEN) {
		hh->hh_from = HTTPHEAD_FROM_HOST;
		hh->hh_host = wire + hw->hw_host_off;
		hh->hh_host_len = hw->hw_host_len;
	} else
		return;
	if (hh->hh_host_len > 0)
		hh->hh_name_len = hostname_normalize(hh->hh_host,
		    hh->hh_host_len, hh->hh_name);
}

/*
 * httphead_answer - the answer hw holds (given, or just found) into hh;
 * the answer
 */
static enum httphead_result
httphead_answer(const uint8_t *wire, const struct httphead_walk *hw,
    struct httphead *hh)
{
	const struct httphead_refusal *hr;
	enum httphead_result r = (enum httphead_result)(hw->hw_answer - 1);

	if (r == HTTPHEAD_DONE) {
		httphead_found(wire, hw, hh);
		return r;
	}
	if (hw->hw_reason != WHY_NONE) {
		hr = &httphead_refusals[hw->hw_reason];
		hh->hh_status = hr->hr_status;
		hh->hh_reason = hr->hr_reason;
	}
	return r;
}

/*
 * httphead_resume - go on walking the request head in the first len
 * bytes peeked, from where hw got with fewer of the same bytes.  An
 * answer given is given again without walking; a whole head's fields
 * are found again from the walk's offsets, in these bytes.
 */
enum httphead_result
httphead_resume(const uint8_t *wire, size_t len, struct httphead_walk *hw,
    struct httphead *hh)
{
	enum httphead_why why;
	size_t		 from = hw->hw_pos;
	int		 done = 0;

	httphead_clear(hh);
	if (hw->hw_answer != 0 && hw->hw_answer != 1 + HTTPHEAD_DONE)
		return httphead_answer(wire, hw, hh);
	/*
	 * Fewer bytes than the walk saw (a broken promise): ask for them,
	 * since a whole head's fields point into them.
	 */
	if (len < hw->hw_pos) {
		hh->hh_need = hw->hw_pos - len +
		    (hw->hw_answer != 0 ? 0 : httphead_need(hw));
		return HTTPHEAD_NEED_MORE;
	}
	if (hw->hw_answer != 0)
		return httphead_answer(wire, hw, hh);
	why = httphead_walk_on(wire, len, hw, &done);
	hh->hh_examined = hw->hw_pos - from;
	if (why != WHY_NONE) {
		hw->hw_reason = (uint8_t)why;
		hw->hw_answer = (uint8_t)(1 + httphead_refusals[why].hr_result);
	} else if (done)
		hw->hw_answer = 1 + HTTPHEAD_DONE;
	else if (len > 0 && hw->hw_pos == 0)
		hw->hw_answer = (uint8_t)(1 + (wire[0] == HTTPHEAD_TLS_HANDSHAKE ?
		    HTTPHEAD_TLS : HTTPHEAD_NOT_HTTP));
	else {
		hh->hh_need = httphead_need(hw);
		return HTTPHEAD_NEED_MORE;
	}
	return httphead_answer(wire, hw, hh);
}

/* httphead_parse - walk the request head in the first len bytes peeked */
enum httphead_result
httphead_parse(const uint8_t *wire, size_t len, struct httphead *hh)
{
	struct httphead_walk hw;

	memset(&hw, 0, sizeof(hw));
	return httphead_resume(wire, len, &hw, hh);
}

/* httphead_result_name - the result as a word for logs and counters */
const char *
httphead_result_name(enum httphead_result r)
{
	switch (r) {
	case HTTPHEAD_DONE:
		return "done";
	case HTTPHEAD_NEED_MORE:
		return "need-more";
	case HTTPHEAD_TLS:
		return "tls";
	case HTTPHEAD_NOT_HTTP:
		return "not-http";
	case HTTPHEAD_MALFORMED:
		return "malformed";
	case HTTPHEAD_TOO_LARGE:
		return "too-large";
	case HTTPHEAD_VERSION:
		return "version";
	}
	return "unknown";
}
