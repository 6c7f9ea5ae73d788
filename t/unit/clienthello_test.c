/*
 * clienthello_test.c - hello_parse against a table of ClientHellos.
 *
 * Each row is a label, the hello (written in the notation below, or
 * assembled from parts by build_hello), the expected result and the
 * expected fields.  Every row is also fed to hello_parse one prefix at a
 * time, as a slow client would send it, from a buffer of exactly that
 * size so that AddressSanitizer sees any read past the bytes given, and
 * to hello_resume one byte more per call through one walk, which must
 * answer as the whole parse does and examine each byte once.  The
 * resume table (resume_cases) spells out the steps of a few walks: what
 * each call answers, needs and examines.
 *
 * The notation, close to RFC 8446's presentation language:
 *
 *	16 0301		hex bytes; spaces are ignored
 *	aa*32		a byte repeated
 *	'example.org'	ASCII text
 *	[ ... ]		a vector with a u8 length
 *	{ ... }		a vector with a u16 length
 *	< ... >		a vector with a u24 length
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "clienthello.h"
#include "tap.h"

#define NOTE_MAX	(HELLO_WIRE_MAX + 4096)
#define NOTE_DEPTH	16

/* The body of a ClientHello up to its extensions block */
#define HEAD	"0303 aa*32 [ ] { 1301 1302 c02f } [ 00 ] "
#define SNI(name)	"0000 { { 00 { " name " } } } "
#define ALPN(names)	"0010 { { " names " } } "
#define ECH	"fe0d { 00 0001 0001 07 { 'enc' } { 'payload' } } "
#define VERSIONS	"002b { [ 0304 0303 ] } "
#define GROUPS		"000a { { 001d 0017 } } "
#define H2_HTTP11	"[ 'h2' ] [ 'http/1.1' ]"

struct hello_case {
	const char	*hc_label;
	const char	*hc_wire;	/* the whole input; NULL: built from */
	const char	*hc_head;	/* body before the extensions; NULL: HEAD */
	const char	*hc_exts;	/* extensions in the block; NULL: none */
	size_t		 hc_pad_to;	/* padding extension making the message this long */
	const char	*hc_after;	/* body bytes after the extensions block */
	size_t		 hc_frag[3];	/* record sizes, the last repeating; {0}: one */
	const char	*hc_tail;	/* bytes after the message in its record(s) */
	const char	*hc_next;	/* bytes after the records */
	enum hello_result hc_result;
	const char	*hc_name;	/* expected host_name; NULL: none */
	const char	*hc_alpn;	/* expected ALPN list body; NULL: none */
	int		 hc_ech;
	size_t		 hc_records;	/* expected records; 0: as built */
	size_t		 hc_wire_len;	/* expected for hc_wire rows */
	size_t		 hc_decided;	/* bytes that decide the error; 0: any */
	size_t		 hc_need;	/* expected hl_need of need-more rows */
};

static const struct hello_case hello_cases[] = {
	/* Hellos that route */
	{ .hc_label = "minimal hello with SNI",
	  .hc_exts = SNI("'example.org'"),
	  .hc_result = HELLO_COMPLETE, .hc_name = "'example.org'" },
	{ .hc_label = "TLS 1.3 shape: groups, SNI, versions",
	  .hc_exts = GROUPS SNI("'www.example.org'") VERSIONS,
	  .hc_result = HELLO_COMPLETE, .hc_name = "'www.example.org'" },
	{ .hc_label = "no extensions block",
	  .hc_result = HELLO_COMPLETE },
	{ .hc_label = "empty extensions block (RFC 5246 allows it)",
	  .hc_exts = "",
	  .hc_result = HELLO_COMPLETE },
	{ .hc_label = "one empty extension (extended_master_secret)",
	  .hc_exts = "0017 { }",
	  .hc_result = HELLO_COMPLETE },
	{ .hc_label = "extensions but no SNI",
	  .hc_exts = GROUPS VERSIONS "0017 { }",
	  .hc_result = HELLO_COMPLETE },
	{ .hc_label = "SNI and ALPN",
	  .hc_exts = SNI("'example.org'") ALPN(H2_HTTP11),
	  .hc_result = HELLO_COMPLETE, .hc_name = "'example.org'",
	  .hc_alpn = H2_HTTP11 },
	{ .hc_label = "ALPN before SNI, one protocol",
	  .hc_exts = ALPN("[ 'acme-tls/1' ]") SNI("'a.example'"),
	  .hc_result = HELLO_COMPLETE, .hc_name = "'a.example'",
	  .hc_alpn = "[ 'acme-tls/1' ]" },
	{ .hc_label = "ECH with outer SNI",
	  .hc_exts = SNI("'public.example'") ECH,
	  .hc_result = HELLO_COMPLETE, .hc_name = "'public.example'",
	  .hc_ech = 1 },
	{ .hc_label = "ECH alone",
	  .hc_exts = ECH,
	  .hc_result = HELLO_COMPLETE, .hc_ech = 1 },
	{ .hc_label = "empty ECH extension still flags ECH",
	  .hc_exts = "fe0d { }",
	  .hc_result = HELLO_COMPLETE, .hc_ech = 1 },
	{ .hc_label = "session id of 32 bytes",
	  .hc_head = "0303 aa*32 [ 55*32 ] { 1301 } [ 00 ]",
	  .hc_exts = SNI("'example.org'"),
	  .hc_result = HELLO_COMPLETE, .hc_name = "'example.org'" },
	{ .hc_label = "legacy_version 0x0301 is not judged",
	  .hc_head = "0301 aa*32 [ ] { 002f } [ 00 ]",
	  .hc_exts = SNI("'example.org'"),
	  .hc_result = HELLO_COMPLETE, .hc_name = "'example.org'" },
	{ .hc_label = "repeated unknown extension is left to the backend",
	  .hc_exts = "0017 { } 0017 { }" SNI("'example.org'"),
	  .hc_result = HELLO_COMPLETE, .hc_name = "'example.org'" },

	/* Split over records */
	{ .hc_label = "split into 2 records",
	  .hc_exts = SNI("'example.org'") ALPN(H2_HTTP11), .hc_frag = { 60 },
	  .hc_result = HELLO_COMPLETE, .hc_name = "'example.org'",
	  .hc_alpn = H2_HTTP11, .hc_records = 2 },
	{ .hc_label = "split into 3 records",
	  .hc_exts = SNI("'example.org'") ALPN(H2_HTTP11), .hc_frag = { 2, 60 },
	  .hc_result = HELLO_COMPLETE, .hc_name = "'example.org'",
	  .hc_alpn = H2_HTTP11, .hc_records = 3 },
	{ .hc_label = "handshake header split 1+3",
	  .hc_exts = SNI("'example.org'"), .hc_frag = { 1, 3, 1000 },
	  .hc_result = HELLO_COMPLETE, .hc_name = "'example.org'",
	  .hc_records = 3 },
	{ .hc_label = "1-byte records",
	  .hc_exts = SNI("'example.org'") ALPN(H2_HTTP11), .hc_frag = { 1 },
	  .hc_result = HELLO_COMPLETE, .hc_name = "'example.org'",
	  .hc_alpn = H2_HTTP11 },
	{ .hc_label = "7-byte records",
	  .hc_exts = SNI("'example.org'") ECH, .hc_frag = { 7 },
	  .hc_result = HELLO_COMPLETE, .hc_name = "'example.org'",
	  .hc_ech = 1 },
	{ .hc_label = "16 KB padded hello in 2 records",
	  .hc_exts = SNI("'big.example'"), .hc_pad_to = 16000,
	  .hc_frag = { 8192 },
	  .hc_result = HELLO_COMPLETE, .hc_name = "'big.example'",
	  .hc_records = 2 },
	{ .hc_label = "message of HELLO_MSG_MAX in one record",
	  .hc_exts = SNI("'max.example'"), .hc_pad_to = HELLO_MSG_MAX,
	  .hc_result = HELLO_COMPLETE, .hc_name = "'max.example'",
	  .hc_records = 1 },
	{ .hc_label = "message of HELLO_MSG_MAX in 2 records",
	  .hc_exts = SNI("'max.example'"), .hc_pad_to = HELLO_MSG_MAX,
	  .hc_frag = { 10000 },
	  .hc_result = HELLO_COMPLETE, .hc_name = "'max.example'",
	  .hc_records = 2 },
	{ .hc_label = "message of HELLO_MSG_MAX + 1 in 2 records",
	  .hc_exts = SNI("'max.example'"), .hc_pad_to = HELLO_MSG_MAX + 1,
	  .hc_frag = { 10000 },
	  .hc_result = HELLO_MALFORMED, .hc_decided = 5 + 4 },
	{ .hc_label = "message of HELLO_MSG_MAX + 1 in one record",
	  .hc_exts = SNI("'max.example'"), .hc_pad_to = HELLO_MSG_MAX + 1,
	  .hc_result = HELLO_MALFORMED,
	  .hc_decided = 5 },
	{ .hc_label = "HELLO_RECORDS_MAX 1-byte records",
	  .hc_exts = SNI("'many.example'"), .hc_pad_to = HELLO_RECORDS_MAX,
	  .hc_frag = { 1 },
	  .hc_result = HELLO_COMPLETE, .hc_name = "'many.example'",
	  .hc_records = HELLO_RECORDS_MAX },
	{ .hc_label = "HELLO_RECORDS_MAX + 1 records",
	  .hc_exts = SNI("'many.example'"), .hc_pad_to = HELLO_RECORDS_MAX + 1,
	  .hc_frag = { 1 },
	  .hc_result = HELLO_MALFORMED, .hc_decided = HELLO_RECORDS_MAX * 6 },
	{ .hc_label = "last record goes on after the message",
	  .hc_exts = SNI("'example.org'"), .hc_tail = "0e 000000",
	  .hc_result = HELLO_COMPLETE, .hc_name = "'example.org'" },
	{ .hc_label = "last of several records goes on after the message",
	  .hc_exts = SNI("'example.org'"), .hc_frag = { 40 },
	  .hc_tail = "0e 000000",
	  .hc_result = HELLO_COMPLETE, .hc_name = "'example.org'",
	  .hc_records = 2 },
	{ .hc_label = "record after the message (change_cipher_spec)",
	  .hc_exts = SNI("'example.org'"), .hc_next = "14 0303 { 01 }",
	  .hc_result = HELLO_COMPLETE, .hc_name = "'example.org'" },
	{ .hc_label = "record after a split message (application data)",
	  .hc_exts = SNI("'example.org'"), .hc_frag = { 30 },
	  .hc_next = "17 0303 { 'early' }",
	  .hc_result = HELLO_COMPLETE, .hc_name = "'example.org'" },

	/* Not TLS, or TLS we do not want */
	{ .hc_label = "no bytes yet: a record and a handshake header",
	  .hc_wire = "",
	  .hc_result = HELLO_NEED_MORE, .hc_need = 5 + 4 },
	{ .hc_label = "one handshake byte", .hc_wire = "16",
	  .hc_result = HELLO_NEED_MORE, .hc_need = 4 + 4 },
	{ .hc_label = "one application-data byte: its version decides",
	  .hc_wire = "17",
	  .hc_result = HELLO_NEED_MORE, .hc_need = 1 },
	{ .hc_label = "SSLv2-compatible hello",
	  .hc_wire = "80 2e 01 0301 0015 0000 0010 000039 000038 000035"
	      " 000016 000013 00000a 0000ff aa*16",
	  .hc_result = HELLO_NOT_TLS,
	  .hc_decided = 1 },
	{ .hc_label = "HTTP request", .hc_wire = "'GET / HTTP/1.1' 0d0a",
	  .hc_result = HELLO_NOT_TLS,
	  .hc_decided = 1 },
	{ .hc_label = "SSH banner", .hc_wire = "'SSH-2.0-OpenSSH_9.2' 0d0a",
	  .hc_result = HELLO_NOT_TLS },
	{ .hc_label = "NUL byte", .hc_wire = "00",
	  .hc_result = HELLO_NOT_TLS },
	{ .hc_label = "0x17 then not version 3", .hc_wire = "17 0d0a",
	  .hc_result = HELLO_NOT_TLS,
	  .hc_decided = 2 },
	{ .hc_label = "record version major 2",
	  .hc_wire = "16 0200 { 01 < " HEAD " > }",
	  .hc_result = HELLO_NOT_TLS,
	  .hc_decided = 2 },
	{ .hc_label = "application-data record",
	  .hc_wire = "17 0303 { 'data' }",
	  .hc_result = HELLO_UNEXPECTED,
	  .hc_decided = 2 },
	{ .hc_label = "alert record", .hc_wire = "15 0303 { 02 28 }",
	  .hc_result = HELLO_UNEXPECTED },
	{ .hc_label = "change_cipher_spec record", .hc_wire = "14 0303",
	  .hc_result = HELLO_UNEXPECTED },
	{ .hc_label = "heartbeat record", .hc_wire = "18 0302",
	  .hc_result = HELLO_UNEXPECTED },
	{ .hc_label = "handshake type 2 (server_hello)",
	  .hc_wire = "16 0303 { 02 < " HEAD " > }",
	  .hc_result = HELLO_UNEXPECTED,
	  .hc_decided = 6 },
	{ .hc_label = "handshake type 0 decided on its first byte",
	  .hc_wire = "16 0301 { 00 }",
	  .hc_result = HELLO_UNEXPECTED,
	  .hc_decided = 6 },

	/* Broken records and handshake headers */
	{ .hc_label = "record length 0", .hc_wire = "16 0301 0000",
	  .hc_result = HELLO_MALFORMED,
	  .hc_decided = 5 },
	{ .hc_label = "record length 16385", .hc_wire = "16 0301 4001 01",
	  .hc_result = HELLO_MALFORMED,
	  .hc_decided = 5 },
	{ .hc_label = "second record is application data",
	  .hc_wire = "16 0301 { 01 00 } 17 0303 { 00 }",
	  .hc_result = HELLO_MALFORMED,
	  .hc_decided = 8 },
	{ .hc_label = "second record version major 2",
	  .hc_wire = "16 0301 { 01 00 } 16 0200 { 00 }",
	  .hc_result = HELLO_MALFORMED,
	  .hc_decided = 9 },
	{ .hc_label = "second record length 0",
	  .hc_wire = "16 0301 { 01 00 } 16 0301 0000",
	  .hc_result = HELLO_MALFORMED,
	  .hc_decided = 12 },
	{ .hc_label = "handshake length 16381 refused from its header",
	  .hc_wire = "16 0301 { 01 003ffd }",
	  .hc_result = HELLO_MALFORMED,
	  .hc_decided = 9 },
	{ .hc_label = "handshake length 16380 waits for another record",
	  .hc_wire = "16 0301 { 01 003ffc }",
	  .hc_result = HELLO_NEED_MORE, .hc_need = 5 + 16380 },
	{ .hc_label = "hello ending in a record not yet whole",
	  .hc_wire = "16 0301 0100 01 00002c 0303",
	  .hc_result = HELLO_NEED_MORE, .hc_need = 42 },
	{ .hc_label = "hello going on past a record not yet whole",
	  .hc_wire = "16 0301 0010 01 00002c 0303",
	  .hc_result = HELLO_NEED_MORE, .hc_need = 10 + 5 + 32 },
	{ .hc_label = "empty ClientHello body", .hc_wire = "16 0301 { 01 < > }",
	  .hc_result = HELLO_MALFORMED,
	  .hc_decided = 9 },

	/* Broken bodies */
	{ .hc_label = "body ends in random",
	  .hc_head = "0303 aa*31", .hc_result = HELLO_MALFORMED },
	{ .hc_label = "session id of 33 bytes",
	  .hc_head = "0303 aa*32 [ 55*33 ] { 1301 } [ 00 ]",
	  .hc_exts = SNI("'example.org'"), .hc_result = HELLO_MALFORMED },
	{ .hc_label = "odd cipher_suites length",
	  .hc_head = "0303 aa*32 [ ] { 1301 13 } [ 00 ]",
	  .hc_exts = SNI("'example.org'"), .hc_result = HELLO_MALFORMED },
	{ .hc_label = "empty cipher_suites",
	  .hc_head = "0303 aa*32 [ ] { } [ 00 ]",
	  .hc_exts = SNI("'example.org'"), .hc_result = HELLO_MALFORMED },
	{ .hc_label = "empty compression list",
	  .hc_head = "0303 aa*32 [ ] { 1301 } [ ]",
	  .hc_exts = SNI("'example.org'"), .hc_result = HELLO_MALFORMED },
	{ .hc_label = "one byte after the compression list",
	  .hc_head = HEAD "00", .hc_result = HELLO_MALFORMED },
	{ .hc_label = "extensions block shorter than declared",
	  .hc_head = HEAD "0040" SNI("'example.org'"),
	  .hc_result = HELLO_MALFORMED },
	{ .hc_label = "extension overruns the block",
	  .hc_exts = SNI("'example.org'") "0017 0010 00",
	  .hc_result = HELLO_MALFORMED },
	{ .hc_label = "extension header cut in the block",
	  .hc_exts = SNI("'example.org'") "00",
	  .hc_result = HELLO_MALFORMED },
	{ .hc_label = "trailing garbage after the extensions",
	  .hc_exts = SNI("'example.org'"), .hc_after = "00",
	  .hc_result = HELLO_MALFORMED,
	  .hc_decided = 5 + 4 + 45 + 2 + 20 + 1 },

	/* server_name */
	{ .hc_label = "duplicate server_name extension",
	  .hc_exts = SNI("'a.example'") SNI("'b.example'"),
	  .hc_result = HELLO_MALFORMED },
	{ .hc_label = "duplicate server_name extension, same name",
	  .hc_exts = SNI("'a.example'") "0017 { }" SNI("'a.example'"),
	  .hc_result = HELLO_MALFORMED },
	{ .hc_label = "other name type before host_name",
	  .hc_exts = "0000 { { 01 { 'other' } 00 { 'example.org' } } }",
	  .hc_result = HELLO_COMPLETE, .hc_name = "'example.org'" },
	{ .hc_label = "other name type after host_name",
	  .hc_exts = "0000 { { 00 { 'example.org' } 07 { 'x' } } }",
	  .hc_result = HELLO_COMPLETE, .hc_name = "'example.org'" },
	{ .hc_label = "other name type only",
	  .hc_exts = "0000 { { 01 { 'other' } } }",
	  .hc_result = HELLO_COMPLETE },
	{ .hc_label = "two host_name entries",
	  .hc_exts = "0000 { { 00 { 'a.example' } 00 { 'b.example' } } }",
	  .hc_result = HELLO_MALFORMED },
	{ .hc_label = "empty host_name",
	  .hc_exts = SNI(""), .hc_result = HELLO_MALFORMED },
	{ .hc_label = "empty server_name list",
	  .hc_exts = "0000 { { } }", .hc_result = HELLO_MALFORMED },
	{ .hc_label = "empty server_name extension (a ServerHello's)",
	  .hc_exts = "0000 { }", .hc_result = HELLO_MALFORMED },
	{ .hc_label = "server_name list shorter than the extension",
	  .hc_exts = "0000 { { 00 { 'example.org' } } 00 }",
	  .hc_result = HELLO_MALFORMED },
	{ .hc_label = "server_name list longer than the extension",
	  .hc_exts = "0000 { 0010 00 { 'example.org' } }",
	  .hc_result = HELLO_MALFORMED },
	{ .hc_label = "host_name overruns the list",
	  .hc_exts = "0000 { { 00 000c 'example.org' } }",
	  .hc_result = HELLO_MALFORMED },
	{ .hc_label = "name type without a name",
	  .hc_exts = "0000 { { 00 } }", .hc_result = HELLO_MALFORMED },
	{ .hc_label = "name with a NUL byte is returned raw",
	  .hc_exts = SNI("'evil' 00 '.example'"),
	  .hc_result = HELLO_COMPLETE, .hc_name = "'evil' 00 '.example'" },
	{ .hc_label = "300-byte name is returned raw",
	  .hc_exts = SNI("61*300"),
	  .hc_result = HELLO_COMPLETE, .hc_name = "61*300" },
	{ .hc_label = "uppercase name with trailing dot is returned raw",
	  .hc_exts = SNI("'WWW.Example.ORG.'"),
	  .hc_result = HELLO_COMPLETE, .hc_name = "'WWW.Example.ORG.'" },
	{ .hc_label = "IP literal is returned raw",
	  .hc_exts = SNI("'192.0.2.1'"),
	  .hc_result = HELLO_COMPLETE, .hc_name = "'192.0.2.1'" },

	/* ALPN and ECH */
	{ .hc_label = "duplicate ALPN extension",
	  .hc_exts = ALPN("[ 'h2' ]") SNI("'example.org'") ALPN("[ 'h2' ]"),
	  .hc_result = HELLO_MALFORMED },
	{ .hc_label = "empty protocol name",
	  .hc_exts = ALPN("[ 'h2' ] [ ]"), .hc_result = HELLO_MALFORMED },
	{ .hc_label = "empty protocol list",
	  .hc_exts = ALPN(""), .hc_result = HELLO_MALFORMED },
	{ .hc_label = "empty ALPN extension",
	  .hc_exts = "0010 { }", .hc_result = HELLO_MALFORMED },
	{ .hc_label = "protocol name overruns the list",
	  .hc_exts = ALPN("[ 'h2' ] 09 'http/1.1'"),
	  .hc_result = HELLO_MALFORMED },
	{ .hc_label = "protocol list shorter than the extension",
	  .hc_exts = "0010 { { [ 'h2' ] } 00 }", .hc_result = HELLO_MALFORMED },
	{ .hc_label = "duplicate ECH extension",
	  .hc_exts = ECH ECH, .hc_result = HELLO_MALFORMED },
};

/* note_fail - a row the notation cannot express is a bug in the test */
static void
note_fail(const char *why, const char *s)
{
	fprintf(stderr, "clienthello_test: notation: %s at \"%.20s\"\n",
	    why, s);
	exit(2);
}

/* note_hex - the value of one hex digit, or -1 */
static int
note_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* note_width - the length width a vector bracket stands for, or 0 */
static size_t
note_width(char c)
{
	switch (c) {
	case '[': case ']':
		return 1;
	case '{': case '}':
		return 2;
	case '<': case '>':
		return 3;
	}
	return 0;
}

/* note_bytes - turn the notation in s into bytes at out; returns the count */
static size_t
note_bytes(const char *s, uint8_t *out, size_t size)
{
	size_t	 n = 0, depth = 0, start[NOTE_DEPTH], width[NOTE_DEPTH];
	size_t	 w, len, count, i;
	int	 hi, lo;
	char	*end;

	while (*s != '\0') {
		if (*s == ' ') {
			s++;
		} else if (*s == '{' || *s == '[' || *s == '<') {
			if (depth == NOTE_DEPTH || n + 3 > size)
				note_fail("too deep or too long", s);
			width[depth] = note_width(*s++);
			start[depth++] = n;
			n += width[depth - 1];
		} else if ((w = note_width(*s)) != 0) {
			if (depth == 0 || width[--depth] != w)
				note_fail("unbalanced", s);
			len = n - start[depth] - w;
			if (len >> (8 * w) != 0)
				note_fail("vector too long", s);
			for (i = 0; i < w; i++)
				out[start[depth] + i] =
				    len >> (8 * (w - 1 - i));
			s++;
		} else if (*s == '\'') {
			for (s++; *s != '\'' && *s != '\0'; s++) {
				if (n == size)
					note_fail("too long", s);
				out[n++] = *s;
			}
			if (*s++ != '\'')
				note_fail("unterminated text", s);
		} else {
			if ((hi = note_hex(s[0])) == -1 ||
			    (lo = note_hex(s[1])) == -1)
				note_fail("bad hex", s);
			s += 2;
			count = 1;
			if (*s == '*')
				count = strtoul(s + 1, &end, 10), s = end;
			if (count > size - n)
				note_fail("too long", s);
			memset(out + n, hi << 4 | lo, count);
			n += count;
		}
	}
	if (depth != 0)
		note_fail("unclosed vector", s);
	return n;
}

/* The bytes of one row, and what the row should parse to */
struct built {
	uint8_t	 bt_wire[NOTE_MAX];
	size_t	 bt_len;
	size_t	 bt_wire_len;	/* offset just past the message */
	size_t	 bt_records;	/* records carrying message bytes */
};

/* build_put16 - append a big-endian uint16 */
static size_t
build_put16(uint8_t *p, size_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
	return 2;
}

/*
 * build_body - the ClientHello body of a row: head, the extensions block
 * with the padding extension (RFC 7685, type 21) sized so that the whole
 * message is hc_pad_to bytes, then hc_after.
 */
static size_t
build_body(const struct hello_case *hc, uint8_t *body)
{
	static uint8_t	 exts[NOTE_MAX], after[NOTE_MAX];
	size_t		 n, elen = 0, alen = 0, pad;

	n = note_bytes(hc->hc_head ? hc->hc_head : HEAD, body, NOTE_MAX);
	if (hc->hc_after != NULL)
		alen = note_bytes(hc->hc_after, after, sizeof(after));
	if (hc->hc_exts != NULL || hc->hc_pad_to != 0) {
		if (hc->hc_exts != NULL)
			elen = note_bytes(hc->hc_exts, exts, sizeof(exts));
		if (hc->hc_pad_to != 0) {
			pad = hc->hc_pad_to - (4 + n + 2 + elen + 4 + alen);
			elen += build_put16(exts + elen, 21);
			elen += build_put16(exts + elen, pad);
			memset(exts + elen, 0, pad);
			elen += pad;
		}
		n += build_put16(body + n, elen);
		memcpy(body + n, exts, elen);
		n += elen;
	}
	memcpy(body + n, after, alen);
	return n + alen;
}

/*
 * build_hello - the wire bytes of a row: the client_hello message and
 * hc_tail cut into handshake records of hc_frag bytes, then hc_next.
 */
static void
build_hello(const struct hello_case *hc, struct built *bt)
{
	static uint8_t	 stream[NOTE_MAX];
	size_t		 blen, mlen, slen, off = 0, frag, nfrag = 0;
	uint8_t		*w = bt->bt_wire;

	if (hc->hc_wire != NULL) {
		bt->bt_len = note_bytes(hc->hc_wire, w, sizeof(bt->bt_wire));
		bt->bt_wire_len = hc->hc_wire_len;
		bt->bt_records = hc->hc_records;
		return;
	}
	blen = build_body(hc, stream + 4);
	stream[0] = 1;
	stream[1] = blen >> 16;
	stream[2] = blen >> 8;
	stream[3] = blen;
	mlen = 4 + blen;
	slen = mlen;
	if (hc->hc_tail != NULL)
		slen += note_bytes(hc->hc_tail, stream + mlen, NOTE_MAX - mlen);
	bt->bt_len = 0;
	bt->bt_records = 0;
	while (off < slen) {
		frag = hc->hc_frag[nfrag];
		if (nfrag < 2 && hc->hc_frag[nfrag + 1] != 0)
			nfrag++;
		if (frag == 0 || frag > slen - off)
			frag = slen - off;
		w[bt->bt_len++] = 0x16;
		w[bt->bt_len++] = 0x03;
		w[bt->bt_len++] = 0x01;
		bt->bt_len += build_put16(w + bt->bt_len, frag);
		if (off < mlen) {
			bt->bt_records++;
			if (off + frag >= mlen)
				bt->bt_wire_len = bt->bt_len + mlen - off;
		}
		memcpy(w + bt->bt_len, stream + off, frag);
		bt->bt_len += frag;
		off += frag;
	}
	if (hc->hc_next != NULL)
		bt->bt_len += note_bytes(hc->hc_next, w + bt->bt_len,
		    sizeof(bt->bt_wire) - bt->bt_len);
	if (hc->hc_records != 0 && hc->hc_records != bt->bt_records)
		note_fail("row expects other records than it builds",
		    hc->hc_label);
}

/*
 * Walks resumed step by step: the wire, then for each call the bytes
 * given so far, the answer, hl_need and hl_examined.  Record and
 * handshake headers are walked as they come, fragments skipped by their
 * length, and the body parsed once when whole: a step examines the bytes
 * new since the last, plus the message's when it completes.
 */
#define RESUME_BODY	"0303 aa*32 [ ] { 1301 } [ 00 ]"	/* 41 bytes */

static const struct resume_case {
	const char	*rc_label;
	const char	*rc_wire;
	struct resume_step {
		size_t		 rs_len;	/* 0 ends the steps */
		enum hello_result rs_result;
		size_t		 rs_need;
		size_t		 rs_examined;
		size_t		 rs_records;	/* of a complete answer */
	}		 rc_steps[6];
} resume_cases[] = {
	{ "one record, cut in its header and its body",
	  "16 0303 { 01 < " RESUME_BODY " > }",
	  { { 3, HELLO_NEED_MORE, 2 + 4, 3, 0 },
	    { 7, HELLO_NEED_MORE, 2, 4, 0 },
	    { 30, HELLO_NEED_MORE, 20, 23, 0 },
	    { 50, HELLO_COMPLETE, 0, 20 + 45, 1 },
	    /* asked again: its fields are found again, from the first byte */
	    { 50, HELLO_COMPLETE, 0, 50 + 45, 1 } } },
	{ "two records, the handshake header split between them",
	  "16 0303 0002 01 00 16 0303 { 0029 " RESUME_BODY " }",
	  { { 7, HELLO_NEED_MORE, 5 + 2, 7, 0 },
	    { 12, HELLO_NEED_MORE, 2, 5, 0 },
	    { 13, HELLO_NEED_MORE, 1, 1, 0 },
	    { 55, HELLO_COMPLETE, 0, 42 + 45, 2 } } },
	{ "a record ends before the message: another header needed",
	  "16 0303 0010 01 000029 0303 aa*10 16 0303 001d aa*22 [ ] "
	  "{ 1301 } [ 00 ]",
	  { { 12, HELLO_NEED_MORE, 9 + 5 + 29, 12, 0 },
	    { 21, HELLO_NEED_MORE, 5 + 29, 9, 0 },
	    { 24, HELLO_NEED_MORE, 2 + 29, 3, 0 },
	    { 55, HELLO_COMPLETE, 0, 31 + 45, 2 } } },
	{ "not TLS on the first byte; asked again, not looked at",
	  "'GET / HTTP/1.1' 0d0a",
	  { { 1, HELLO_NOT_TLS, 0, 1, 0 },
	    { 16, HELLO_NOT_TLS, 0, 0, 0 } } },
	{ "malformed on the second record's type; asked again, not looked at",
	  "16 0301 { 01 00 } 17 0303 { 00 }",
	  { { 6, HELLO_NEED_MORE, 3 + 5, 6, 0 },
	    { 8, HELLO_MALFORMED, 0, 2, 0 },
	    { 13, HELLO_MALFORMED, 0, 0, 0 } } },
	{ "message too long for us, from its header",
	  "16 0301 { 01 003ffd }",
	  { { 2, HELLO_NEED_MORE, 3 + 4, 2, 0 },
	    { 9, HELLO_MALFORMED, 0, 7, 0 } } },
};

/* test_resume - the rows of resume_cases, each step from its own copy */
static void
test_resume(void)
{
	static uint8_t		 wire[NOTE_MAX];
	static struct hello	 hl;
	const struct resume_case *rc;
	const struct resume_step *rs;
	struct hello_walk	 hw;
	enum hello_result	 r;
	uint8_t			*copy;
	size_t			 i, j, len;

	for (i = 0; i < sizeof(resume_cases) / sizeof(resume_cases[0]); i++) {
		rc = &resume_cases[i];
		len = note_bytes(rc->rc_wire, wire, sizeof(wire));
		memset(&hw, 0, sizeof(hw));
		for (j = 0; j < 6 && rc->rc_steps[j].rs_len != 0; j++) {
			rs = &rc->rc_steps[j];
			if (rs->rs_len > len)
				note_fail("step longer than the wire",
				    rc->rc_label);
			if ((copy = malloc(rs->rs_len)) == NULL)
				abort();
			memcpy(copy, wire, rs->rs_len);
			r = hello_resume(copy, rs->rs_len, &hw, &hl);
			TAP_OK(r == rs->rs_result && hl.hl_need == rs->rs_need &&
			    hl.hl_examined == rs->rs_examined &&
			    hl.hl_records == rs->rs_records,
			    "resume: %s: %zu bytes: %s, need %zu, examined %zu "
			    "(got %s, %zu, %zu, records %zu)", rc->rc_label,
			    rs->rs_len, hello_result_name(rs->rs_result),
			    rs->rs_need, rs->rs_examined, hello_result_name(r),
			    hl.hl_need, hl.hl_examined, hl.hl_records);
			free(copy);
		}
	}
}

/* parse_exact - hello_parse on a copy of exactly len bytes, poisoned fields */
static enum hello_result
parse_exact(const uint8_t *wire, size_t len, struct hello *hl, uint8_t **copy)
{
	static uint8_t	 none;
	enum hello_result r;

	*copy = len ? malloc(len) : NULL;
	if (len && *copy == NULL)
		abort();
	if (len)
		memcpy(*copy, wire, len);
	/* the parser promises to clear what it does not set */
	memset(hl, 0xa5, offsetof(struct hello, hl_msg));
	r = hello_parse(len ? *copy : &none, len, hl);
	return r;
}

/* fields_clear - whether an answer other than complete left nothing set */
static int
fields_clear(const struct hello *hl, enum hello_result r)
{
	return (hl->hl_name == NULL && hl->hl_name_len == 0 &&
	    hl->hl_alpn == NULL && hl->hl_alpn_len == 0 && hl->hl_ech == 0 &&
	    hl->hl_wire_len == 0 && hl->hl_records == 0 &&
	    (r == HELLO_NEED_MORE ? hl->hl_need > 0 : hl->hl_need == 0));
}

/* same_bytes - whether p, n holds what the notation want says (NULL: none) */
static int
same_bytes(const uint8_t *p, size_t n, const char *want)
{
	static uint8_t	 buf[NOTE_MAX];
	size_t		 len;

	if (want == NULL)
		return p == NULL && n == 0;
	len = note_bytes(want, buf, sizeof(buf));
	return p != NULL && n == len && memcmp(p, buf, len) == 0;
}

/* inside - whether [p, p + n) lies within [base, base + size) */
static int
inside(const uint8_t *p, size_t n, const uint8_t *base, size_t size)
{
	return (p == NULL || (p >= base && n <= size &&
	    (size_t)(p - base) <= size - n));
}

/* check_fields - whether a complete answer says what the row expects */
static int
check_fields(const struct hello_case *hc, const struct built *bt,
    const struct hello *hl, const uint8_t *wire, size_t len)
{
	const uint8_t	*base = hl->hl_records > 1 ? hl->hl_msg : wire;
	size_t		 size = hl->hl_records > 1 ? HELLO_MSG_MAX : len;

	return (same_bytes(hl->hl_name, hl->hl_name_len, hc->hc_name) &&
	    same_bytes(hl->hl_alpn, hl->hl_alpn_len, hc->hc_alpn) &&
	    hl->hl_ech == hc->hc_ech &&
	    hl->hl_wire_len == bt->bt_wire_len &&
	    hl->hl_records == bt->bt_records && hl->hl_need == 0 &&
	    inside(hl->hl_name, hl->hl_name_len, base, size) &&
	    inside(hl->hl_alpn, hl->hl_alpn_len, base, size));
}

/* same_answer - whether two complete answers found the same things */
static int
same_answer(const struct hello *a, const struct hello *b)
{
	return ((a->hl_name == NULL) == (b->hl_name == NULL) &&
	    a->hl_name_len == b->hl_name_len &&
	    (a->hl_name == NULL ||
	    memcmp(a->hl_name, b->hl_name, a->hl_name_len) == 0) &&
	    (a->hl_alpn == NULL) == (b->hl_alpn == NULL) &&
	    a->hl_alpn_len == b->hl_alpn_len &&
	    (a->hl_alpn == NULL ||
	    memcmp(a->hl_alpn, b->hl_alpn, a->hl_alpn_len) == 0) &&
	    a->hl_ech == b->hl_ech && a->hl_wire_len == b->hl_wire_len &&
	    a->hl_records == b->hl_records);
}

/*
 * check_prefixes - feed every prefix; returns the first length that
 * answered wrong, or SIZE_MAX.  Before the message is whole the answer
 * must be need-more, with hl_need a true lower bound; after, the final
 * answer, which never changes once given; *decided gets the length that
 * first gave it.  The same prefixes go to hello_resume through one walk,
 * which must answer the same; *walked gets what its calls examined up to
 * the answer, *whole what the one parse that gave it did.
 */
static size_t
check_prefixes(const struct hello_case *hc, const struct built *bt,
    size_t *decided, size_t *walked, size_t *whole)
{
	static uint8_t	 none;
	struct hello	*hl, *rl;
	struct hello_walk hw;
	enum hello_result r, rr, final = HELLO_NEED_MORE;
	uint8_t		*copy;
	size_t		 k, bad = SIZE_MAX;
	int		 ok;

	if ((hl = malloc(sizeof(*hl))) == NULL ||
	    (rl = malloc(sizeof(*rl))) == NULL)
		abort();
	memset(&hw, 0, sizeof(hw));
	*walked = *whole = 0;
	for (k = 0; k <= bt->bt_len && bad == SIZE_MAX; k++) {
		r = parse_exact(bt->bt_wire, k, hl, &copy);
		if (hc->hc_result == HELLO_COMPLETE && k < bt->bt_wire_len)
			ok = r == HELLO_NEED_MORE && fields_clear(hl, r) &&
			    k + hl->hl_need <= bt->bt_wire_len;
		else if (hc->hc_result == HELLO_COMPLETE)
			ok = r == HELLO_COMPLETE &&
			    check_fields(hc, bt, hl, copy, k);
		else if (final != HELLO_NEED_MORE)
			ok = r == final && fields_clear(hl, r);
		else
			ok = (r == HELLO_NEED_MORE || r == hc->hc_result) &&
			    fields_clear(hl, r);
		/* The walk, resumed with one byte more than the last call. */
		memset(rl, 0xa5, offsetof(struct hello, hl_msg));
		rr = hello_resume(k ? copy : &none, k, &hw, rl);
		ok = ok && rr == r && (r == HELLO_COMPLETE ?
		    same_answer(rl, hl) : fields_clear(rl, rr) &&
		    rl->hl_need == hl->hl_need);
		if (final == HELLO_NEED_MORE)
			*walked += rl->hl_examined;
		else if (r != HELLO_COMPLETE && rl->hl_examined != 0)
			ok = 0;		/* an answer given is not looked for again */
		if (r != HELLO_NEED_MORE && final == HELLO_NEED_MORE) {
			final = r;
			*decided = k;
			*whole = hl->hl_examined;
		}
		if (!ok)
			bad = k;
		free(copy);
	}
	free(rl);
	free(hl);
	return bad;
}

/* test_row - one row: the whole input, then every prefix of it */
static void
test_row(const struct hello_case *hc)
{
	static struct built bt;
	struct hello	*hl;
	enum hello_result r;
	uint8_t		*copy;
	size_t		 bad, decided = SIZE_MAX, walked, whole;

	if ((hl = malloc(sizeof(*hl))) == NULL)
		abort();
	build_hello(hc, &bt);
	r = parse_exact(bt.bt_wire, bt.bt_len, hl, &copy);
	TAP_OK(r == hc->hc_result, "%s: %s (got %s)", hc->hc_label,
	    hello_result_name(hc->hc_result), hello_result_name(r));
	if (hc->hc_result == HELLO_COMPLETE)
		TAP_OK(r == HELLO_COMPLETE &&
		    check_fields(hc, &bt, hl, copy, bt.bt_len),
		    "%s: fields (name %zu bytes, alpn %zu, ech %d, wire %zu, "
		    "records %zu)", hc->hc_label, hl->hl_name_len,
		    hl->hl_alpn_len, hl->hl_ech, hl->hl_wire_len,
		    hl->hl_records);
	else
		TAP_OK(fields_clear(hl, r), "%s: no fields set", hc->hc_label);
	if (hc->hc_result == HELLO_NEED_MORE)
		TAP_OK(hl->hl_need == hc->hc_need, "%s: need %zu (got %zu)",
		    hc->hc_label, hc->hc_need, hl->hl_need);
	free(copy);
	bad = check_prefixes(hc, &bt, &decided, &walked, &whole);
	TAP_OK(bad == SIZE_MAX, "%s: every prefix of %zu bytes, parsed and "
	    "resumed", hc->hc_label, bt.bt_len);
	if (bad != SIZE_MAX)
		printf("#   first wrong answer for %zu bytes\n", bad);
	if (hc->hc_result != HELLO_NEED_MORE)
		TAP_OK(walked == whole, "%s: resumed a byte at a time, "
		    "examined %zu bytes, as a whole parse (%zu)", hc->hc_label,
		    walked, whole);
	if (hc->hc_decided != 0)
		TAP_OK(decided == hc->hc_decided, "%s: decided after %zu bytes "
		    "(got %zu)", hc->hc_label, hc->hc_decided, decided);
	free(hl);
}

/* split_record - append a handshake record carrying n message bytes */
static void
split_record(struct built *bt, const uint8_t *frag, size_t n)
{
	uint8_t	*w = bt->bt_wire + bt->bt_len;

	w[0] = 0x16;
	w[1] = 0x03;
	w[2] = 0x03;
	build_put16(w + 3, n);
	memcpy(w + 5, frag, n);
	bt->bt_len += 5 + n;
}

/*
 * test_every_split - the reference hello cut into two records at every
 * point, and into three at every pair of points.
 */
static void
test_every_split(void)
{
	static const struct hello_case ref = {
		.hc_exts = SNI("'example.org'") ALPN(H2_HTTP11) ECH,
	};
	static struct built one, split;
	static struct hello hl;
	size_t		 mlen, a, b, tried = 0, wrong = 0;
	const uint8_t	*msg;

	build_hello(&ref, &one);
	msg = one.bt_wire + 5;
	mlen = one.bt_len - 5;
	for (a = 1; a < mlen; a++) {
		/* b == a: two records; otherwise three */
		for (b = a; b < mlen; b++) {
			split.bt_len = 0;
			split_record(&split, msg, a);
			if (b > a)
				split_record(&split, msg + a, b - a);
			split_record(&split, msg + b, mlen - b);
			tried++;
			if (hello_parse(split.bt_wire, split.bt_len, &hl) !=
			    HELLO_COMPLETE ||
			    !same_bytes(hl.hl_name, hl.hl_name_len,
			    "'example.org'") ||
			    !same_bytes(hl.hl_alpn, hl.hl_alpn_len, H2_HTTP11) ||
			    hl.hl_ech != 1 || hl.hl_wire_len != split.bt_len ||
			    hl.hl_records != (b > a ? 3U : 2U))
				wrong++;
		}
	}
	TAP_OK(wrong == 0, "every 2- and 3-record split of a %zu-byte message: "
	    "%zu of %zu wrong", mlen, wrong, tried);
}

/* mutate_random - xorshift, so that a failure can be replayed */
static uint32_t
mutate_random(uint32_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 17;
	*state ^= *state << 5;
	return *state;
}

/*
 * test_mutations - damaged copies of valid hellos: whatever the answer,
 * it must be one of the five, keep the promises about the fields, and
 * point only into the input or hl_msg.
 */
static void
test_mutations(void)
{
	static const struct hello_case seeds[] = {
		{ .hc_exts = SNI("'example.org'") ALPN(H2_HTTP11) ECH },
		{ .hc_exts = SNI("'example.org'") ALPN(H2_HTTP11),
		  .hc_frag = { 9 } },
		{ .hc_exts = "0000 { { 01 { 'x' } 00 { 'y' } } }" GROUPS,
		  .hc_frag = { 1, 40 } },
	};
	static struct built bt;
	struct hello	*hl;
	uint8_t		*copy;
	uint32_t	 seed = 0x5eed1e55;
	size_t		 i, j, len, broken = 0, complete = 0;
	size_t		 runs = 30000;
	enum hello_result r;

	if ((hl = malloc(sizeof(*hl))) == NULL)
		abort();
	for (i = 0; i < runs; i++) {
		build_hello(&seeds[i % 3], &bt);
		for (j = 1 + mutate_random(&seed) % 4; j > 0; j--)
			bt.bt_wire[mutate_random(&seed) % bt.bt_len] =
			    mutate_random(&seed);
		len = mutate_random(&seed) % (bt.bt_len + 1);
		r = parse_exact(bt.bt_wire, len, hl, &copy);
		if (r == HELLO_COMPLETE) {
			complete++;
			if (hl->hl_wire_len > len || hl->hl_records == 0 ||
			    hl->hl_need != 0 ||
			    !inside(hl->hl_name, hl->hl_name_len,
			    hl->hl_records > 1 ? hl->hl_msg : copy,
			    hl->hl_records > 1 ? HELLO_MSG_MAX : len))
				broken++;
		} else if (r > HELLO_MALFORMED || !fields_clear(hl, r))
			broken++;
		free(copy);
	}
	free(hl);
	TAP_OK(broken == 0 && complete > 0,
	    "%zu damaged hellos: %zu broke a promise (%zu complete)",
	    runs, broken, complete);
}

/* test_result_names - the words logs and counters use */
static void
test_result_names(void)
{
	static const struct {
		enum hello_result	 rn_result;
		const char		*rn_name;
	} names[] = {
		{ HELLO_COMPLETE, "complete" },
		{ HELLO_NEED_MORE, "need-more" },
		{ HELLO_NOT_TLS, "not-tls" },
		{ HELLO_UNEXPECTED, "unexpected" },
		{ HELLO_MALFORMED, "malformed" },
	};
	size_t	 i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		TAP_OK(strcmp(hello_result_name(names[i].rn_result),
		    names[i].rn_name) == 0, "hello_result_name %s",
		    names[i].rn_name);
}

/* main - every row, then the generated and damaged hellos */
/*
 * The non_tls decision: another protocol, a TLS client all the same, or
 * not yet known.  Each row is also checked byte by byte: every prefix
 * answers "more" or the row's answer, never another.
 */
static const struct foreign_case {
	const char		*label;
	const char		*bytes;
	size_t			 len;
	enum hello_foreign	 want;
} foreign_cases[] = {
	{ "nothing yet", "", 0, HELLO_FOREIGN_MORE },
	{ "SSH", "SSH-2.0-OpenSSH_9.2p1\r\n", 23, HELLO_FOREIGN_OTHER },
	{ "HTTP", "GET / HTTP/1.0\r\n\r\n", 18, HELLO_FOREIGN_OTHER },
	{ "SMTP client, one byte", "E", 1, HELLO_FOREIGN_OTHER },
	{ "NUL", "\x00\x01", 2, HELLO_FOREIGN_OTHER },
	{ "handshake record, bad version", "\x16\x02\x00\x00\x10", 5,
	    HELLO_FOREIGN_TLS },
	{ "handshake type alone", "\x16", 1, HELLO_FOREIGN_TLS },
	{ "change_cipher_spec", "\x14\x03\x03", 3, HELLO_FOREIGN_TLS },
	{ "alert, version 2", "\x15\x02", 2, HELLO_FOREIGN_TLS },
	{ "application_data", "\x17\x03\x03", 3, HELLO_FOREIGN_TLS },
	{ "heartbeat", "\x18", 1, HELLO_FOREIGN_TLS },
	{ "byte 19", "\x13\x03\x03", 3, HELLO_FOREIGN_OTHER },
	{ "byte 25", "\x19\x03\x03", 3, HELLO_FOREIGN_OTHER },
	{ "SSL 2.0 hello, TLS 1.0", "\x80\x2e\x01\x03\x01\x00\x15", 7,
	    HELLO_FOREIGN_TLS },
	{ "SSL 2.0 hello, SSL 3.0", "\x80\x2e\x01\x03\x00", 5,
	    HELLO_FOREIGN_TLS },
	{ "SSL 2.0 hello, SSL 2.0", "\x80\x2e\x01\x00\x02", 5,
	    HELLO_FOREIGN_TLS },
	{ "SSL 2.0 header, 4 bytes", "\x80\x2e\x01\x00", 4,
	    HELLO_FOREIGN_MORE },
	{ "SSL 2.0 header, 2 bytes", "\x80\x2e", 2, HELLO_FOREIGN_MORE },
	{ "high bit, not CLIENT-HELLO", "\x80\x2e\x02\x03\x01", 5,
	    HELLO_FOREIGN_OTHER },
	{ "high bit, version 1.x", "\x80\x2e\x01\x01\x00", 5,
	    HELLO_FOREIGN_OTHER },
	{ "high bit, version 0.3", "\x80\x2e\x01\x00\x03", 5,
	    HELLO_FOREIGN_OTHER },
	{ "0xff then text", "\xff\xfd\x18\xff\xfd", 5, HELLO_FOREIGN_OTHER },
};

/* test_foreign - the rows, their prefixes, and agreement with hello_parse */
static void
test_foreign(void)
{
	static struct hello	hl;
	const struct foreign_case *fc;
	enum hello_foreign	 got;
	uint8_t			 one[HELLO_RECORD_HDR];
	size_t			 i, n, bad;
	unsigned		 b;

	for (i = 0; i < sizeof(foreign_cases) / sizeof(foreign_cases[0]); i++) {
		fc = &foreign_cases[i];
		got = hello_foreign((const uint8_t *)fc->bytes, fc->len);
		for (n = 0, bad = 0; n < fc->len; n++) {
			enum hello_foreign p = hello_foreign(
			    (const uint8_t *)fc->bytes, n);
			bad += p != HELLO_FOREIGN_MORE && p != fc->want;
		}
		TAP_OK(got == fc->want && bad == 0, "foreign: %s: %d (got %d, "
		    "%zu prefixes disagree)", fc->label, fc->want, got, bad);
	}
	/* "Another protocol" must never be something the parser takes. */
	for (b = 0, bad = 0; b < 256; b++) {
		memset(one, 0x03, sizeof(one));
		one[0] = (uint8_t)b;
		if (hello_foreign(one, 1) == HELLO_FOREIGN_OTHER &&
		    hello_parse(one, sizeof(one), &hl) != HELLO_NOT_TLS)
			bad++;
	}
	TAP_OK(bad == 0, "foreign: no first byte is both another protocol "
	    "and TLS to the parser (%zu are)", bad);
}

int
main(void)
{
	size_t	 i;

	for (i = 0; i < sizeof(hello_cases) / sizeof(hello_cases[0]); i++)
		test_row(&hello_cases[i]);
	test_every_split();
	test_resume();
	test_mutations();
	test_result_names();
	test_foreign();
	return TAP_DONE();
}
