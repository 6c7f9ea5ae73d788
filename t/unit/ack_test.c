/*
 * ack_test.c - the messages of handoff protocol version 2 (ack.c), from
 * a table: each record, what ack_parse makes of it; and the encoders
 * against the bytes PROTOCOL gives.
 */
#include <string.h>

#include "ack.h"
#include "tap.h"

struct ack_row {
	const char	*label;
	const char	*bytes;
	size_t		 len;
	enum ack_type	 type;
	uint32_t	 count;
};

#define ROW(label, lit, type, count) \
	{ label, lit, sizeof(lit) - 1, type, count }

static const struct ack_row ack_rows[] = {
	ROW("HELLO", "SNCH\x01\x02\x00\x00", ACK_HELLO, 0),
	ROW("ACK 1", "SNCH\x02\x02\x00\x01", ACK_ACK, 1),
	ROW("ACK 258", "SNCH\x02\x02\x01\x02", ACK_ACK, 258),
	ROW("ACK 65535", "SNCH\x02\x02\xff\xff", ACK_ACK, 65535),
	ROW("ACK 0 is 65536", "SNCH\x02\x02\x00\x00", ACK_ACK, 65536),
	ROW("empty", "", ACK_BAD, 0),
	ROW("7 bytes", "SNCH\x01\x02\x00", ACK_BAD, 0),
	ROW("9 bytes", "SNCH\x01\x02\x00\x00\x00", ACK_BAD, 0),
	ROW("wrong magic", "SNCh\x01\x02\x00\x00", ACK_BAD, 0),
	ROW("version 1", "SNCH\x01\x01\x00\x00", ACK_BAD, 0),
	ROW("version 3", "SNCH\x02\x03\x00\x01", ACK_BAD, 0),
	ROW("type 0", "SNCH\x00\x02\x00\x00", ACK_BAD, 0),
	ROW("type 3", "SNCH\x03\x02\x00\x01", ACK_BAD, 0),
	ROW("HELLO with a count", "SNCH\x01\x02\x00\x01", ACK_BAD, 0),
	ROW("a handoff's PROXY signature", "\r\n\r\n\x00\r\nQ", ACK_BAD, 0),
};

/* test_rows - each record of the table */
static void
test_rows(void)
{
	struct ack_msg	am;
	size_t		i;

	for (i = 0; i < sizeof(ack_rows) / sizeof(ack_rows[0]); i++) {
		const struct ack_row *r = &ack_rows[i];

		TAP_OK(ack_parse((const uint8_t *)r->bytes, r->len, &am) ==
		    r->type && am.am_type == r->type && am.am_count == r->count,
		    "%s: type %d count %u", r->label, (int)am.am_type,
		    am.am_count);
	}
}

/* test_encode - the encoders write PROTOCOL's bytes */
static void
test_encode(void)
{
	uint8_t	msg[ACK_MSG_LEN];

	ack_hello(msg);
	TAP_OK(memcmp(msg, "SNCH\x01\x02\x00\x00", ACK_MSG_LEN) == 0,
	    "ack_hello");
	ack_ack(msg, 1);
	TAP_OK(memcmp(msg, "SNCH\x02\x02\x00\x01", ACK_MSG_LEN) == 0,
	    "ack_ack 1");
	ack_ack(msg, ACK_COUNT_MAX);
	TAP_OK(memcmp(msg, "SNCH\x02\x02\x00\x00", ACK_MSG_LEN) == 0,
	    "ack_ack 65536");
}

int
main(void)
{
	test_rows();
	test_encode();
	return TAP_DONE();
}
