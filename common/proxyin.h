/*
 * proxyin.h - read the PROXY protocol header (version 1 or 2) that an
 * upstream proxy or load balancer puts before a client's first byte.
 *
 * proxyin_resume is a pure function over the bytes peeked so far from the
 * start of a connection: no system calls, no globals, no allocation.  The
 * caller keeps a struct proxyin_walk per connection, zeroed before its
 * first byte, and calls again, with the same bytes and more, each time
 * more were peeked; each call walks only the bytes new since the last, so
 * a header sent one byte per segment is still walked once.  An answer
 * other than PROXYIN_NEED_MORE never changes with more bytes, so the
 * caller acts on the first one:
 *
 *   PROXYIN_NEED_MORE  valid so far; px_need more bytes at least before
 *                      the header can be whole (never more than the
 *                      shortest header these bytes can begin, so it is
 *                      safe for SO_RCVLOWAT: len + px_need);
 *   PROXYIN_INVALID    these bytes cannot begin a header; px_reason says
 *                      which rule broke, a short constant string for the
 *                      log (no client byte in it);
 *   PROXYIN_DONE       a whole header: the caller recv()s exactly px_len
 *                      bytes, never one more (what follows is the
 *                      client's TLS hello, peeked and parsed afresh).
 *
 * The first byte decides the version: 'P' begins "PROXY " (v1), '\r' the
 * v2 signature; anything else (a TLS record, an HTTP request) is invalid
 * on that byte, and so is any later byte a header cannot have.  Nothing
 * after the header is ever looked at.
 *
 * What is accepted (PROXY protocol spec, haproxy doc/proxy-protocol.txt):
 *
 *   v1 (2.1): "PROXY", one space, TCP4 | TCP6 | UNKNOWN, then for TCP4
 *   and TCP6: single spaces between source address, destination
 *   address, source port, destination port, then CRLF; at most
 *   PROXYIN_V1_MAX bytes in all.  TCP4 addresses are dotted quads
 *   without leading zeros; TCP6 addresses are what inet_pton(AF_INET6)
 *   reads (hex groups in either case, one "::") except a dotted-quad
 *   tail, which is accepted only as ::ffff:a.b.c.d, the v4-mapped form
 *   HAProxy writes for a connection of mixed families.  Ports are
 *   0..65535 in decimal, "0" or no leading zero, no sign.  After
 *   UNKNOWN: CRLF, or one space, printable ASCII (ignored, as the spec
 *   says) and CRLF.  A lone CR or LF is invalid.
 *
 *   v2 (2.2): the 12-byte signature; version 2; command LOCAL (0) or
 *   PROXY (1); family and transport 0x00 (UNSPEC), 0x11 (TCP over IPv4),
 *   0x21 (TCP over IPv6) or 0x31 (UNIX stream) -- datagrams are refused,
 *   SNItch serves streams; a length covering the family's address block
 *   (0, 12, 36, 216 bytes) and at most PROXYIN_V2_MAX - 16, the smallest
 *   TCP segment a host must accept (576 - 40 bytes, spec section 2: a
 *   sender keeps its header within it); after the addresses, TLVs that
 *   exactly fill the rest, each within it.  Each TLV type SNItch knows
 *   appears at most once (but NOOP) and must be well formed:
 *     0x01 ALPN         1 byte or more, kept as given
 *     0x02 AUTHORITY    1..HOSTNAME_MAX bytes without NUL (as
 *                       proxy_decode accepts it), kept as given
 *     0x03 CRC32C       exactly 4 bytes, verified (spec 2.2.3: the
 *                       header's CRC32c with this field zeroed); a
 *                       mismatch is invalid.  Not kept.
 *     0x04 NOOP         anything, any number of times; not kept
 *     0x05 UNIQUE_ID    at most 128 bytes (spec 2.2.5), kept
 *     0x20 SSL          at least its 5-byte client/verify head; its
 *                       sub-TLVs are not read.  Not kept: SNItch routes
 *                       a TLS connection the upstream did not end.
 *     0x30 NETNS        1 byte or more of printable ASCII, kept
 *     0xEA AWS          a subtype byte; subtype 0x01 (VPC endpoint id)
 *                       then 1 byte or more of printable ASCII; kept
 *     0xEE AZURE        a subtype byte; subtype 0x01 (private endpoint
 *                       link id) then exactly 4 bytes; kept
 *   Other types are skipped, as spec 2.2 lets a receiver do; that
 *   includes SNItch's own 0xE0 and 0xE1, which an upstream must not be
 *   able to forge into a handoff.
 *
 * The result (struct proxyin) is meant for one worker, not one per
 * connection: it is written only when the answer is PROXYIN_DONE and
 * holds copies, not pointers into the bytes, so that the caller may
 * recv() the header away and still hand its contents on.
 *
 * Commands: px_command is PROXYIN_PROXY when the header carries the
 * client's addresses (v1 TCP4/TCP6, v2 PROXY over 0x11, 0x21, 0x31), and
 * PROXYIN_LOCAL when it carries none: v2 LOCAL (whatever its family:
 * spec 2.2 says to ignore it), v2 PROXY over UNSPEC and v1 UNKNOWN, all
 * of which the spec says to serve with the connection's own endpoints.
 * px_family is then AF_UNSPEC and px_src, px_dst are zeroed.  AF_UNIX
 * addresses come as struct sockaddr_un, the 108 path bytes as sent.
 *
 * Kept TLVs: px_tlvs holds those of the table above that are kept, in
 * the order received, in wire form (type, 2-byte length, value), ready
 * to append to the TLVs of the handoff's PROXY v2 header (proxyv2.h);
 * proxyin_tlv finds one by type.  Only a PROXY command keeps TLVs.
 * Their total is at most PROXYIN_KEPT_MAX, what the largest accepted
 * header can carry besides the smallest address block.  The handoff
 * payload (PROXY_MAX in proxyv2.h, which sizes the worker's buffer and
 * libsnitch's) has no room for them today: forwarding them means
 * raising PROXY_MAX by PROXYIN_KEPT_MAX, which still fits the v2
 * length field (checked in proxyin.c).  An upstream AUTHORITY must not
 * be forwarded beside SNItch's own 0x02 (proxy_decode refuses two).
 */
#ifndef PROXYIN_H
#define PROXYIN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "proxyv2.h"

#define PROXYIN_V1_MAX		107	/* spec 2.1: the worst UNKNOWN line */
#define PROXYIN_V2_MAX		536	/* 576 - 40: header and TLVs */
#define PROXYIN_MIN		15	/* "PROXY UNKNOWN\r\n", the shortest */
#define PROXYIN_KEPT_MAX	(PROXYIN_V2_MAX - PROXY_HDR_LEN - 12)

/* PP2_TYPE_* of the spec (section 2.2) and of two cloud load balancers */
#define PROXYIN_TLV_ALPN	0x01
#define PROXYIN_TLV_AUTHORITY	PROXY_TLV_AUTHORITY
#define PROXYIN_TLV_CRC32C	0x03
#define PROXYIN_TLV_NOOP	0x04
#define PROXYIN_TLV_UNIQUE_ID	0x05
#define PROXYIN_TLV_SSL		0x20
#define PROXYIN_TLV_NETNS	0x30
#define PROXYIN_TLV_AWS		0xEA	/* AWS NLB / PrivateLink */
#define PROXYIN_TLV_AZURE	0xEE	/* Azure Private Link */
#define PROXYIN_UNIQUE_ID_MAX	128

enum proxyin_result {
	PROXYIN_DONE,		/* a whole, valid header of px_len bytes */
	PROXYIN_NEED_MORE,	/* valid so far; px_need more bytes at least */
	PROXYIN_INVALID,	/* not a header; px_reason says why */
};

enum proxyin_command {
	PROXYIN_LOCAL,		/* no address: use the connection's own */
	PROXYIN_PROXY,		/* px_src and px_dst are the client's */
};

/*
 * The answer.  Every field is set on every call; only px_need,
 * px_reason and px_examined unless the answer is PROXYIN_DONE.
 */
struct proxyin {
	size_t			 px_len;	/* DONE: header bytes to consume */
	size_t			 px_need;	/* NEED_MORE: at least this many
						   more bytes */
	const char		*px_reason;	/* INVALID: the rule broken */
	size_t			 px_examined;	/* bytes this call walked, plus
						   the header's once at DONE */
	int			 px_version;	/* 1 or 2 */
	enum proxyin_command	 px_command;
	int			 px_family;	/* AF_UNSPEC, AF_INET, AF_INET6,
						   AF_UNIX */
	int			 px_socktype;	/* SOCK_STREAM; 0 with AF_UNSPEC */
	struct sockaddr_storage	 px_src;	/* the client */
	struct sockaddr_storage	 px_dst;	/* the address it connected to */
	size_t			 px_tlvs_len;
	uint8_t			 px_tlvs[PROXYIN_KEPT_MAX];	/* kept TLVs */
};

/*
 * How far a walk got: one per connection, zeroed before its first byte,
 * handed back with the same bytes and maybe more.  Small, since the
 * worker keeps one in each connection slot; offsets fit 16 bits.
 */
struct proxyin_walk {
	uint16_t	 pw_pos;	/* bytes walked */
	uint16_t	 pw_total;	/* v2: header length, once known */
	uint16_t	 pw_left;	/* v2: bytes left of the address block
					   or a TLV's value; v1: a port */
	uint16_t	 pw_port;	/* v1: the source port */
	uint8_t		 pw_mark[4];	/* v1: offset and length of the
					   source and destination addresses */
	uint8_t		 pw_version;	/* 0 until the first byte, 1, 2 */
	uint8_t		 pw_step;	/* the field or part being walked */
	uint8_t		 pw_count;	/* its bytes walked so far */
	uint8_t		 pw_proto;	/* v1: protocols still possible (a
					   bit each); v2: the family byte */
	uint8_t		 pw_command;	/* v2: the command */
	uint8_t		 pw_answer;	/* 0, or 1 + the answer once given */
	uint8_t		 pw_reason;	/* the rule broken, once invalid */
};

enum proxyin_result proxyin_resume(const uint8_t *peek, size_t len,
		    struct proxyin_walk *, struct proxyin *);
enum proxyin_result proxyin_parse(const uint8_t *peek, size_t len,
		    struct proxyin *);
const uint8_t	*proxyin_tlv(const struct proxyin *, uint8_t type,
		    size_t *len);
const char	*proxyin_result_name(enum proxyin_result);

#endif
