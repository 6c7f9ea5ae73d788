/*
 * clienthello.c - find the server name and ALPN list in a TLS ClientHello.
 *
 * Runs in the workers, unprivileged, over bytes a client sent and nobody
 * has checked yet: every read of the message goes through the
 * bounds-checked cursor below, and nothing here allocates, logs, keeps
 * state of its own or makes a system call.
 *
 * The parser is called again with a longer prefix each time more bytes
 * were peeked, so it must answer for any prefix.  An answer other than
 * HELLO_NEED_MORE depends only on the bytes it was decided from, so a
 * longer prefix never changes it: the caller may stop at the first one.
 * Two passes: a walk over the record and handshake headers, resumable
 * (struct hello_walk, the caller's) so that each call walks only the
 * bytes new since the last, then, once the message is whole, one parse
 * of its body.  Before that, a client dribbling its hello one byte per
 * segment costs a few instructions a segment, not a parse of all it sent
 * (it cost a worker 224 ms of CPU for a 26 KB hello in 2,048 records).
 *
 * The message usually fits one record and is parsed in place; a message
 * spanning records is copied into hl_msg once it is whole, never before,
 * so that peeking a slow client byte by byte costs no copies.
 */
#include <string.h>

#include "clienthello.h"

/* RFC 8446 section 5.1 ContentType, and RFC 6520 heartbeat */
#define HELLO_CT_CHANGE_CIPHER_SPEC	20
#define HELLO_CT_ALERT			21
#define HELLO_CT_HANDSHAKE		22
#define HELLO_CT_APPLICATION_DATA	23
#define HELLO_CT_HEARTBEAT		24

#define HELLO_RECORD_MAX	16384	/* RFC 8446 5.1: fragment <= 2^14 */
#define HELLO_MSG_HDR		4	/* msg_type, uint24 length */
#define HELLO_CLIENT_HELLO	1	/* RFC 8446 4: HandshakeType */
#define HELLO_RANDOM_LEN	32

#define HELLO_EXT_SERVER_NAME	0	/* RFC 6066 section 3 */
#define HELLO_EXT_ALPN		16	/* RFC 7301 section 3.1 */
#define HELLO_EXT_ECH		0xfe0d	/* encrypted_client_hello */

#define HELLO_NAME_HOST		0	/* RFC 6066 NameType host_name */

/* struct hello_walk keeps wire offsets in 16 bits */
_Static_assert(HELLO_WIRE_MAX <= UINT16_MAX, "HELLO_WIRE_MAX fits hw_pos");

/* A bounds-checked reader over one region of the wire or of hl_msg */
struct cursor {
	const uint8_t	*cr_pos;
	size_t		 cr_left;
};

static int	hello_server_name(struct cursor *, struct hello *);
static int	hello_alpn(struct cursor *, struct hello *);
static int	hello_ech(struct cursor *, struct hello *);

/*
 * The extensions read here.  Their index is also their bit in the set of
 * types seen, to refuse a repeated one.
 */
static const struct hello_ext {
	unsigned	 he_type;
	int		(*he_parse)(struct cursor *, struct hello *);
} hello_exts[] = {
	{ HELLO_EXT_SERVER_NAME, hello_server_name },
	{ HELLO_EXT_ALPN, hello_alpn },
	{ HELLO_EXT_ECH, hello_ech },
};

/* cursor_init - read the n bytes at p */
static void
cursor_init(struct cursor *cr, const uint8_t *p, size_t n)
{
	cr->cr_pos = p;
	cr->cr_left = n;
}

/* cursor_bytes - take n bytes (into *p unless NULL); -1 when fewer are left */
static int
cursor_bytes(struct cursor *cr, size_t n, const uint8_t **p)
{
	if (cr->cr_left < n)
		return -1;
	if (p != NULL)
		*p = cr->cr_pos;
	cr->cr_pos += n;
	cr->cr_left -= n;
	return 0;
}

/* cursor_uint - take a big-endian integer of width (1 to 3) bytes */
static int
cursor_uint(struct cursor *cr, size_t width, size_t *v)
{
	const uint8_t	*p;
	size_t		 i;

	if (cursor_bytes(cr, width, &p) == -1)
		return -1;
	*v = 0;
	for (i = 0; i < width; i++)
		*v = *v << 8 | p[i];
	return 0;
}

/* cursor_u8 - take one byte */
static int
cursor_u8(struct cursor *cr, size_t *v)
{
	return cursor_uint(cr, 1, v);
}

/* cursor_u16 - take a big-endian uint16 */
static int
cursor_u16(struct cursor *cr, size_t *v)
{
	return cursor_uint(cr, 2, v);
}

/*
 * cursor_vector - take a TLS vector, RFC 8446 section 3.4: a width-byte
 * length, then that many bytes, which must be min..max; sub reads them.
 */
static int
cursor_vector(struct cursor *cr, size_t width, size_t min, size_t max,
    struct cursor *sub)
{
	const uint8_t	*p;
	size_t		 n;

	if (cursor_uint(cr, width, &n) == -1 || n < min || n > max ||
	    cursor_bytes(cr, n, &p) == -1)
		return -1;
	cursor_init(sub, p, n);
	return 0;
}

/*
 * hello_server_name - find the host_name, RFC 6066 section 3:
 *
 *	struct {
 *		NameType name_type;		uint8, 0 = host_name
 *		select (name_type) {
 *		case host_name: HostName;	opaque HostName<1..2^16-1>
 *		} name;
 *	} ServerName;
 *
 *	struct {
 *		ServerName server_name_list<1..2^16-1>;	(fills the
 *							 extension)
 *	} ServerNameList;
 *
 * No other NameType is defined; one is skipped assuming the HostName
 * layout, as deployed parsers do.  "The ServerNameList MUST NOT contain
 * more than one name of the same name_type": a second host_name is an
 * error, not a choice, or the switch and the backend could pick different
 * names.  The name is returned as sent: hostname_normalize judges it.
 */
static int
hello_server_name(struct cursor *ext, struct hello *hl)
{
	struct cursor	 list, name;
	size_t		 type;

	if (cursor_vector(ext, 2, 1, 0xffff, &list) == -1 || ext->cr_left != 0)
		return -1;
	while (list.cr_left > 0) {
		if (cursor_u8(&list, &type) == -1 ||
		    cursor_vector(&list, 2, 1, 0xffff, &name) == -1)
			return -1;
		if (type != HELLO_NAME_HOST)
			continue;
		if (hl->hl_name != NULL)
			return -1;
		hl->hl_name = name.cr_pos;
		hl->hl_name_len = name.cr_left;
	}
	return 0;
}

/*
 * hello_alpn - find the protocol list, RFC 7301 section 3.1:
 *
 *	opaque ProtocolName<1..2^8-1>;
 *
 *	struct {
 *		ProtocolName protocol_name_list<2..2^16-1>;	(fills the
 *								 extension)
 *	} ProtocolNameList;
 *
 * hl_alpn gets the list body: the u8-prefixed names, checked to fill it.
 */
static int
hello_alpn(struct cursor *ext, struct hello *hl)
{
	struct cursor	 list, walk, name;

	if (cursor_vector(ext, 2, 2, 0xffff, &list) == -1 || ext->cr_left != 0)
		return -1;
	walk = list;
	while (walk.cr_left > 0)
		if (cursor_vector(&walk, 1, 1, 0xff, &name) == -1)
			return -1;
	hl->hl_alpn = list.cr_pos;
	hl->hl_alpn_len = list.cr_left;
	return 0;
}

/*
 * hello_ech - note encrypted_client_hello (draft-ietf-tls-esni, type
 * 0xfe0d).  Its content is for the backend: the switch routes on the
 * outer server_name and only reports that ECH was offered.
 */
static int
hello_ech(struct cursor *ext, struct hello *hl)
{
	(void)ext;
	hl->hl_ech = 1;
	return 0;
}

/*
 * hello_extensions - walk the extensions block, RFC 8446 section 4.2:
 *
 *	struct {
 *		ExtensionType extension_type;		uint16
 *		opaque extension_data<0..2^16-1>;
 *	} Extension;
 *
 * The entries must fill the block exactly.  "There MUST NOT be more than
 * one extension of the same type": a repeat of a type read here is
 * refused, since the switch and the backend could believe different
 * copies.  Other repeats are the backend's business.
 */
static int
hello_extensions(struct cursor *block, struct hello *hl)
{
	struct cursor	 data;
	size_t		 type, i;
	unsigned	 seen = 0;

	while (block->cr_left > 0) {
		if (cursor_u16(block, &type) == -1 ||
		    cursor_vector(block, 2, 0, 0xffff, &data) == -1)
			return -1;
		for (i = 0; i < sizeof(hello_exts) / sizeof(hello_exts[0]); i++)
			if (hello_exts[i].he_type == type)
				break;
		if (i == sizeof(hello_exts) / sizeof(hello_exts[0]))
			continue;
		if (seen & (1U << i))
			return -1;
		seen |= 1U << i;
		if (hello_exts[i].he_parse(&data, hl) == -1)
			return -1;
	}
	return 0;
}

/*
 * hello_body - parse a ClientHello body, RFC 8446 section 4.1.2:
 *
 *	ProtocolVersion legacy_version;			uint16, not checked
 *	Random random;					32 bytes
 *	opaque legacy_session_id<0..32>;
 *	CipherSuite cipher_suites<2..2^16-2>;		2 bytes each
 *	opaque legacy_compression_methods<1..2^8-1>;
 *	Extension extensions<8..2^16-1>;
 *
 * RFC 5246 section 7.4.1.2 lets a TLS 1.2 hello end after the compression
 * methods, and declares extensions<0..2^16-1>: the block is optional and
 * may be shorter than 8 bytes here, since the backend may speak TLS 1.2.
 * Nothing may follow the block.
 */
static enum hello_result
hello_body(const uint8_t *body, size_t len, struct hello *hl)
{
	struct cursor	 cr, vec;

	cursor_init(&cr, body, len);
	if (cursor_bytes(&cr, 2 + HELLO_RANDOM_LEN, NULL) == -1 ||
	    cursor_vector(&cr, 1, 0, 32, &vec) == -1 ||
	    cursor_vector(&cr, 2, 2, 0xfffe, &vec) == -1 ||
	    vec.cr_left % 2 != 0 ||
	    cursor_vector(&cr, 1, 1, 0xff, &vec) == -1)
		return HELLO_MALFORMED;
	if (cr.cr_left == 0)
		return HELLO_COMPLETE;
	if (cursor_vector(&cr, 2, 0, 0xffff, &vec) == -1 || cr.cr_left != 0 ||
	    hello_extensions(&vec, hl) == -1)
		return HELLO_MALFORMED;
	return HELLO_COMPLETE;
}

/*
 * hello_msg_left - message bytes still to come, at least: only the
 * header's 4 bytes are sure until the header is whole.
 */
static size_t
hello_msg_left(const struct hello_walk *hw)
{
	if (hw->hw_got < HELLO_MSG_HDR)
		return HELLO_MSG_HDR - hw->hw_got;
	return hw->hw_total - hw->hw_got;
}

/*
 * hello_need - once every byte given is walked, the bytes missing before
 * the message can be whole, at least: the message may end in the current
 * record, or needs another record header.
 */
static size_t
hello_need(const struct hello_walk *hw)
{
	size_t	 msg_left = hello_msg_left(hw);

	if (hw->hw_hdr < HELLO_RECORD_HDR) {
		/* A first record of another type: its version byte decides. */
		if (hw->hw_hdr > 0 && hw->hw_type != HELLO_CT_HANDSHAKE)
			return 1;
		return HELLO_RECORD_HDR - hw->hw_hdr + msg_left;
	}
	if (msg_left <= hw->hw_left)
		return msg_left;
	/* The rest of this record, then another record's header at least. */
	return msg_left + HELLO_RECORD_HDR;
}

/*
 * hello_record_byte - walk one byte of a record header, RFC 8446
 * section 5.1:
 *
 *	struct {
 *		ContentType type;			uint8, 22 = handshake
 *		ProtocolVersion legacy_record_version;	0x03, any minor
 *		uint16 length;				1..2^14
 *		opaque fragment[length];
 *	} TLSPlaintext;
 *
 * Each byte is judged as it comes, so an answer never waits for bytes
 * that cannot change it.  The first record also decides whether this is
 * TLS at all: type 20, 21, 23 or 24 with major version 3 is TLS we do
 * not want; anything else is not TLS, including a major version other
 * than 3 (an SSL 2.0 compatible hello starts with a length byte with its
 * high bit set, and 0x16 0x02 is nothing anybody sends).  Later records
 * belong to a hello that started well, so a bad header there is
 * malformed.  Zero-length handshake fragments "MUST NOT" be sent (RFC
 * 8446 5.1).  HELLO_NEED_MORE: good so far.
 */
static enum hello_result
hello_record_byte(struct hello_walk *hw, uint8_t b)
{
	int	 first = hw->hw_records == 0;

	switch (hw->hw_hdr++) {
	case 0:
		hw->hw_type = b;
		hw->hw_left = 0;
		if (b == HELLO_CT_HANDSHAKE)
			return HELLO_NEED_MORE;
		if (!first)
			return HELLO_MALFORMED;
		if (b == HELLO_CT_CHANGE_CIPHER_SPEC || b == HELLO_CT_ALERT ||
		    b == HELLO_CT_APPLICATION_DATA || b == HELLO_CT_HEARTBEAT)
			return HELLO_NEED_MORE;
		return HELLO_NOT_TLS;
	case 1:
		if (hw->hw_type != HELLO_CT_HANDSHAKE)
			return b == 3 ? HELLO_UNEXPECTED : HELLO_NOT_TLS;
		if (b != 3)
			return first ? HELLO_NOT_TLS : HELLO_MALFORMED;
		return HELLO_NEED_MORE;
	case 2:
		return HELLO_NEED_MORE;
	case 3:
		hw->hw_left = (uint16_t)(b << 8);
		return HELLO_NEED_MORE;
	default:
		hw->hw_left |= b;
		if (hw->hw_left == 0 || hw->hw_left > HELLO_RECORD_MAX)
			return HELLO_MALFORMED;
		hw->hw_records++;
		return HELLO_NEED_MORE;
	}
}

/*
 * hello_msg_byte - walk one byte of the handshake header, RFC 8446
 * section 4:
 *
 *	struct {
 *		HandshakeType msg_type;		uint8, 1 = client_hello
 *		uint24 length;			4 + length <= HELLO_MSG_MAX
 *		ClientHello body[length];
 *	} Handshake;
 *
 * The header itself may be split over records, so it is walked byte by
 * byte; the type is judged from its first byte, the length once whole.
 */
static enum hello_result
hello_msg_byte(struct hello_walk *hw, uint8_t b)
{
	if (hw->hw_got++ == 0)
		return b == HELLO_CLIENT_HELLO ? HELLO_NEED_MORE :
		    HELLO_UNEXPECTED;
	hw->hw_total = hw->hw_total << 8 | b;
	if (hw->hw_got < HELLO_MSG_HDR)
		return HELLO_NEED_MORE;
	hw->hw_total += HELLO_MSG_HDR;
	return hw->hw_total > HELLO_MSG_MAX ? HELLO_MALFORMED : HELLO_NEED_MORE;
}

/*
 * hello_walk_on - walk the records from where the walk got to the end
 * of the len bytes given, until the handshake message is whole.
 *
 * RFC 8446 5.1: handshake messages "MAY be fragmented across several
 * records"; only the message's own length says when it is complete, never
 * where a read or a record happened to end.  Record and handshake
 * headers are read a byte at a time, fragments skipped by their length:
 * each byte is walked once over all the calls, however it was cut.
 * Bytes after the message (the rest of its last record, later records)
 * are not looked at.
 */
static enum hello_result
hello_walk_on(const uint8_t *wire, size_t len, struct hello_walk *hw)
{
	enum hello_result r;
	size_t		 n;

	while (hw->hw_pos < len) {
		if (hw->hw_hdr < HELLO_RECORD_HDR) {
			r = hello_record_byte(hw, wire[hw->hw_pos++]);
			if (r != HELLO_NEED_MORE)
				return r;
			continue;
		}
		if (hw->hw_got < HELLO_MSG_HDR) {
			hw->hw_left--;
			r = hello_msg_byte(hw, wire[hw->hw_pos++]);
			if (r != HELLO_NEED_MORE)
				return r;
		} else {
			n = hw->hw_total - hw->hw_got;
			if (n > hw->hw_left)
				n = hw->hw_left;
			if (n > len - hw->hw_pos)
				n = len - hw->hw_pos;
			hw->hw_pos += (uint16_t)n;
			hw->hw_got += (uint16_t)n;
			hw->hw_left -= (uint16_t)n;
		}
		if (hw->hw_got >= HELLO_MSG_HDR && hw->hw_got == hw->hw_total)
			return HELLO_COMPLETE;
		if (hw->hw_left > 0)
			continue;
		/* The record ended before the message: another one, if any. */
		if (hw->hw_records == HELLO_RECORDS_MAX)
			return HELLO_MALFORMED;
		hw->hw_hdr = 0;
	}
	return HELLO_NEED_MORE;
}

/*
 * hello_reassemble - copy the message out of the records it spans; the
 * walk checked that they are all there.
 */
static void
hello_reassemble(const uint8_t *wire, const struct hello_walk *hw,
    uint8_t *msg)
{
	size_t	 off = 0, copied = 0, rlen, n;

	while (copied < hw->hw_total) {
		rlen = (size_t)wire[off + 3] << 8 | wire[off + 4];
		n = hw->hw_total - copied;
		if (n > rlen)
			n = rlen;
		memcpy(msg + copied, wire + off + HELLO_RECORD_HDR, n);
		copied += n;
		off += HELLO_RECORD_HDR + rlen;
	}
}

/* hello_clear - the answer's fields before anything is found */
static void
hello_clear(struct hello *hl)
{
	hl->hl_name = NULL;
	hl->hl_name_len = 0;
	hl->hl_alpn = NULL;
	hl->hl_alpn_len = 0;
	hl->hl_ech = 0;
	hl->hl_wire_len = 0;
	hl->hl_records = 0;
	hl->hl_need = 0;
	hl->hl_examined = 0;
}

/*
 * hello_resume - go on parsing the ClientHello in the first len bytes
 * peeked, from where hw got with fewer of the same bytes.  The message
 * body is parsed once, when the walk finds it whole.  A walk that has
 * answered gives the same answer again without looking; for
 * HELLO_COMPLETE it parses again from the first byte, since the answer's
 * fields point into this call's bytes.
 */
enum hello_result
hello_resume(const uint8_t *wire, size_t len, struct hello_walk *hw,
    struct hello *hl)
{
	enum hello_result r;
	const uint8_t	*msg;
	size_t		 from, examined;

	hello_clear(hl);
	if (hw->hw_answer == 1 + HELLO_COMPLETE)
		memset(hw, 0, sizeof(*hw));
	if (hw->hw_answer != 0)
		return (enum hello_result)(hw->hw_answer - 1);
	/* Fewer bytes than the walk saw (a broken promise): ask for them. */
	if (len < hw->hw_pos) {
		hl->hl_need = hw->hw_pos - len + hello_need(hw);
		return HELLO_NEED_MORE;
	}
	from = hw->hw_pos;
	r = hello_walk_on(wire, len, hw);
	examined = hw->hw_pos - from;
	if (r == HELLO_COMPLETE) {
		msg = wire + HELLO_RECORD_HDR;
		if (hw->hw_records > 1) {
			hello_reassemble(wire, hw, hl->hl_msg);
			msg = hl->hl_msg;
		}
		r = hello_body(msg + HELLO_MSG_HDR, hw->hw_total - HELLO_MSG_HDR,
		    hl);
		examined += hw->hw_total;
	}
	if (r == HELLO_NEED_MORE) {
		hl->hl_need = hello_need(hw);
		hl->hl_examined = examined;
		return r;
	}
	hw->hw_answer = (uint8_t)(1 + r);
	if (r != HELLO_COMPLETE) {
		/* a malformed hello may have set a name before it failed */
		hello_clear(hl);
		hl->hl_examined = examined;
		return r;
	}
	hl->hl_wire_len = hw->hw_pos;
	hl->hl_records = hw->hw_records;
	hl->hl_examined = examined;
	return HELLO_COMPLETE;
}

/* hello_parse - parse the ClientHello in the first len bytes peeked */
enum hello_result
hello_parse(const uint8_t *wire, size_t len, struct hello *hl)
{
	struct hello_walk hw;

	memset(&hw, 0, sizeof(hw));
	return hello_resume(wire, len, &hw, hl);
}

/* hello_result_name - the result as a word for logs and counters */
const char *
hello_result_name(enum hello_result r)
{
	switch (r) {
	case HELLO_COMPLETE:
		return "complete";
	case HELLO_NEED_MORE:
		return "need-more";
	case HELLO_NOT_TLS:
		return "not-tls";
	case HELLO_UNEXPECTED:
		return "unexpected";
	case HELLO_MALFORMED:
		return "malformed";
	}
	return "unknown";
}

/*
 * hello_foreign - whether a client whose first bytes are not a TLS
 * ClientHello speaks another protocol (SSH, HTTP, SMTP...) or is a TLS
 * client all the same, broken or ancient, that no other protocol's
 * server should get.
 *
 * A TLS client's first byte is a TLS record type (20..24, RFC 8446
 * section 5.1), whatever follows it.  An SSL 2.0 compatible ClientHello
 * (RFC 5246 appendix E.2; RFC 6101 appendix E) is a TLS client too:
 *
 *	uint8 msg_length[2];	high bit of the first byte set: a 2-byte
 *				record header, 15 bits of length
 *	uint8 msg_type;		1 = CLIENT-HELLO
 *	Version version;	0x0002 (SSL 2.0), or 0x03xx (SSL 3.0, TLS)
 *
 * Any other first byte is another protocol, and so is a byte with its
 * high bit set not followed by that layout.  Like hello_parse, an answer
 * other than HELLO_FOREIGN_MORE never changes with more bytes: one byte
 * decides unless its high bit is set, then at most five do.
 */
enum hello_foreign
hello_foreign(const uint8_t *wire, size_t len)
{
	if (len == 0)
		return HELLO_FOREIGN_MORE;
	if (wire[0] >= HELLO_CT_CHANGE_CIPHER_SPEC &&
	    wire[0] <= HELLO_CT_HEARTBEAT)
		return HELLO_FOREIGN_TLS;
	if (!(wire[0] & 0x80))
		return HELLO_FOREIGN_OTHER;
	if (len < 3)
		return HELLO_FOREIGN_MORE;
	if (wire[2] != HELLO_CLIENT_HELLO)
		return HELLO_FOREIGN_OTHER;
	if (len < 4)
		return HELLO_FOREIGN_MORE;
	if (wire[3] == 3)
		return HELLO_FOREIGN_TLS;
	if (wire[3] != 0)
		return HELLO_FOREIGN_OTHER;
	if (len < 5)
		return HELLO_FOREIGN_MORE;
	return wire[4] == 2 ? HELLO_FOREIGN_TLS : HELLO_FOREIGN_OTHER;
}
