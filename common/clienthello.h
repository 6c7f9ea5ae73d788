/*
 * clienthello.h - find the server name and ALPN list in a TLS ClientHello.
 *
 * hello_parse is a pure function over the bytes peeked so far: no system
 * calls, no globals.  It is called again with more bytes until it answers
 * something other than HELLO_NEED_MORE; such an answer never changes with
 * more bytes, so the caller may act on the first one.  hello_resume is
 * the same parse in steps: the caller keeps a struct hello_walk per
 * connection and each call walks only the bytes that came since the
 * last, so a hello sent one byte at a time is still walked once.
 *
 * The first record decides whether this is TLS at all: 0x16 0x03 starts a
 * hello; 0x14, 0x15, 0x17 or 0x18 followed by 0x03 is HELLO_UNEXPECTED;
 * anything else (SSL 2.0 compatible hellos, HTTP, SSH, 0x16 with a major
 * version other than 3) is HELLO_NOT_TLS.  Once a hello has started, any
 * error in it is HELLO_MALFORMED, except a handshake message other than
 * client_hello, which is HELLO_UNEXPECTED.
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
 * The pointers point into the wire bytes given to hello_parse (the hello
 * in one record: no copy) or into hl_msg (when the message spans records);
 * valid while both live.  Every field but hl_msg is cleared on entry, and
 * only hl_need and hl_examined are set unless the answer is
 * HELLO_COMPLETE.  hl_name is the
 * host_name as sent, not checked: pass it to hostname_normalize.
 */
struct hello {
	const uint8_t	*hl_name;	/* host_name as sent; NULL when absent */
	size_t		 hl_name_len;
	const uint8_t	*hl_alpn;	/* ProtocolNameList body; NULL when absent */
	size_t		 hl_alpn_len;
	int		 hl_ech;	/* encrypted_client_hello present */
	size_t		 hl_wire_len;	/* wire offset just past the hello's
					   last byte (its last record may go on) */
	size_t		 hl_records;	/* records the hello spans */
	size_t		 hl_need;	/* HELLO_NEED_MORE: at least this many more
					   bytes before the hello can be complete;
					   an error may show sooner */
	size_t		 hl_examined;	/* bytes this call examined: those
					   walked, and the message's when it
					   was parsed whole (any answer) */
	uint8_t		 hl_msg[HELLO_MSG_MAX];	/* reassembly of a split message */
};

/*
 * How far a resumed parse got: the caller keeps one per connection,
 * zeroed before its first byte, and hands it back with the same bytes
 * and maybe more.  Small, since the worker keeps one in each of its
 * max_pending connection slots: every wire offset fits 16 bits.
 */
struct hello_walk {
	uint32_t	 hw_total;	/* message length, 4-byte header
					   included, once that header is
					   walked; 0: not yet */
	uint16_t	 hw_pos;	/* wire bytes walked */
	uint16_t	 hw_records;	/* record headers accepted */
	uint16_t	 hw_left;	/* the current record's fragment bytes
					   still to come; in a record header,
					   its length field so far */
	uint16_t	 hw_got;	/* message bytes walked, header included */
	uint8_t		 hw_hdr;	/* bytes of the current record header
					   walked, HELLO_RECORD_HDR when whole */
	uint8_t		 hw_type;	/* the current record's content type */
	uint8_t		 hw_answer;	/* 0, or 1 + the answer once given */
};

enum hello_result hello_parse(const uint8_t *wire, size_t len, struct hello *hl);
enum hello_result hello_resume(const uint8_t *wire, size_t len,
		    struct hello_walk *hw, struct hello *hl);
const char	*hello_result_name(enum hello_result);

/*
 * For a client hello_parse answered HELLO_NOT_TLS: does it speak another
 * protocol (to the `non_tls` backend), or is it a TLS client all the
 * same (closed as before)?  Pure, over the bytes peeked so far.
 */
enum hello_foreign {
	HELLO_FOREIGN_MORE,	/* cannot tell yet: at most 5 bytes decide */
	HELLO_FOREIGN_TLS,	/* a TLS record type, an SSL 2.0 hello */
	HELLO_FOREIGN_OTHER,	/* another protocol */
};

enum hello_foreign hello_foreign(const uint8_t *wire, size_t len);

#endif
