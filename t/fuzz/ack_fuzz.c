/*
 * ack_fuzz.c - libFuzzer harness for ack_parse, the worker's parser of
 * what a backend says on a channel (handoff protocol version 2).
 *
 * The input is a stream of records, each a length byte then that many
 * bytes (a record as recv(2) returns it from a SOCK_SEQPACKET channel).
 * Built with AddressSanitizer and UndefinedBehaviorSanitizer, it traps
 * when a promise of ack.h is broken:
 *
 *   - the answer is ACK_BAD, ACK_HELLO or ACK_ACK, and am_type says
 *     the same; only a record of exactly ACK_MSG_LEN bytes is anything
 *     but ACK_BAD;
 *   - ACK_ACK counts 1 .. ACK_COUNT_MAX, ACK_HELLO and ACK_BAD count 0;
 *   - what ack_hello and ack_ack encode parses back to itself.
 *
 * Built and run by `make fuzz` and `make fuzz-check` (t/fuzz/run.sh);
 * the seed corpus is t/fuzz/corpus/ack/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ack.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* ack_fuzz_record - check one record's answer */
static void
ack_fuzz_record(const uint8_t *rec, size_t len)
{
	struct ack_msg	am;
	enum ack_type	t;
	uint8_t		again[ACK_MSG_LEN];

	t = ack_parse(rec, len, &am);
	if (t != am.am_type)
		abort();
	if (t != ACK_BAD && len != ACK_MSG_LEN)
		abort();
	switch (t) {
	case ACK_ACK:
		if (am.am_count < 1 || am.am_count > ACK_COUNT_MAX)
			abort();
		ack_ack(again, am.am_count);
		break;
	case ACK_HELLO:
		if (am.am_count != 0)
			abort();
		ack_hello(again);
		break;
	case ACK_BAD:
		if (am.am_count != 0)
			abort();
		return;
	default:
		abort();
	}
	/* The encoders write what the parser read. */
	if (memcmp(again, rec, ACK_MSG_LEN) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t	pos = 0, len;
	uint8_t	*rec;

	while (pos < size) {
		len = data[pos++];
		if (len > size - pos)
			len = size - pos;
		/* exactly its size: a read past it is an ASan report */
		if ((rec = malloc(len ? len : 1)) == NULL)
			return 0;
		memcpy(rec, data + pos, len);
		ack_fuzz_record(rec, len);
		free(rec);
		pos += len;
	}
	return 0;
}
