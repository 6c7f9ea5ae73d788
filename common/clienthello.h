/*
 * clienthello.h - find the server name and ALPN list in a TLS ClientHello.
 *
 * hello_parse is a pure function over the bytes peeked so far: no system
 * calls, no globals.  It is called again with more bytes until it answers
 * something other than HELLO_NEED_MORE.
 */
#ifndef CLIENTHELLO_H
#define CLIENTHELLO_H

#include <stddef.h>
#include <stdint.h>

#define HELLO_MSG_MAX		16384	/* handshake message, 4-byte header included */
#define HELLO_RECORDS_MAX	2048	/* TLS records the message may span */
#define HELLO_RECORD_HDR	5
#define HELLO_WIRE_MAX		(HELLO_MSG_MAX + HELLO_RECORD_HDR * HELLO_RECORDS_MAX)

enum hello_result {
	HELLO_COMPLETE,		/* a whole ClientHello was parsed */
	HELLO_NEED_MORE,	/* valid so far; hl_need more bytes at least */
	HELLO_NOT_TLS,		/* the first bytes are not a TLS record */
	HELLO_UNEXPECTED,	/* TLS, but not a handshake carrying a ClientHello */
	HELLO_MALFORMED,	/* a ClientHello breaking its encoding or our bounds */
};

/*
 * The pointers point into the wire bytes given to hello_parse or into
 * hl_msg (when the message spans records); valid while both live.
 */
struct hello {
	const uint8_t	*hl_name;	/* host_name as sent; NULL when absent */
	size_t		 hl_name_len;
	const uint8_t	*hl_alpn;	/* ProtocolNameList body; NULL when absent */
	size_t		 hl_alpn_len;
	int		 hl_ech;	/* encrypted_client_hello present */
	size_t		 hl_wire_len;	/* record bytes up to the hello's end */
	size_t		 hl_records;	/* records the hello spans */
	size_t		 hl_need;	/* HELLO_NEED_MORE: bytes still missing, at least */
	uint8_t		 hl_msg[HELLO_MSG_MAX];	/* reassembly of a split message */
};

enum hello_result hello_parse(const uint8_t *wire, size_t len, struct hello *hl);
const char	*hello_result_name(enum hello_result);

#endif
