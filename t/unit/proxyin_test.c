/*
 * proxyin_test.c - proxyin_parse and proxyin_resume against a table of
 * PROXY headers, versions 1 and 2.
 *
 * Each row is a label, the bytes (a C string; a v2 row may have its
 * length field, AF_UNIX addresses, NOOP padding and CRC32C filled in by
 * the builder), and the expected answer with its fields.  Every row is
 * then checked three more ways, each call on a buffer of exactly the
 * bytes given so that AddressSanitizer sees any read past them:
 *
 *   - every prefix alone answers PROXYIN_NEED_MORE, with a px_need that
 *     does not overshoot the header's end, or the whole's answer; an
 *     invalid row's answer comes with exactly pc_decided bytes;
 *   - the property: the row resumed through one walk in every split --
 *     one byte per call, every cut in two, and random cuts -- answers
 *     PROXYIN_NEED_MORE until it answers as the whole does, with the
 *     same fields, and its calls examine as many bytes in all as the
 *     whole parse (each byte walked once);
 *   - a walk that answered PROXYIN_DONE answers the same again.
 *
 * Add a row for every bug found.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "proxyin.h"
#include "proxyin_same.h"
#include "tap.h"

#define IN(s)		.pc_in = (s), .pc_in_len = sizeof(s) - 1
#define TLVS(s)		.pc_tlvs = (s), .pc_tlvs_len = sizeof(s) - 1
#define SIG		"\r\n\r\n\0\r\nQUIT\n"
/* 192.0.2.1:56324 -> 198.51.100.7:443 */
#define A4		"\xc0\x00\x02\x01" "\xc6\x33\x64\x07" "\xdc\x04" "\x01\xbb"
/* [2001:db8::1]:1 -> [2001:db8::2]:65535 */
#define A6		"\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01" \
			"\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x02" \
			"\x00\x01" "\xff\xff"
#define V2_TCP4		SIG "\x21\x11\x00\x00" A4	/* length filled */
#define V1_LINE4	"PROXY TCP4 192.0.2.1 198.51.100.7 56324 443\r\n"
#define VPCE		"\x01" "vpce-08d2bf15fd2bd1112"
#define HELLO		"\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00"
#define BUF_MAX		1024

struct pin_case {
	const char	*pc_label;
	const char	*pc_in;		/* the header, or its start */
	size_t		 pc_in_len;
	const char	*pc_unix[2];	/* v2: AF_UNIX paths after pc_in */
	size_t		 pc_pad_to;	/* v2: a NOOP TLV making it this long */
	int		 pc_fix_len;	/* v2: fill in the length field */
	size_t		 pc_crc_at;	/* v2: fill in the CRC32C value here */
	const char	*pc_after;	/* bytes after the header */
	enum proxyin_result pc_result;
	const char	*pc_reason;	/* expected px_reason (INVALID) */
	size_t		 pc_decided;	/* INVALID: bytes that decide it */
	size_t		 pc_need;	/* NEED_MORE: expected px_need */
	int		 pc_version;
	enum proxyin_command pc_command;
	int		 pc_family;
	const char	*pc_src, *pc_dst;	/* addresses as text, or paths */
	unsigned	 pc_sport, pc_dport;
	const char	*pc_tlvs;	/* kept TLVs, wire form */
	size_t		 pc_tlvs_len;
};

#define V1_DONE4(src, dst, sp, dp) \
	.pc_result = PROXYIN_DONE, .pc_version = 1, \
	.pc_command = PROXYIN_PROXY, .pc_family = AF_INET, \
	.pc_src = (src), .pc_dst = (dst), .pc_sport = (sp), .pc_dport = (dp)
#define V1_DONE6(src, dst, sp, dp) \
	.pc_result = PROXYIN_DONE, .pc_version = 1, \
	.pc_command = PROXYIN_PROXY, .pc_family = AF_INET6, \
	.pc_src = (src), .pc_dst = (dst), .pc_sport = (sp), .pc_dport = (dp)
#define V2_DONE4 \
	.pc_fix_len = 1, .pc_result = PROXYIN_DONE, .pc_version = 2, \
	.pc_command = PROXYIN_PROXY, .pc_family = AF_INET, \
	.pc_src = "192.0.2.1", .pc_dst = "198.51.100.7", \
	.pc_sport = 56324, .pc_dport = 443
#define BAD(reason, decided) \
	.pc_result = PROXYIN_INVALID, .pc_reason = (reason), \
	.pc_decided = (decided)
#define V2_BAD(reason, decided)	.pc_fix_len = 1, BAD(reason, decided)
#define LOCAL(version) \
	.pc_result = PROXYIN_DONE, .pc_version = (version), \
	.pc_command = PROXYIN_LOCAL, .pc_family = AF_UNSPEC

static const struct pin_case pin_cases[] = {
	/* Version 1: lines that are read */
	{ "v1 TCP4, the spec's example", IN(V1_LINE4),
	  V1_DONE4("192.0.2.1", "198.51.100.7", 56324, 443) },
	{ "v1 TCP4 then a TLS hello: only the line", IN(V1_LINE4),
	  .pc_after = HELLO,
	  V1_DONE4("192.0.2.1", "198.51.100.7", 56324, 443) },
	{ "v1 TCP4 extremes: 0.0.0.0, 255.255.255.255, ports 0, 65535",
	  IN("PROXY TCP4 0.0.0.0 255.255.255.255 0 65535\r\n"),
	  V1_DONE4("0.0.0.0", "255.255.255.255", 0, 65535) },
	{ "v1 TCP6", IN("PROXY TCP6 2001:db8::1 2001:db8::2 1 65535\r\n"),
	  V1_DONE6("2001:db8::1", "2001:db8::2", 1, 65535) },
	{ "v1 TCP6 in upper case, spec 2.1 allows it",
	  IN("PROXY TCP6 2001:DB8::A ::1 443 443\r\n"),
	  V1_DONE6("2001:db8::a", "::1", 443, 443) },
	{ "v1 TCP6 '::' both ways", IN("PROXY TCP6 :: :: 0 0\r\n"),
	  V1_DONE6("::", "::", 0, 0) },
	{ "v1 TCP6 v4-mapped (HAProxy, mixed families)",
	  IN("PROXY TCP6 ::ffff:192.0.2.1 ::FFFF:198.51.100.7 1 2\r\n"),
	  V1_DONE6("::ffff:192.0.2.1", "::ffff:198.51.100.7", 1, 2) },
	{ "v1 TCP6 longest: 104 bytes",
	  IN("PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
	  "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe 65535 65535\r\n"),
	  V1_DONE6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	  "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", 65535, 65535) },
	{ "v1 UNKNOWN, short form", IN("PROXY UNKNOWN\r\n"), LOCAL(1) },
	{ "v1 UNKNOWN with addresses, ignored",
	  IN("PROXY UNKNOWN ffff::1 ffff::2 80 80\r\n"), LOCAL(1) },
	{ "v1 UNKNOWN, 107 bytes",
	  IN("PROXY UNKNOWN " "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" "\r\n"),
	  .pc_after = HELLO, LOCAL(1) },

	/* Version 1: what cannot begin a line */
	{ "v1 UNKNOWN, 108 bytes: refused at the 106th",
	  IN("PROXY UNKNOWN " "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" "\r\n"),
	  BAD("v1: no CRLF within 107 bytes", 106) },
	{ "a TLS hello", IN(HELLO), BAD("neither PROXY v1 nor v2", 1) },
	{ "an HTTP request", IN("GET / HTTP/1.1\r\n"),
	  BAD("neither PROXY v1 nor v2", 1) },
	{ "an SSH banner", IN("SSH-2.0-OpenSSH_9.2\r\n"),
	  BAD("neither PROXY v1 nor v2", 1) },
	{ "a NUL byte", IN("\0"), BAD("neither PROXY v1 nor v2", 1) },
	{ "v1 PROXZ", IN("PROXZ TCP4"), BAD("v1: not \"PROXY \"", 5) },
	{ "v1 lower case proxy", IN("Proxy TCP4"), BAD("v1: not \"PROXY \"", 2) },
	{ "v1 two spaces", IN("PROXY  TCP4"),
	  BAD("v1: protocol not TCP4, TCP6 or UNKNOWN", 7) },
	{ "v1 tab for space", IN("PROXY\tTCP4"), BAD("v1: not \"PROXY \"", 6) },
	{ "v1 tcp4 in lower case", IN("PROXY tcp4 "),
	  BAD("v1: protocol not TCP4, TCP6 or UNKNOWN", 7) },
	{ "v1 TCP5", IN("PROXY TCP5 "),
	  BAD("v1: protocol not TCP4, TCP6 or UNKNOWN", 10) },
	{ "v1 UDP4", IN("PROXY UDP4 "),
	  BAD("v1: protocol not TCP4, TCP6 or UNKNOWN", 8) },
	{ "v1 TCP alone", IN("PROXY TCP 1.2.3.4"),
	  BAD("v1: protocol not TCP4, TCP6 or UNKNOWN", 10) },
	{ "v1 TCP44", IN("PROXY TCP44 "),
	  BAD("v1: protocol not TCP4, TCP6 or UNKNOWN", 11) },
	{ "v1 TCP4 then CRLF", IN("PROXY TCP4\r\n"),
	  BAD("v1: protocol not TCP4, TCP6 or UNKNOWN", 11) },
	{ "v1 UNKNOWNX", IN("PROXY UNKNOWNX\r\n"),
	  BAD("v1: protocol not TCP4, TCP6 or UNKNOWN", 14) },
	{ "v1 UNKNOWN, a lone LF", IN("PROXY UNKNOWN\n"),
	  BAD("v1: protocol not TCP4, TCP6 or UNKNOWN", 14) },
	{ "v1 UNKNOWN, CR CR", IN("PROXY UNKNOWN\r\r\n"),
	  BAD("v1: CR not followed by LF", 15) },
	{ "v1 UNKNOWN, a control byte in the ignored part",
	  IN("PROXY UNKNOWN a\tb\r\n"), BAD("v1: bad byte after UNKNOWN", 16) },
	{ "v1 UNKNOWN, a lone LF in the ignored part",
	  IN("PROXY UNKNOWN a\nb\r\n"), BAD("v1: bad byte after UNKNOWN", 16) },
	{ "v1 TCP4 source with a leading zero",
	  IN("PROXY TCP4 192.0.2.01 198.51.100.7 1 2\r\n"),
	  BAD("v1: bad source address", 22) },
	{ "v1 TCP4 source octet 256",
	  IN("PROXY TCP4 192.0.2.256 198.51.100.7 1 2\r\n"),
	  BAD("v1: bad source address", 23) },
	{ "v1 TCP4 source of 3 parts", IN("PROXY TCP4 192.0.2 198.51.100.7 1 2\r\n"),
	  BAD("v1: bad source address", 19) },
	{ "v1 TCP4 source empty", IN("PROXY TCP4  198.51.100.7 1 2\r\n"),
	  BAD("v1: bad source address", 12) },
	{ "v1 TCP4 with a v4-mapped source",
	  IN("PROXY TCP4 ::ffff:192.0.2.1 198.51.100.7 1 2\r\n"),
	  BAD("v1: bad source address", 12) },
	{ "v1 TCP4 with an IPv6 destination",
	  IN("PROXY TCP4 192.0.2.1 2001:db8::1 1 2\r\n"),
	  BAD("v1: bad destination address", 26) },
	{ "v1 TCP4 source over 15 bytes",
	  IN("PROXY TCP4 1.2.3.4.5.6.7.8.9 198.51.100.7 1 2\r\n"),
	  BAD("v1: bad source address", 27) },
	{ "v1 TCP6 with an IPv4 source",
	  IN("PROXY TCP6 192.0.2.1 ::1 1 2\r\n"),
	  BAD("v1: bad source address", 21) },
	{ "v1 TCP6 dotted tail not v4-mapped",
	  IN("PROXY TCP6 ::192.0.2.1 ::1 1 2\r\n"),
	  BAD("v1: bad source address", 23) },
	{ "v1 TCP6 dotted tail after more groups",
	  IN("PROXY TCP6 ::ffff:0:192.0.2.1 ::1 1 2\r\n"),
	  BAD("v1: bad source address", 30) },
	{ "v1 TCP6 two '::'", IN("PROXY TCP6 1::2::3 ::1 1 2\r\n"),
	  BAD("v1: bad source address", 19) },
	{ "v1 TCP6 a 5-digit group", IN("PROXY TCP6 ::1 00001:: 1 2\r\n"),
	  BAD("v1: bad destination address", 23) },
	{ "v1 TCP6 a zone index", IN("PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n"),
	  BAD("v1: bad source address", 19) },
	{ "v1 TCP6 source over 39 bytes",
	  IN("PROXY TCP6 0000:0000:0000:0000:0000:0000:0000:00001 ::1 1 2\r\n"),
	  BAD("v1: bad source address", 51) },
	{ "v1 port 65536", IN("PROXY TCP4 192.0.2.1 198.51.100.7 65536 1\r\n"),
	  BAD("v1: bad source port", 39) },
	{ "v1 port 99999", IN("PROXY TCP4 192.0.2.1 198.51.100.7 1 99999\r\n"),
	  BAD("v1: bad destination port", 41) },
	{ "v1 port with a leading zero",
	  IN("PROXY TCP4 192.0.2.1 198.51.100.7 0443 1\r\n"),
	  BAD("v1: bad source port", 36) },
	{ "v1 port 00", IN("PROXY TCP4 192.0.2.1 198.51.100.7 1 00\r\n"),
	  BAD("v1: bad destination port", 38) },
	{ "v1 port with a sign", IN("PROXY TCP4 192.0.2.1 198.51.100.7 +1 1\r\n"),
	  BAD("v1: bad source port", 35) },
	{ "v1 port empty", IN("PROXY TCP4 192.0.2.1 198.51.100.7  1\r\n"),
	  BAD("v1: bad source port", 35) },
	{ "v1 a fifth field", IN("PROXY TCP4 192.0.2.1 198.51.100.7 1 2 3\r\n"),
	  BAD("v1: bad destination port", 38) },
	{ "v1 LF alone at the end",
	  IN("PROXY TCP4 192.0.2.1 198.51.100.7 1 2\n"),
	  BAD("v1: bad destination port", 38) },
	{ "v1 CR then not LF", IN("PROXY TCP4 192.0.2.1 198.51.100.7 1 2\r\r"),
	  BAD("v1: CR not followed by LF", 39) },

	/* Version 1: not yet whole */
	{ "nothing yet", IN(""), .pc_result = PROXYIN_NEED_MORE,
	  .pc_need = PROXYIN_MIN },
	{ "v1 'PROXY ': UNKNOWN CRLF at least", IN("PROXY "),
	  .pc_result = PROXYIN_NEED_MORE, .pc_need = 9 },
	{ "v1 'PROXY T': the shortest TCP6 line", IN("PROXY T"),
	  .pc_result = PROXYIN_NEED_MORE, .pc_need = 3 + 12 },
	{ "v1 'PROXY TCP4 ': two quads, two ports", IN("PROXY TCP4 "),
	  .pc_result = PROXYIN_NEED_MORE, .pc_need = 21 },
	{ "v1 in the destination port", IN("PROXY TCP6 :: :: 0 12"),
	  .pc_result = PROXYIN_NEED_MORE, .pc_need = 2 },
	{ "v1 after the CR", IN("PROXY UNKNOWN\r"),
	  .pc_result = PROXYIN_NEED_MORE, .pc_need = 1 },

	/* Version 2: headers that are read */
	{ "v2 TCP4", IN(V2_TCP4), V2_DONE4 },
	{ "v2 TCP4 then a TLS hello: only the header", IN(V2_TCP4),
	  .pc_after = HELLO, V2_DONE4 },
	{ "v2 TCP6", IN(SIG "\x21\x21\x00\x24" A6),
	  .pc_result = PROXYIN_DONE, .pc_version = 2,
	  .pc_command = PROXYIN_PROXY, .pc_family = AF_INET6,
	  .pc_src = "2001:db8::1", .pc_dst = "2001:db8::2",
	  .pc_sport = 1, .pc_dport = 65535 },
	{ "v2 UNIX stream", IN(SIG "\x21\x31\x00\xd8"),
	  .pc_unix = { "/run/client.sock", "\0abstract" },
	  .pc_result = PROXYIN_DONE, .pc_version = 2,
	  .pc_command = PROXYIN_PROXY, .pc_family = AF_UNIX,
	  .pc_src = "/run/client.sock", .pc_dst = "\0abstract" },
	{ "v2 LOCAL, UNSPEC, no address", IN(SIG "\x20\x00\x00\x00"),
	  LOCAL(2) },
	{ "v2 LOCAL over TCP4: the addresses ignored",
	  IN(SIG "\x20\x11\x00\x0c" A4), LOCAL(2) },
	{ "v2 LOCAL with TLVs: checked, none kept",
	  IN(SIG "\x20\x00\x00\x00" "\x05\x00\x02" "id"),
	  .pc_fix_len = 1, LOCAL(2) },
	{ "v2 PROXY over UNSPEC: as LOCAL", IN(SIG "\x21\x00\x00\x00"),
	  LOCAL(2) },
	{ "v2 the largest header, 536 bytes", IN(V2_TCP4),
	  .pc_pad_to = PROXYIN_V2_MAX, V2_DONE4 },
	{ "v2 kept: UNIQUE_ID", IN(V2_TCP4 "\x05\x00\x03" "abc"),
	  TLVS("\x05\x00\x03" "abc"), V2_DONE4 },
	{ "v2 kept: an empty UNIQUE_ID", IN(V2_TCP4 "\x05\x00\x00"),
	  TLVS("\x05\x00\x00"), V2_DONE4 },
	{ "v2 kept: AWS VPC endpoint id",
	  IN(V2_TCP4 "\xea\x00\x17" VPCE), TLVS("\xea\x00\x17" VPCE), V2_DONE4 },
	{ "v2 kept: AWS, another subtype as given",
	  IN(V2_TCP4 "\xea\x00\x03" "\x02\x00\xff"),
	  TLVS("\xea\x00\x03" "\x02\x00\xff"), V2_DONE4 },
	{ "v2 kept: Azure link id",
	  IN(V2_TCP4 "\xee\x00\x05" "\x01\x78\x56\x34\x12"),
	  TLVS("\xee\x00\x05" "\x01\x78\x56\x34\x12"), V2_DONE4 },
	{ "v2 kept: ALPN and AUTHORITY as given",
	  IN(V2_TCP4 "\x01\x00\x02" "h2" "\x02\x00\x0b" "example.org"),
	  TLVS("\x01\x00\x02" "h2" "\x02\x00\x0b" "example.org"), V2_DONE4 },
	{ "v2 kept: NETNS", IN(V2_TCP4 "\x30\x00\x04" "blue"),
	  TLVS("\x30\x00\x04" "blue"), V2_DONE4 },
	{ "v2 skipped: NOOP twice, SSL, experimental, SNItch's own",
	  IN(V2_TCP4 "\x04\x00\x00" "\x20\x00\x0c" "\x01\0\0\0\0"
	  "\x21\x00\x04" "TLS1" "\x04\x00\x02" "\0\0" "\xf0\x00\x01" "x"
	  "\xe0\x00\x03" "\x02h2" "\xe1\x00\x01" "\x01"),
	  V2_DONE4 },
	{ "v2 kept among skipped, in their order",
	  IN(V2_TCP4 "\xea\x00\x17" VPCE "\x04\x00\x01" "\0"
	  "\x05\x00\x02" "id" "\xf8\x00\x00" "\x30\x00\x01" "n"),
	  TLVS("\xea\x00\x17" VPCE "\x05\x00\x02" "id" "\x30\x00\x01" "n"),
	  V2_DONE4 },
	{ "v2 UNIQUE_ID of 128 bytes", IN(V2_TCP4 "\x05\x00\x80"
	  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"),
	  TLVS("\x05\x00\x80"
	  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"),
	  V2_DONE4 },
	{ "v2 CRC32C right", IN(V2_TCP4 "\x03\x00\x04" "\0\0\0\0"),
	  .pc_crc_at = 16 + 12 + 3, V2_DONE4 },
	{ "v2 CRC32C right, a value worked out apart",
	  IN(SIG "\x21\x11\x00\x13" A4 "\x03\x00\x04" "\xd4\x5a\x11\xb9"),
	  .pc_result = PROXYIN_DONE, .pc_version = 2,
	  .pc_command = PROXYIN_PROXY, .pc_family = AF_INET,
	  .pc_src = "192.0.2.1", .pc_dst = "198.51.100.7",
	  .pc_sport = 56324, .pc_dport = 443 },
	{ "v2 CRC32C right, among kept TLVs",
	  IN(V2_TCP4 "\x05\x00\x01" "u" "\x03\x00\x04" "\0\0\0\0"
	  "\x04\x00\x01" "\0"),
	  .pc_crc_at = 16 + 12 + 4 + 3, TLVS("\x05\x00\x01" "u"), V2_DONE4 },

	/* Version 2: what cannot begin a header */
	{ "v2 signature broken at its NUL", IN("\r\n\r\nX"),
	  BAD("v2: bad signature", 5) },
	{ "v2 signature broken at its last byte",
	  IN("\r\n\r\n\0\r\nQUIT\r"), BAD("v2: bad signature", 12) },
	{ "v2 version 1", IN(SIG "\x11\x11\x00\x0c" A4),
	  BAD("v2: version not 2", 13) },
	{ "v2 version 3", IN(SIG "\x31\x11\x00\x0c" A4),
	  BAD("v2: version not 2", 13) },
	{ "v2 command 2", IN(SIG "\x22\x11\x00\x0c" A4),
	  BAD("v2: command not LOCAL or PROXY", 13) },
	{ "v2 command 15", IN(SIG "\x2f\x11\x00\x0c" A4),
	  BAD("v2: command not LOCAL or PROXY", 13) },
	{ "v2 UDP over IPv4", IN(SIG "\x21\x12\x00\x0c" A4),
	  BAD("v2: family not UNSPEC or a stream over IPv4, IPv6, UNIX", 14) },
	{ "v2 UDP over IPv6", IN(SIG "\x21\x22\x00\x24" A6),
	  BAD("v2: family not UNSPEC or a stream over IPv4, IPv6, UNIX", 14) },
	{ "v2 UNIX datagram", IN(SIG "\x21\x32\x00\xd8"),
	  BAD("v2: family not UNSPEC or a stream over IPv4, IPv6, UNIX", 14) },
	{ "v2 IPv4, transport UNSPEC", IN(SIG "\x21\x10\x00\x0c" A4),
	  BAD("v2: family not UNSPEC or a stream over IPv4, IPv6, UNIX", 14) },
	{ "v2 UNSPEC family over STREAM", IN(SIG "\x21\x01\x00\x00"),
	  BAD("v2: family not UNSPEC or a stream over IPv4, IPv6, UNIX", 14) },
	{ "v2 family 4", IN(SIG "\x21\x41\x00\x00"),
	  BAD("v2: family not UNSPEC or a stream over IPv4, IPv6, UNIX", 14) },
	{ "v2 LOCAL over UDP", IN(SIG "\x20\x12\x00\x0c" A4),
	  BAD("v2: family not UNSPEC or a stream over IPv4, IPv6, UNIX", 14) },
	{ "v2 length 11 for TCP4", IN(SIG "\x21\x11\x00\x0b" A4),
	  BAD("v2: length short of the address block", 16) },
	{ "v2 length 35 for TCP6", IN(SIG "\x21\x21\x00\x23" A6),
	  BAD("v2: length short of the address block", 16) },
	{ "v2 length 215 for UNIX", IN(SIG "\x21\x31\x00\xd7"),
	  BAD("v2: length short of the address block", 16) },
	{ "v2 length 521: 537 bytes", IN(SIG "\x21\x11\x02\x09" A4),
	  BAD("v2: longer than 536 bytes", 16) },
	{ "v2 length 65535", IN(SIG "\x20\x00\xff\xff"),
	  BAD("v2: longer than 536 bytes", 16) },
	{ "v2 one byte after the addresses", IN(V2_TCP4 "\x05"),
	  V2_BAD("v2: TLV header cut by the length", 28) },
	{ "v2 two bytes after a TLV", IN(V2_TCP4 "\x04\x00\x00" "\x05\x00"),
	  V2_BAD("v2: TLV header cut by the length", 31) },
	{ "v2 TLV value overruns the length",
	  IN(SIG "\x21\x11\x00\x11" A4 "\x05\x00\x03" "ab" "c"),
	  BAD("v2: TLV value overruns the length", 31) },
	{ "v2 TLV length 65535", IN(V2_TCP4 "\x04\xff\xff" "abc"),
	  V2_BAD("v2: TLV value overruns the length", 31) },
	{ "v2 UNIQUE_ID twice",
	  IN(V2_TCP4 "\x05\x00\x01" "a" "\x05\x00\x01" "b"),
	  V2_BAD("v2: TLV repeated", 0) },
	{ "v2 AWS twice", IN(V2_TCP4 "\xea\x00\x17" VPCE "\xea\x00\x17" VPCE),
	  V2_BAD("v2: TLV repeated", 0) },
	{ "v2 CRC32C twice", IN(V2_TCP4 "\x03\x00\x04" "\0\0\0\0"
	  "\x03\x00\x04" "\0\0\0\0"), V2_BAD("v2: TLV repeated", 0) },
	{ "v2 UNIQUE_ID of 129 bytes", IN(V2_TCP4 "\x05\x00\x81"
	  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	  "!"), V2_BAD("v2: bad UNIQUE_ID TLV", 0) },
	{ "v2 empty ALPN", IN(V2_TCP4 "\x01\x00\x00"),
	  V2_BAD("v2: bad ALPN TLV", 0) },
	{ "v2 empty AUTHORITY", IN(V2_TCP4 "\x02\x00\x00"),
	  V2_BAD("v2: bad AUTHORITY TLV", 0) },
	{ "v2 AUTHORITY with a NUL", IN(V2_TCP4 "\x02\x00\x03" "a\0b"),
	  V2_BAD("v2: bad AUTHORITY TLV", 0) },
	{ "v2 AUTHORITY of 254 bytes", IN(V2_TCP4 "\x02\x00\xfe"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
	  V2_BAD("v2: bad AUTHORITY TLV", 0) },
	{ "v2 empty NETNS", IN(V2_TCP4 "\x30\x00\x00"),
	  V2_BAD("v2: bad NETNS TLV", 0) },
	{ "v2 NETNS with a newline", IN(V2_TCP4 "\x30\x00\x02" "a\n"),
	  V2_BAD("v2: bad NETNS TLV", 0) },
	{ "v2 empty AWS", IN(V2_TCP4 "\xea\x00\x00"),
	  V2_BAD("v2: bad AWS TLV", 0) },
	{ "v2 AWS VPC endpoint id empty", IN(V2_TCP4 "\xea\x00\x01" "\x01"),
	  V2_BAD("v2: bad AWS TLV", 0) },
	{ "v2 AWS VPC endpoint id not ASCII",
	  IN(V2_TCP4 "\xea\x00\x03" "\x01" "v\xff"),
	  V2_BAD("v2: bad AWS TLV", 0) },
	{ "v2 Azure link id of 3 bytes", IN(V2_TCP4 "\xee\x00\x04" "\x01\0\0\0"),
	  V2_BAD("v2: bad Azure TLV", 0) },
	{ "v2 empty Azure", IN(V2_TCP4 "\xee\x00\x00"),
	  V2_BAD("v2: bad Azure TLV", 0) },
	{ "v2 SSL without its 5-byte head", IN(V2_TCP4 "\x20\x00\x04" "\x01\0\0\0"),
	  V2_BAD("v2: bad SSL TLV", 0) },
	{ "v2 CRC32C of 3 bytes", IN(V2_TCP4 "\x03\x00\x03" "\0\0\0"),
	  V2_BAD("v2: bad CRC32C TLV", 0) },
	{ "v2 CRC32C wrong", IN(V2_TCP4 "\x03\x00\x04" "\xd4\x5a\x11\xba"),
	  V2_BAD("v2: CRC32C mismatch", 0) },
	{ "v2 CRC32C right but a later byte changed",
	  IN(SIG "\x21\x11\x00\x16" A4 "\x03\x00\x04" "\xd4\x5a\x11\xb9"
	  "\x04\x00\x00"), BAD("v2: CRC32C mismatch", 0) },

	/* Version 2: not yet whole */
	{ "v2 its first byte", IN("\r"), .pc_result = PROXYIN_NEED_MORE,
	  .pc_need = 15 },
	{ "v2 family known: its address block too", IN(SIG "\x21\x21"),
	  .pc_result = PROXYIN_NEED_MORE, .pc_need = 2 + 36 },
	{ "v2 length known: exactly the rest", IN(SIG "\x21\x11\x02\x08" A4),
	  .pc_result = PROXYIN_NEED_MORE, .pc_need = 536 - 28 },
	{ "v2 in a TLV value", IN(SIG "\x21\x11\x00\x14" A4 "\x05\x00\x05" "ab"),
	  .pc_result = PROXYIN_NEED_MORE, .pc_need = 3 },
};

#define PIN_CASES	(sizeof(pin_cases) / sizeof(pin_cases[0]))

/* pin_crc32c - CRC32c, table-driven, apart from the parser's own */
static uint32_t
pin_crc32c(const uint8_t *p, size_t len)
{
	static uint32_t	 table[256];
	uint32_t	 crc = 0xffffffffU, c;
	size_t		 i;
	int		 k;

	if (table[1] == 0)
		for (i = 0; i < 256; i++) {
			c = (uint32_t)i;
			for (k = 0; k < 8; k++)
				c = c & 1 ? (c >> 1) ^ 0x82F63B78U : c >> 1;
			table[i] = c;
		}
	for (i = 0; i < len; i++)
		crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
	return crc ^ 0xffffffffU;
}

/*
 * pin_build - a row's bytes into buf: its header (the length of which in
 * *hdr_len), then pc_after; the whole length
 */
static size_t
pin_build(const struct pin_case *pc, uint8_t *buf, size_t *hdr_len)
{
	size_t	 n = pc->pc_in_len, i, pad;
	uint32_t crc;

	memcpy(buf, pc->pc_in, n);
	for (i = 0; i < 2 && pc->pc_unix[0] != NULL; i++) {
		memset(buf + n, 0, 108);
		/* a path may start with NUL (abstract): copy up to 20 */
		memcpy(buf + n, pc->pc_unix[i], 1 + strlen(pc->pc_unix[i] +
		    (pc->pc_unix[i][0] == '\0')));
		n += 108;
	}
	if (pc->pc_pad_to > n) {
		pad = pc->pc_pad_to - n - 3;
		buf[n] = PROXYIN_TLV_NOOP;
		buf[n + 1] = (uint8_t)(pad >> 8);
		buf[n + 2] = (uint8_t)pad;
		memset(buf + n + 3, 0, pad);
		n = pc->pc_pad_to;
	}
	if (pc->pc_fix_len) {
		buf[14] = (uint8_t)((n - 16) >> 8);
		buf[15] = (uint8_t)(n - 16);
	}
	if (pc->pc_crc_at != 0) {
		memset(buf + pc->pc_crc_at, 0, 4);
		crc = pin_crc32c(buf, n);
		buf[pc->pc_crc_at] = (uint8_t)(crc >> 24);
		buf[pc->pc_crc_at + 1] = (uint8_t)(crc >> 16);
		buf[pc->pc_crc_at + 2] = (uint8_t)(crc >> 8);
		buf[pc->pc_crc_at + 3] = (uint8_t)crc;
	}
	*hdr_len = n;
	if (pc->pc_after != NULL) {
		memcpy(buf + n, pc->pc_after, strlen(pc->pc_after));
		n += strlen(pc->pc_after);
	}
	return n;
}

/* pin_addr - whether ss is the address text (or path) and port */
static int
pin_addr(const struct sockaddr_storage *ss, int family, const char *text,
    unsigned port)
{
	const struct sockaddr_in	*sin = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6	*sin6 = (const struct sockaddr_in6 *)ss;
	const struct sockaddr_un	*sun = (const struct sockaddr_un *)ss;
	char				 buf[INET6_ADDRSTRLEN];
	size_t				 len;

	if (ss->ss_family != family)
		return 0;
	switch (family) {
	case AF_INET:
		inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof(buf));
		return strcmp(buf, text) == 0 && ntohs(sin->sin_port) == port;
	case AF_INET6:
		inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof(buf));
		return strcmp(buf, text) == 0 && ntohs(sin6->sin6_port) == port;
	case AF_UNIX:
		len = 1 + strlen(text + (text[0] == '\0'));
		return memcmp(sun->sun_path, text, len) == 0 &&
		    sun->sun_path[len] == '\0';
	}
	return 0;
}

/* pin_expected - check the whole answer against the row */
static void
pin_expected(const struct pin_case *pc, enum proxyin_result r,
    const struct proxyin *px, size_t hdr_len)
{
	size_t	 tlv_len;

	TAP_OK(r == pc->pc_result, "%s: %s (%s)", pc->pc_label,
	    proxyin_result_name(pc->pc_result),
	    px->px_reason != NULL ? px->px_reason : proxyin_result_name(r));
	switch (pc->pc_result) {
	case PROXYIN_NEED_MORE:
		TAP_OK(px->px_need == pc->pc_need, "%s: needs %zu (%zu)",
		    pc->pc_label, pc->pc_need, px->px_need);
		return;
	case PROXYIN_INVALID:
		TAP_OK(px->px_reason != NULL &&
		    strcmp(px->px_reason, pc->pc_reason) == 0,
		    "%s: reason \"%s\"", pc->pc_label, pc->pc_reason);
		return;
	case PROXYIN_DONE:
		break;
	}
	TAP_OK(px->px_len == hdr_len && px->px_version == pc->pc_version &&
	    px->px_command == pc->pc_command &&
	    px->px_family == pc->pc_family &&
	    px->px_socktype == (pc->pc_family == AF_UNSPEC ? 0 : SOCK_STREAM),
	    "%s: %zu bytes, version, command, family", pc->pc_label, hdr_len);
	if (pc->pc_family == AF_UNSPEC)
		TAP_OK(px->px_src.ss_family == AF_UNSPEC &&
		    px->px_dst.ss_family == AF_UNSPEC,
		    "%s: no address", pc->pc_label);
	else
		TAP_OK(pin_addr(&px->px_src, pc->pc_family, pc->pc_src,
		    pc->pc_sport) && pin_addr(&px->px_dst, pc->pc_family,
		    pc->pc_dst, pc->pc_dport), "%s: addresses", pc->pc_label);
	TAP_OK(px->px_tlvs_len == pc->pc_tlvs_len && (pc->pc_tlvs_len == 0 ||
	    memcmp(px->px_tlvs, pc->pc_tlvs, pc->pc_tlvs_len) == 0),
	    "%s: kept TLVs", pc->pc_label);
	if (pc->pc_tlvs_len > 0)
		TAP_OK(proxyin_tlv(px, (uint8_t)pc->pc_tlvs[0], &tlv_len) ==
		    px->px_tlvs + 3 && tlv_len == ((size_t)(uint8_t)
		    pc->pc_tlvs[1] << 8 | (uint8_t)pc->pc_tlvs[2]) &&
		    proxyin_tlv(px, 0x99, &tlv_len) == NULL && tlv_len == 0,
		    "%s: proxyin_tlv finds the first", pc->pc_label);
}

/*
 * pin_prefixes - each prefix alone: need-more (not overshooting the
 * header) until the answer, which comes at pc_decided bytes for an
 * invalid row and at the header's end for a done one
 */
static void
pin_prefixes(const struct pin_case *pc, const uint8_t *buf, size_t len,
    size_t hdr_len, const struct proxyin *whole)
{
	static struct proxyin px;
	struct proxyin_walk pw;
	enum proxyin_result r;
	size_t		 n, first = len + 1, bad = 0;

	for (n = 0; n <= len; n++) {
		memset(&pw, 0, sizeof(pw));
		r = proxyin_same_call(buf, n, &pw, &px);
		if (r == PROXYIN_NEED_MORE) {
			if (px.px_need == 0 || (pc->pc_result == PROXYIN_DONE &&
			    px.px_need > hdr_len - n))
				bad++;
			continue;
		}
		if (first > len)
			first = n;
		if (r != pc->pc_result || !proxyin_same(&px, whole))
			bad++;
	}
	TAP_OK(bad == 0, "%s: every prefix needs more or answers the same",
	    pc->pc_label);
	if (pc->pc_result == PROXYIN_DONE)
		TAP_OK(first == hdr_len, "%s: done at %zu bytes (%zu)",
		    pc->pc_label, hdr_len, first);
	/* a TLV's contents are judged once the header is whole */
	if (pc->pc_result == PROXYIN_INVALID)
		TAP_OK(first == (pc->pc_decided ? pc->pc_decided : hdr_len),
		    "%s: decided at %zu bytes (%zu)", pc->pc_label,
		    pc->pc_decided ? pc->pc_decided : hdr_len, first);
}

/*
 * pin_split - resume over buf cut at the ends given (ascending, the last
 * len); 0 unless the answer or a field differs from the whole, an answer
 * comes early, or the calls examine other than the whole did
 */
static int
pin_split(const uint8_t *buf, const size_t *ends, size_t nends,
    const struct proxyin *whole, enum proxyin_result want)
{
	static struct proxyin px;
	struct proxyin_walk pw;
	enum proxyin_result r = PROXYIN_NEED_MORE;
	size_t		 i, examined = 0;

	memset(&pw, 0, sizeof(pw));
	for (i = 0; i < nends; i++) {
		r = proxyin_same_call(buf, ends[i], &pw, &px);
		examined += px.px_examined;
		if (r != PROXYIN_NEED_MORE)
			break;
	}
	return r == want && proxyin_same(&px, whole) &&
	    examined == whole->px_examined;
}

/* pin_splits - the property: one byte per call, every cut in two, random */
static void
pin_splits(const struct pin_case *pc, const uint8_t *buf, size_t len,
    const struct proxyin *whole)
{
	size_t		 ends[BUF_MAX + 1], n, k, i, bad = 0;
	uint32_t	 seed = 2654435761U * (uint32_t)(len + 1);

	for (n = 0; n <= len; n++)
		ends[n] = n;
	if (!pin_split(buf, ends, len + 1, whole, pc->pc_result))
		bad++;
	for (k = 0; k <= len; k++) {
		ends[0] = k;
		ends[1] = len;
		if (!pin_split(buf, ends, 2, whole, pc->pc_result))
			bad++;
	}
	for (i = 0; i < 50; i++) {
		n = 0;
		ends[n] = 0;
		while (ends[n] < len) {
			seed = seed * 1103515245U + 12345U;
			ends[n + 1] = ends[n] + (seed >> 8) % 9;
			if (ends[n + 1] > len)
				ends[n + 1] = len;
			n++;
		}
		if (!pin_split(buf, ends, n + 1, whole, pc->pc_result))
			bad++;
	}
	TAP_OK(bad == 0, "%s: the same answer in every split (%zu differ)",
	    pc->pc_label, bad);
}

/* pin_again - a walk that answered answers the same again */
static void
pin_again(const struct pin_case *pc, const uint8_t *buf, size_t len,
    const struct proxyin *whole)
{
	static struct proxyin px;
	struct proxyin_walk pw;
	enum proxyin_result r;

	memset(&pw, 0, sizeof(pw));
	(void)proxyin_same_call(buf, len, &pw, &px);
	r = proxyin_same_call(buf, len, &pw, &px);
	TAP_OK(r == pc->pc_result && proxyin_same(&px, whole) &&
	    (r == PROXYIN_DONE || px.px_examined == 0),
	    "%s: asked again, the same answer", pc->pc_label);
}

/* pin_broken_promise - fewer bytes than the walk saw ask for them back */
static void
pin_broken_promise(void)
{
	static struct proxyin px;
	struct proxyin_walk pw;
	const uint8_t	*line = (const uint8_t *)V1_LINE4;

	memset(&pw, 0, sizeof(pw));
	(void)proxyin_resume(line, 20, &pw, &px);
	TAP_OK(proxyin_resume(line, 10, &pw, &px) == PROXYIN_NEED_MORE &&
	    px.px_need >= 10 && px.px_examined == 0,
	    "fewer bytes than walked: need more, nothing walked");
	TAP_OK(proxyin_resume(line, strlen(V1_LINE4), &pw, &px) ==
	    PROXYIN_DONE && px.px_len == strlen(V1_LINE4),
	    "then all of them: done");
}

int
main(void)
{
	static uint8_t	 buf[BUF_MAX];
	static struct proxyin whole;
	const struct pin_case *pc;
	enum proxyin_result r;
	size_t		 i, len, hdr_len;

	for (i = 0; i < PIN_CASES; i++) {
		pc = &pin_cases[i];
		len = pin_build(pc, buf, &hdr_len);
		r = proxyin_parse(buf, len, &whole);
		pin_expected(pc, r, &whole, hdr_len);
		pin_prefixes(pc, buf, len, hdr_len, &whole);
		pin_splits(pc, buf, len, &whole);
		pin_again(pc, buf, len, &whole);
	}
	pin_broken_promise();
	TAP_OK(strcmp(proxyin_result_name(PROXYIN_DONE), "done") == 0 &&
	    strcmp(proxyin_result_name(PROXYIN_NEED_MORE), "need-more") == 0 &&
	    strcmp(proxyin_result_name(PROXYIN_INVALID), "invalid") == 0,
	    "result names");
	TAP_OK(sizeof(struct proxyin_walk) <= 24,
	    "a walk is small (%zu bytes)", sizeof(struct proxyin_walk));
	return TAP_DONE();
}
