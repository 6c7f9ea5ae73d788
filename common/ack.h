/*
 * ack.h - what a backend says on a channel, handoff protocol version 2:
 * HELLO (it speaks version 2) and ACK (it received handoffs).  PROTOCOL
 * describes the messages; ack.c encodes and parses them.
 */
#ifndef ACK_H
#define ACK_H

#include <stddef.h>
#include <stdint.h>

#define ACK_MSG_LEN	8	/* every message, exactly */
#define ACK_VERSION	2
#define ACK_COUNT_MAX	65536	/* handoffs one ACK may acknowledge */

enum ack_type {
	ACK_BAD,	/* not a message of version 2: the channel is closed */
	ACK_HELLO,	/* the backend speaks version 2 */
	ACK_ACK,	/* it received ac_count more handoffs */
};

struct ack_msg {
	enum ack_type	am_type;
	uint32_t	am_count;	/* ACK_ACK: 1 .. ACK_COUNT_MAX */
};

/* Not part of libsnitch's ABI, though libsnitch links them. */
#define ACK_API	__attribute__((visibility("hidden")))

ACK_API void	ack_hello(uint8_t out[ACK_MSG_LEN]);
ACK_API void	ack_ack(uint8_t out[ACK_MSG_LEN], uint32_t count);
ACK_API enum ack_type ack_parse(const uint8_t *msg, size_t len, struct ack_msg *);

#endif
