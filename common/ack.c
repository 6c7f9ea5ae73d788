/*
 * ack.c - the backend's messages on a channel (handoff protocol version
 * 2, PROTOCOL "Version 2"): encoded by libsnitch, parsed by the worker.
 *
 * Pure: no allocation, no system call.  The worker parses bytes a
 * backend sent, so anything but an exact message is ACK_BAD, and the
 * worker closes that channel.  Each message is one SOCK_SEQPACKET
 * record of ACK_MSG_LEN bytes:
 *
 *	offset  size  value
 *	0       4     'S' 'N' 'C' 'H'             (magic)
 *	4       1     type: 1 HELLO, 2 ACK
 *	5       1     version: 2
 *	6       2     count, big-endian: 0 for HELLO; for ACK 1..65535,
 *	              or 0 meaning 65536: how many more handoffs, in the
 *	              order they were sent, the backend has received
 */
#include <string.h>

#include "ack.h"

static const uint8_t ack_magic[4] = { 'S', 'N', 'C', 'H' };

#define ACK_TYPE_HELLO	1
#define ACK_TYPE_ACK	2

/* ack_put - a message of type with count at out */
static void
ack_put(uint8_t out[ACK_MSG_LEN], uint8_t type, uint16_t count)
{
	memcpy(out, ack_magic, sizeof(ack_magic));
	out[4] = type;
	out[5] = ACK_VERSION;
	out[6] = (uint8_t)(count >> 8);
	out[7] = (uint8_t)count;
}

/* ack_hello - the HELLO a backend sends first on a channel it accepted */
void
ack_hello(uint8_t out[ACK_MSG_LEN])
{
	ack_put(out, ACK_TYPE_HELLO, 0);
}

/* ack_ack - an ACK of count (1 .. ACK_COUNT_MAX) handoffs received */
void
ack_ack(uint8_t out[ACK_MSG_LEN], uint32_t count)
{
	ack_put(out, ACK_TYPE_ACK, (uint16_t)(count & 0xffff));
}

/* ack_parse - what msg (len bytes, one record) says; ACK_BAD if nothing */
enum ack_type
ack_parse(const uint8_t *msg, size_t len, struct ack_msg *am)
{
	uint32_t	count;

	am->am_type = ACK_BAD;
	am->am_count = 0;
	if (len != ACK_MSG_LEN || memcmp(msg, ack_magic, 4) != 0 ||
	    msg[5] != ACK_VERSION)
		return ACK_BAD;
	count = (uint32_t)msg[6] << 8 | msg[7];
	switch (msg[4]) {
	case ACK_TYPE_HELLO:
		if (count != 0)
			return ACK_BAD;
		am->am_type = ACK_HELLO;
		break;
	case ACK_TYPE_ACK:
		am->am_type = ACK_ACK;
		am->am_count = count == 0 ? ACK_COUNT_MAX : count;
		break;
	default:
		return ACK_BAD;
	}
	return am->am_type;
}
