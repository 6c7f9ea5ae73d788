/*
 * proxyv2_test.c - proxy_encode and proxy_decode from tables: encodings
 * that must round-trip (two against exact bytes), headers that must be
 * refused, headers that must be accepted, and encoder refusals.
 *
 * Add a row for every bug found.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#include "proxyv2.h"
#include "tap.h"

#define SIG	"\r\n\r\n\0\r\nQUIT\n"
/* 127.0.0.1:12345 -> 127.0.0.1:443 */
#define A4	"\x7f\x00\x00\x01" "\x7f\x00\x00\x01" "\x30\x39" "\x01\xbb"
#define A4_LEN	12

struct enc_row {
	const char	*label;
	int		 family;
	const char	*src, *dst;
	uint16_t	 src_port, dst_port;
	const char	*authority;	/* NULL: absent */
	const char	*alpn;		/* NULL: absent */
	size_t		 alpn_len;
	int		 ech;
	const char	*expect;	/* NULL: round trip only */
	size_t		 expect_len;
};

#define ALPN_H2_H11	"\x02" "h2" "\x08" "http/1.1"

static const struct enc_row enc_rows[] = {
	{ "IPv4 with authority, ALPN, ECH", AF_INET,
	  "127.0.0.1", "127.0.0.2", 50000, 443,
	  "alpha.localhost", ALPN_H2_H11, sizeof(ALPN_H2_H11) - 1, 1,
	  SIG "\x21\x11\x00\x31"
	  "\x7f\x00\x00\x01" "\x7f\x00\x00\x02" "\xc3\x50" "\x01\xbb"
	  "\x02\x00\x0f" "alpha.localhost"
	  "\xe0\x00\x0c" ALPN_H2_H11
	  "\xe1\x00\x01\x01",
	  12 + 4 + 12 + 18 + 15 + 4 },
	{ "IPv6 bare", AF_INET6, "::1", "2001:db8::2", 1, 443,
	  NULL, NULL, 0, 0,
	  SIG "\x21\x21\x00\x24"
	  "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01"
	  "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x02"
	  "\x00\x01" "\x01\xbb",
	  12 + 4 + 36 },
	{ "IPv4 bare", AF_INET, "192.0.2.1", "192.0.2.2", 65535, 0,
	  NULL, NULL, 0, 0, NULL, 0 },
	{ "IPv4 authority only", AF_INET, "10.0.0.1", "10.0.0.2", 1234, 8443,
	  "example.org", NULL, 0, 0, NULL, 0 },
	{ "IPv4 ALPN only", AF_INET, "10.0.0.1", "10.0.0.2", 1234, 8443,
	  NULL, "\x02" "h2", 3, 0, NULL, 0 },
	{ "IPv4 ECH only", AF_INET, "10.0.0.1", "10.0.0.2", 1234, 8443,
	  NULL, NULL, 0, 1, NULL, 0 },
	{ "IPv6 with authority, ALPN, ECH", AF_INET6,
	  "2001:db8::1", "2001:db8::ffff", 40000, 443,
	  "beta.example.org", ALPN_H2_H11, sizeof(ALPN_H2_H11) - 1, 1,
	  NULL, 0 },
	{ "IPv6 v4-mapped with authority", AF_INET6,
	  "::ffff:192.0.2.7", "::ffff:192.0.2.8", 5, 6,
	  "a.b", NULL, 0, 0, NULL, 0 },
};

struct dec_row {
	const char	*label;
	const char	*bytes;
	size_t		 len;
	int		 tlvs_only;	/* bytes are TLVs after a TCP4 header */
};

#define RAW(l, s)	{ l, s, sizeof(s) - 1, 0 }
#define TLV(l, s)	{ l, s, sizeof(s) - 1, 1 }

/* Each must be refused with EBADMSG. */
static const struct dec_row bad_rows[] = {
	RAW("empty", ""),
	RAW("15 bytes", SIG "\x21\x11\x00"),
	RAW("bad signature", "\r\n\r\n\0\r\nQUIT\r" "\x21\x11\x00\x0c" A4),
	RAW("PROXY v1 text", "PROXY TCP4 127.0.0.1 127.0.0.1 12345 443\r\n"),
	RAW("version 1", SIG "\x11\x11\x00\x0c" A4),
	RAW("version 3", SIG "\x31\x11\x00\x0c" A4),
	RAW("command LOCAL", SIG "\x20\x11\x00\x0c" A4),
	RAW("command 2", SIG "\x22\x11\x00\x0c" A4),
	RAW("family UNSPEC", SIG "\x21\x00\x00\x00"),
	RAW("UDP over IPv4", SIG "\x21\x12\x00\x0c" A4),
	RAW("UDP over IPv6", SIG "\x21\x22\x00\x24" A4 A4 A4),
	RAW("UNIX stream", SIG "\x21\x31\x00\x0c" A4),
	RAW("TCP4 unknown transport", SIG "\x21\x10\x00\x0c" A4),
	RAW("length 13, 12 bytes follow", SIG "\x21\x11\x00\x0d" A4),
	RAW("length 12, 13 bytes follow", SIG "\x21\x11\x00\x0c" A4 "\x04"),
	RAW("length 0xffff", SIG "\x21\x11\xff\xff" A4),
	RAW("TCP4 with 11 address bytes", SIG "\x21\x11\x00\x0b"
	    "\x7f\x00\x00\x01\x7f\x00\x00\x01\x30\x39\x01"),
	RAW("TCP6 with 12 address bytes", SIG "\x21\x21\x00\x0c" A4),
	RAW("TCP6 with 35 address bytes", SIG "\x21\x21\x00\x23"
	    A4 A4 "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"),
	TLV("TLV header cut", "\x02\x00"),
	TLV("TLV type only", "\x04"),
	TLV("TLV overrun", "\x02\x00\x05" "abcd"),
	TLV("unknown TLV overrun", "\x30\x00\x02" "a"),
	TLV("TLV overrun after a good one", "\x02\x00\x01" "a" "\xe0\x00\x03" "\x01"),
	TLV("duplicate authority", "\x02\x00\x01" "a" "\x02\x00\x01" "b"),
	TLV("duplicate ALPN", "\xe0\x00\x03" "\x02" "h2" "\xe0\x00\x03" "\x02" "h2"),
	TLV("duplicate ECH", "\xe1\x00\x01\x01" "\xe1\x00\x01\x01"),
	TLV("empty authority", "\x02\x00\x00"),
	TLV("authority with NUL", "\x02\x00\x05" "ab\0cd"),
	TLV("authority ending in NUL", "\x02\x00\x04" "abc\0"),
	TLV("empty ALPN", "\xe0\x00\x00"),
	TLV("ECH of length 0", "\xe1\x00\x00"),
	TLV("ECH of length 2", "\xe1\x00\x02\x01\x01"),
	TLV("ECH value 2", "\xe1\x00\x01\x02"),
};

/* Each must be accepted. */
static const struct dec_row good_rows[] = {
	TLV("no TLVs", ""),
	TLV("unknown TLV skipped", "\x30\x00\x02" "zz"),
	TLV("NOOP of length 0", "\x04\x00\x00"),
	TLV("CRC32C skipped", "\x03\x00\x04" "\x01\x02\x03\x04"),
	TLV("TLVs in any order", "\xe1\x00\x01\x00" "\xe0\x00\x03" "\x02" "h2"
	    "\x02\x00\x01" "a"),
	TLV("unknown TLV may repeat", "\x30\x00\x00" "\x30\x00\x00"),
};

/* proxyv2_test_header - a TCP4 header around tlvs into buf; the length */
static size_t
proxyv2_test_header(uint8_t *buf, const void *tlvs, size_t tlv_len)
{
	size_t	body = A4_LEN + tlv_len;

	memcpy(buf, SIG, 12);
	buf[12] = 0x21;
	buf[13] = 0x11;
	buf[14] = body >> 8;
	buf[15] = body & 0xff;
	memcpy(buf + 16, A4, A4_LEN);
	memcpy(buf + 16 + A4_LEN, tlvs, tlv_len);
	return 16 + body;
}

/* proxyv2_test_addr - fill ss from a literal address and a port */
static void
proxyv2_test_addr(struct sockaddr_storage *ss, int family, const char *addr,
    uint16_t port)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	ss->ss_family = family;
	if (family == AF_INET) {
		(void)inet_pton(AF_INET, addr, &sin->sin_addr);
		sin->sin_port = htons(port);
	} else {
		(void)inet_pton(AF_INET6, addr, &sin6->sin6_addr);
		sin6->sin6_port = htons(port);
	}
}

/* proxyv2_test_same_addr - whether a decoded address equals the encoded one */
static int
proxyv2_test_same_addr(const struct sockaddr_storage *a,
    const struct sockaddr_storage *b)
{
	const struct sockaddr_in	*a4 = (const void *)a, *b4 = (const void *)b;
	const struct sockaddr_in6	*a6 = (const void *)a, *b6 = (const void *)b;

	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET)
		return a4->sin_port == b4->sin_port &&
		    a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	return a6->sin6_port == b6->sin6_port &&
	    memcmp(&a6->sin6_addr, &b6->sin6_addr, 16) == 0;
}

/* proxyv2_test_encodings - every enc_row encodes, decodes back, truncates badly */
static void
proxyv2_test_encodings(void)
{
	const struct enc_row	*row;
	struct proxy_info	 pi, out;
	uint8_t			 buf[PROXY_MAX];
	ssize_t			 n;
	size_t			 i, cut, refused;

	for (i = 0; i < sizeof(enc_rows) / sizeof(enc_rows[0]); i++) {
		row = &enc_rows[i];
		memset(&pi, 0, sizeof(pi));
		proxyv2_test_addr(&pi.pi_src, row->family, row->src, row->src_port);
		proxyv2_test_addr(&pi.pi_dst, row->family, row->dst, row->dst_port);
		pi.pi_authority = row->authority;
		pi.pi_authority_len = row->authority ? strlen(row->authority) : 0;
		pi.pi_alpn = (const uint8_t *)row->alpn;
		pi.pi_alpn_len = row->alpn_len;
		pi.pi_ech = row->ech;

		n = proxy_encode(&pi, buf, sizeof(buf));
		TAP_OK(n > 0, "%s: encodes", row->label);
		if (n <= 0)
			continue;
		if (row->expect != NULL)
			TAP_OK((size_t)n == row->expect_len &&
			    memcmp(buf, row->expect, n) == 0,
			    "%s: exact bytes", row->label);

		TAP_OK(proxy_decode(buf, n, &out) == 0, "%s: decodes", row->label);
		TAP_OK(proxyv2_test_same_addr(&out.pi_src, &pi.pi_src) &&
		    proxyv2_test_same_addr(&out.pi_dst, &pi.pi_dst),
		    "%s: addresses round-trip", row->label);
		TAP_OK(row->authority == NULL ? out.pi_authority == NULL :
		    out.pi_authority_len == pi.pi_authority_len &&
		    memcmp(out.pi_authority, row->authority,
		    pi.pi_authority_len) == 0 &&
		    (const uint8_t *)out.pi_authority >= buf &&
		    (const uint8_t *)out.pi_authority < buf + n,
		    "%s: authority round-trips, points into buf", row->label);
		TAP_OK(row->alpn == NULL ? out.pi_alpn == NULL :
		    out.pi_alpn_len == row->alpn_len &&
		    memcmp(out.pi_alpn, row->alpn, row->alpn_len) == 0,
		    "%s: ALPN round-trips", row->label);
		TAP_OK(out.pi_ech == row->ech, "%s: ECH round-trips", row->label);

		/* Every prefix is refused: the length field must match. */
		refused = 0;
		for (cut = 0; cut < (size_t)n; cut++) {
			errno = 0;
			if (proxy_decode(buf, cut, &out) < 0 && errno == EBADMSG)
				refused++;
		}
		TAP_OK(refused == (size_t)n, "%s: all %zd prefixes refused",
		    row->label, n);

		/* And every buffer one byte short is too small. */
		refused = 0;
		for (cut = 0; cut < (size_t)n; cut++) {
			errno = 0;
			if (proxy_encode(&pi, buf, cut) < 0 && errno == ENOSPC)
				refused++;
		}
		TAP_OK(refused == (size_t)n, "%s: smaller buffers give ENOSPC",
		    row->label);
	}
}

/* proxyv2_test_decode_rows - bad_rows refused, good_rows accepted */
static void
proxyv2_test_decode_rows(void)
{
	const struct dec_row	*row;
	struct proxy_info	 pi;
	uint8_t			 buf[PROXY_MAX];
	const uint8_t		*p;
	size_t			 i, len;
	int			 r;

	for (i = 0; i < sizeof(bad_rows) / sizeof(bad_rows[0]); i++) {
		row = &bad_rows[i];
		if (row->tlvs_only) {
			len = proxyv2_test_header(buf, row->bytes, row->len);
			p = buf;
		} else {
			len = row->len;
			p = (const uint8_t *)row->bytes;
		}
		errno = 0;
		r = proxy_decode(p, len, &pi);
		TAP_OK(r == -1 && errno == EBADMSG, "refused: %s", row->label);
	}
	for (i = 0; i < sizeof(good_rows) / sizeof(good_rows[0]); i++) {
		row = &good_rows[i];
		len = proxyv2_test_header(buf, row->bytes, row->len);
		TAP_OK(proxy_decode(buf, len, &pi) == 0, "accepted: %s",
		    row->label);
	}
}

/* proxyv2_test_authority_bounds - 253 bytes accepted, 254 refused, both ways */
static void
proxyv2_test_authority_bounds(void)
{
	struct proxy_info	 pi;
	uint8_t			 tlv[3 + 254], buf[PROXY_MAX];
	size_t			 len;
	ssize_t			 n;
	int			 r;

	memset(tlv + 3, 'a', 254);
	tlv[0] = PROXY_TLV_AUTHORITY;
	tlv[1] = 0;
	tlv[2] = 253;
	len = proxyv2_test_header(buf, tlv, 3 + 253);
	r = proxy_decode(buf, len, &pi);
	TAP_OK(r == 0 && pi.pi_authority_len == 253, "253-byte authority accepted");
	tlv[2] = 254;
	len = proxyv2_test_header(buf, tlv, 3 + 254);
	errno = 0;
	r = proxy_decode(buf, len, &pi);
	TAP_OK(r == -1 && errno == EBADMSG, "254-byte authority refused");

	memset(&pi, 0, sizeof(pi));
	proxyv2_test_addr(&pi.pi_src, AF_INET, "127.0.0.1", 1);
	proxyv2_test_addr(&pi.pi_dst, AF_INET, "127.0.0.1", 2);
	pi.pi_authority = (const char *)tlv + 3;
	pi.pi_authority_len = 253;
	n = proxy_encode(&pi, buf, sizeof(buf));
	TAP_OK(n == 16 + 12 + 3 + 253, "253-byte authority encodes");
	pi.pi_authority_len = 254;
	errno = 0;
	n = proxy_encode(&pi, buf, sizeof(buf));
	TAP_OK(n == -1 && errno == EINVAL, "254-byte authority: EINVAL");
}

/* proxyv2_test_encode_refusals - what proxy_encode must not produce */
static void
proxyv2_test_encode_refusals(void)
{
	struct proxy_info	 pi;
	struct sockaddr_un	*sun;
	uint8_t			 buf[PROXY_MAX];
	ssize_t			 n;

	memset(&pi, 0, sizeof(pi));
	proxyv2_test_addr(&pi.pi_src, AF_INET, "127.0.0.1", 1);
	proxyv2_test_addr(&pi.pi_dst, AF_INET6, "::1", 2);
	errno = 0;
	n = proxy_encode(&pi, buf, sizeof(buf));
	TAP_OK(n == -1 && errno == EAFNOSUPPORT, "IPv4 src, IPv6 dst: EAFNOSUPPORT");

	memset(&pi, 0, sizeof(pi));
	sun = (struct sockaddr_un *)&pi.pi_src;
	sun->sun_family = AF_UNIX;
	pi.pi_dst = pi.pi_src;
	errno = 0;
	n = proxy_encode(&pi, buf, sizeof(buf));
	TAP_OK(n == -1 && errno == EAFNOSUPPORT, "AF_UNIX: EAFNOSUPPORT");

	memset(&pi, 0, sizeof(pi));
	errno = 0;
	n = proxy_encode(&pi, buf, sizeof(buf));
	TAP_OK(n == -1 && errno == EAFNOSUPPORT, "AF_UNSPEC: EAFNOSUPPORT");

	proxyv2_test_addr(&pi.pi_src, AF_INET, "127.0.0.1", 1);
	proxyv2_test_addr(&pi.pi_dst, AF_INET, "127.0.0.1", 2);
	pi.pi_authority = "ab\0cd";
	pi.pi_authority_len = 5;
	errno = 0;
	n = proxy_encode(&pi, buf, sizeof(buf));
	TAP_OK(n == -1 && errno == EINVAL, "authority with NUL: EINVAL");
	pi.pi_authority_len = 0;
	errno = 0;
	n = proxy_encode(&pi, buf, sizeof(buf));
	TAP_OK(n == -1 && errno == EINVAL, "empty authority: EINVAL");

	pi.pi_authority = NULL;
	pi.pi_alpn = (const uint8_t *)"";
	pi.pi_alpn_len = 0;
	errno = 0;
	n = proxy_encode(&pi, buf, sizeof(buf));
	TAP_OK(n == -1 && errno == EINVAL, "empty ALPN: EINVAL");

	pi.pi_alpn = NULL;
	pi.pi_ech = 7;
	n = proxy_encode(&pi, buf, sizeof(buf));
	TAP_OK(n == 16 + 12 + 4 && buf[n - 1] == 1, "ECH flag 7 encodes as 1");
}

/* proxyv2_test_max - the largest header the worker can send fits PROXY_MAX */
static void
proxyv2_test_max(void)
{
	static uint8_t		 alpn[HELLO_MSG_MAX], buf[PROXY_MAX];
	struct proxy_info	 pi, out;
	char			 name[HOSTNAME_MAX];
	ssize_t			 n;

	memset(name, 'a', sizeof(name));
	memset(alpn, 'b', sizeof(alpn));
	memset(&pi, 0, sizeof(pi));
	proxyv2_test_addr(&pi.pi_src, AF_INET6, "::1", 1);
	proxyv2_test_addr(&pi.pi_dst, AF_INET6, "::1", 2);
	pi.pi_authority = name;
	pi.pi_authority_len = sizeof(name);
	pi.pi_alpn = alpn;
	pi.pi_alpn_len = sizeof(alpn);
	pi.pi_ech = 1;
	n = proxy_encode(&pi, buf, sizeof(buf));
	TAP_OK(n == PROXY_MAX, "largest header is PROXY_MAX (%zd) bytes", n);
	TAP_OK(n > 0 && proxy_decode(buf, n, &out) == 0 &&
	    out.pi_alpn_len == sizeof(alpn), "largest header decodes");
}

/*
 * proxyv2_test_tlv_walk - proxy_tlv_next over whole and cut TLVs, and
 * pi_tlvs from proxy_decode: every TLV of the header
 */
static void
proxyv2_test_tlv_walk(void)
{
	static const uint8_t	 two[] = "\x05\x00\x02" "id" "\x30\x00\x00";
	struct proxy_info	 pi;
	const uint8_t		*value;
	uint8_t			 buf[PROXY_MAX], type;
	size_t			 off = 0, vlen, len;

	TAP_OK(proxy_tlv_next(two, sizeof(two) - 1, &off, &type, &value,
	    &vlen) == 1 && type == 0x05 && vlen == 2 && off == 5 &&
	    proxy_tlv_next(two, sizeof(two) - 1, &off, &type, &value,
	    &vlen) == 1 && type == 0x30 && vlen == 0 &&
	    proxy_tlv_next(two, sizeof(two) - 1, &off, &type, &value,
	    &vlen) == 0, "tlv_next: two TLVs, then the end");
	off = 0;
	TAP_OK(proxy_tlv_next(two, 4, &off, &type, &value, &vlen) == -1,
	    "tlv_next: a value cut short: -1");
	off = 0;
	TAP_OK(proxy_tlv_next(two, 2, &off, &type, &value, &vlen) == -1,
	    "tlv_next: a type and half a length: -1");
	len = proxyv2_test_header(buf, two, sizeof(two) - 1);
	TAP_OK(proxy_decode(buf, len, &pi) == 0 &&
	    pi.pi_tlvs_len == sizeof(two) - 1 &&
	    memcmp(pi.pi_tlvs, two, pi.pi_tlvs_len) == 0,
	    "decode: pi_tlvs is every TLV");
}

/* main - run every table; exit 1 when a check failed */
int
main(void)
{
	proxyv2_test_encodings();
	proxyv2_test_decode_rows();
	proxyv2_test_authority_bounds();
	proxyv2_test_encode_refusals();
	proxyv2_test_max();
	proxyv2_test_tlv_walk();
	return TAP_DONE();
}
