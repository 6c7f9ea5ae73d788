/*
 * proxyv2.c - encode and decode the handoff payload, a PROXY protocol v2
 * header (layout in proxyv2.h).
 *
 * proxy_encode runs in the worker, unprivileged, once per handoff.
 * proxy_decode runs in every backend (through libsnitch) and is the only
 * check between a message on the backend's socket and the backend's
 * trust in the addresses and name it reports: it is strict, and whatever
 * it accepts proxy_encode could have produced, so the two must change
 * together.  Pure functions: no system calls, no globals.
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "proxyv2.h"

#define PROXY_VER_CMD		0x21	/* version 2 << 4 | PROXY */
#define PROXY_FAM_TCP4		0x11	/* AF_INET << 4 | STREAM */
#define PROXY_FAM_TCP6		0x21	/* AF_INET6 << 4 | STREAM */
#define PROXY_ADDR4_LEN		12	/* 4 + 4 + 2 + 2 */
#define PROXY_ADDR6_LEN		36	/* 16 + 16 + 2 + 2 */
#define PROXY_TLV_HDR		3	/* type, 2-byte length */
#define PROXY_LEN_MAX		0xffff	/* the 2-byte length field */

/* proxy_put_tlv - append one TLV at *off; -1 and ENOSPC if it does not fit */
static int
proxy_put_tlv(uint8_t *buf, size_t size, size_t *off, uint8_t type,
    const void *value, size_t len)
{
	if (size - *off < PROXY_TLV_HDR || size - *off - PROXY_TLV_HDR < len) {
		errno = ENOSPC;
		return -1;
	}
	buf[*off] = type;
	buf[*off + 1] = len >> 8;
	buf[*off + 2] = len & 0xff;
	memcpy(buf + *off + PROXY_TLV_HDR, value, len);
	*off += PROXY_TLV_HDR + len;
	return 0;
}

/*
 * proxy_tlv_next - the TLV at *off of tlvs[0..len), in wire form: 1
 * with its type and value, *off past it; 0 at the end; -1 when what is
 * left is no whole TLV.  The one walk over TLVs, for both directions.
 */
int
proxy_tlv_next(const uint8_t *tlvs, size_t len, size_t *off, uint8_t *type,
    const uint8_t **value, size_t *value_len)
{
	size_t	vlen;

	if (*off >= len)
		return 0;
	if (len - *off < PROXY_TLV_HDR)
		return -1;
	vlen = (size_t)tlvs[*off + 1] << 8 | tlvs[*off + 2];
	if (len - *off - PROXY_TLV_HDR < vlen)
		return -1;
	*type = tlvs[*off];
	*value = tlvs + *off + PROXY_TLV_HDR;
	*value_len = vlen;
	*off += PROXY_TLV_HDR + vlen;
	return 1;
}

/*
 * proxy_tlv_copy - append to buf at *off, in their order, each TLV of
 * tlvs (wire form) that is not one SNItch sends itself (proxy_decode
 * accepts each of those once) and fits whole; one that does not fit is
 * left out and the next ones are still tried.  Stops at a malformed
 * tail.
 */
void
proxy_tlv_copy(uint8_t *buf, size_t size, size_t *off, const uint8_t *tlvs,
    size_t len)
{
	const uint8_t	*value;
	size_t		 pos = 0, vlen;
	uint8_t		 type;

	if (*off >= size)
		return;
	while (proxy_tlv_next(tlvs, len, &pos, &type, &value, &vlen) == 1)
		if (type != PROXY_TLV_AUTHORITY && type != PROXY_TLV_ALPN &&
		    type != PROXY_TLV_ECH)
			(void)proxy_put_tlv(buf, size, off, type, value, vlen);
}

/*
 * proxy_encode - write the header for pi into buf; the length, or -1 with
 * errno EAFNOSUPPORT (src not AF_INET/AF_INET6, or dst of another family),
 * EINVAL (an authority that is not 1..HOSTNAME_MAX bytes without NUL, an
 * empty or oversized ALPN: what proxy_decode would reject), ENOSPC (buf
 * too small).
 */
ssize_t
proxy_encode(const struct proxy_info *pi, uint8_t *buf, size_t size)
{
	const struct sockaddr_in	*src4, *dst4;
	const struct sockaddr_in6	*src6, *dst6;
	uint8_t				 ech = 1;
	size_t				 off, addr_len, body;

	if (pi->pi_src.ss_family != pi->pi_dst.ss_family) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	switch (pi->pi_src.ss_family) {
	case AF_INET:
		addr_len = PROXY_ADDR4_LEN;
		break;
	case AF_INET6:
		addr_len = PROXY_ADDR6_LEN;
		break;
	default:
		errno = EAFNOSUPPORT;
		return -1;
	}
	if (pi->pi_authority != NULL && (pi->pi_authority_len == 0 ||
	    pi->pi_authority_len > HOSTNAME_MAX ||
	    memchr(pi->pi_authority, '\0', pi->pi_authority_len) != NULL)) {
		errno = EINVAL;
		return -1;
	}
	if (pi->pi_alpn != NULL && (pi->pi_alpn_len == 0 ||
	    pi->pi_alpn_len > PROXY_LEN_MAX)) {
		errno = EINVAL;
		return -1;
	}
	if (size < PROXY_HDR_LEN + addr_len) {
		errno = ENOSPC;
		return -1;
	}

	memcpy(buf, PROXY_SIG, PROXY_SIG_LEN);
	buf[12] = PROXY_VER_CMD;
	off = PROXY_HDR_LEN;
	/* sin_port and the addresses are in network order already. */
	if (pi->pi_src.ss_family == AF_INET) {
		src4 = (const struct sockaddr_in *)&pi->pi_src;
		dst4 = (const struct sockaddr_in *)&pi->pi_dst;
		buf[13] = PROXY_FAM_TCP4;
		memcpy(buf + off, &src4->sin_addr, 4);
		memcpy(buf + off + 4, &dst4->sin_addr, 4);
		memcpy(buf + off + 8, &src4->sin_port, 2);
		memcpy(buf + off + 10, &dst4->sin_port, 2);
	} else {
		src6 = (const struct sockaddr_in6 *)&pi->pi_src;
		dst6 = (const struct sockaddr_in6 *)&pi->pi_dst;
		buf[13] = PROXY_FAM_TCP6;
		memcpy(buf + off, &src6->sin6_addr, 16);
		memcpy(buf + off + 16, &dst6->sin6_addr, 16);
		memcpy(buf + off + 32, &src6->sin6_port, 2);
		memcpy(buf + off + 34, &dst6->sin6_port, 2);
	}
	off += addr_len;

	if (pi->pi_authority != NULL && proxy_put_tlv(buf, size, &off,
	    PROXY_TLV_AUTHORITY, pi->pi_authority, pi->pi_authority_len) < 0)
		return -1;
	if (pi->pi_alpn != NULL && proxy_put_tlv(buf, size, &off,
	    PROXY_TLV_ALPN, pi->pi_alpn, pi->pi_alpn_len) < 0)
		return -1;
	if (pi->pi_ech && proxy_put_tlv(buf, size, &off,
	    PROXY_TLV_ECH, &ech, 1) < 0)
		return -1;
	if (pi->pi_tlvs != NULL)
		proxy_tlv_copy(buf, size > PROXY_MAX ? PROXY_MAX : size, &off,
		    pi->pi_tlvs, pi->pi_tlvs_len);

	body = off - PROXY_HDR_LEN;
	if (body > PROXY_LEN_MAX) {
		/* An ALPN near 64 KiB, in a buffer that large. */
		errno = EINVAL;
		return -1;
	}
	buf[14] = body >> 8;
	buf[15] = body & 0xff;
	return off;
}

/*
 * proxy_decode - parse exactly one header filling buf[0..len); 0, or -1
 * with errno EBADMSG.
 *
 * Layout in proxyv2.h (PROXY protocol spec 2.2).  Accepted:
 *   signature; 0x21 (v2, PROXY; LOCAL is refused: SNItch never sends it);
 *   0x11 with 12 address bytes or 0x21 with 36 (TCP only);
 *   length == len - 16, so nothing follows the header in the message;
 *   TLVs that exactly fill the rest, each within the buffer:
 *     0x02 authority, 1..253 bytes, no NUL;
 *     0xE0 ALPN, at least 1 byte;
 *     0xE1 ECH, exactly 1 byte, 0 or 1;
 *     each of these at most once; any other type skipped (spec 2.2.7
 *     lets a receiver ignore TLVs it does not know).
 * pi's pointers point into buf; pi_tlvs is every TLV, SNItch's own among
 * them (proxy_tlv_copy and proxy_encode leave those out).
 */
int
proxy_decode(const uint8_t *buf, size_t len, struct proxy_info *pi)
{
	struct sockaddr_in	*src4, *dst4;
	struct sockaddr_in6	*src6, *dst6;
	const uint8_t		*value;
	size_t			 off, addr_len, tlv_len, tlvs_off;
	int			 seen_authority = 0, seen_alpn = 0;
	int			 seen_ech = 0, r;
	uint8_t			 type;

	memset(pi, 0, sizeof(*pi));
	if (len < PROXY_HDR_LEN || memcmp(buf, PROXY_SIG, PROXY_SIG_LEN) != 0 ||
	    buf[12] != PROXY_VER_CMD)
		goto bad;
	switch (buf[13]) {
	case PROXY_FAM_TCP4:
		addr_len = PROXY_ADDR4_LEN;
		break;
	case PROXY_FAM_TCP6:
		addr_len = PROXY_ADDR6_LEN;
		break;
	default:
		goto bad;
	}
	if ((size_t)(buf[14] << 8 | buf[15]) != len - PROXY_HDR_LEN ||
	    len - PROXY_HDR_LEN < addr_len)
		goto bad;

	off = PROXY_HDR_LEN;
	if (buf[13] == PROXY_FAM_TCP4) {
		src4 = (struct sockaddr_in *)&pi->pi_src;
		dst4 = (struct sockaddr_in *)&pi->pi_dst;
		src4->sin_family = dst4->sin_family = AF_INET;
		memcpy(&src4->sin_addr, buf + off, 4);
		memcpy(&dst4->sin_addr, buf + off + 4, 4);
		memcpy(&src4->sin_port, buf + off + 8, 2);
		memcpy(&dst4->sin_port, buf + off + 10, 2);
	} else {
		src6 = (struct sockaddr_in6 *)&pi->pi_src;
		dst6 = (struct sockaddr_in6 *)&pi->pi_dst;
		src6->sin6_family = dst6->sin6_family = AF_INET6;
		memcpy(&src6->sin6_addr, buf + off, 16);
		memcpy(&dst6->sin6_addr, buf + off + 16, 16);
		memcpy(&src6->sin6_port, buf + off + 32, 2);
		memcpy(&dst6->sin6_port, buf + off + 34, 2);
	}
	off += addr_len;

	pi->pi_tlvs = buf + off;
	pi->pi_tlvs_len = len - off;
	tlvs_off = 0;
	while ((r = proxy_tlv_next(pi->pi_tlvs, pi->pi_tlvs_len, &tlvs_off,
	    &type, &value, &tlv_len)) == 1) {
		switch (type) {
		case PROXY_TLV_AUTHORITY:
			if (seen_authority++ || tlv_len == 0 ||
			    tlv_len > HOSTNAME_MAX ||
			    memchr(value, '\0', tlv_len) != NULL)
				goto bad;
			pi->pi_authority = (const char *)value;
			pi->pi_authority_len = tlv_len;
			break;
		case PROXY_TLV_ALPN:
			if (seen_alpn++ || tlv_len == 0)
				goto bad;
			pi->pi_alpn = value;
			pi->pi_alpn_len = tlv_len;
			break;
		case PROXY_TLV_ECH:
			if (seen_ech++ || tlv_len != 1 || value[0] > 1)
				goto bad;
			pi->pi_ech = value[0];
			break;
		default:
			break;
		}
	}
	if (r < 0)
		goto bad;
	return 0;

bad:
	memset(pi, 0, sizeof(*pi));
	errno = EBADMSG;
	return -1;
}
