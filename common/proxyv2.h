/*
 * proxyv2.h - the handoff message payload: a PROXY protocol v2 header.
 *
 * The worker encodes it, libsnitch decodes it.  Layout (PROXY protocol
 * spec, section 2.2), all integers big-endian:
 *
 *   12  signature  \r\n\r\n\0\r\nQUIT\n
 *    1  0x21       version 2, command PROXY
 *    1  0x11|0x21  TCP over IPv4 | TCP over IPv6
 *    2  length     of what follows
 *   12|36          src addr, dst addr, src port, dst port
 *   TLVs: type(1) length(2) value
 *     0x02 PP2_TYPE_AUTHORITY  server name as matched (absent: none sent)
 *     0xE0 SNITCH ALPN         ProtocolNameList body as in the hello
 *     0xE1 SNITCH ECH          1 byte: 1 = outer ClientHello offers ECH
 *     then, for a client that came through a proxy_protocol listener,
 *     TLVs of its upstream PROXY header, as they came (pi_tlvs): those
 *     that fit within PROXY_MAX, never 0x02, 0xE0 or 0xE1
 */
#ifndef PROXYV2_H
#define PROXYV2_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "clienthello.h"
#include "hostname.h"

#define PROXY_SIG		"\r\n\r\n\0\r\nQUIT\n"
#define PROXY_SIG_LEN		12
#define PROXY_HDR_LEN		16
#define PROXY_TLV_AUTHORITY	0x02
#define PROXY_TLV_ALPN		0xE0
#define PROXY_TLV_ECH		0xE1
#define PROXY_MAX	(PROXY_HDR_LEN + 36 + 3 + HOSTNAME_MAX + 3 + \
			    HELLO_MSG_MAX + 3 + 1)

struct proxy_info {
	struct sockaddr_storage	 pi_src;	/* the client */
	struct sockaddr_storage	 pi_dst;	/* the address it connected to */
	const char		*pi_authority;	/* NULL when absent */
	size_t			 pi_authority_len;
	const uint8_t		*pi_alpn;	/* NULL when absent */
	size_t			 pi_alpn_len;
	int			 pi_ech;
	/* More TLVs in wire form: encode appends those not SNItch's own;
	 * decode gives every TLV of the header. */
	const uint8_t		*pi_tlvs;
	size_t			 pi_tlvs_len;
};

ssize_t	proxy_encode(const struct proxy_info *, uint8_t *buf, size_t size);
int	proxy_decode(const uint8_t *buf, size_t len, struct proxy_info *);
int	proxy_tlv_next(const uint8_t *tlvs, size_t len, size_t *off,
	    uint8_t *type, const uint8_t **value, size_t *value_len);
void	proxy_tlv_copy(uint8_t *buf, size_t size, size_t *off,
	    const uint8_t *tlvs, size_t len);

#endif
