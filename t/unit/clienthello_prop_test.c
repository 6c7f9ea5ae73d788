/*
 * clienthello_prop_test.c - hello_parse against random valid ClientHellos.
 *
 * The table test (clienthello_test.c) holds the cases someone thought
 * of; this one generates PROP_COUNT valid hellos shaped like what real
 * clients send and some they might: extensions in random order, GREASE
 * (RFC 8701) as extension types, cipher suites, groups and ALPN names,
 * session ids of 0..32 bytes, server names of up to 253 bytes in random
 * case with an optional trailing dot, ALPN lists of 1..8 names, an ECH
 * extension, a 1216-byte post-quantum key share (X25519MLKEM768's size),
 * padding up to HELLO_MSG_MAX.  Each is parsed in one record, then cut
 * into 1..40 records at random points (maybe followed by bytes that are
 * not the hello's), and must give what the generator put in; every
 * prefix short of its end must ask for more, and not for too much.  The
 * re-framed hello is also given to hello_resume in pieces cut at random
 * points: each call must answer as a whole parse of the same bytes, and
 * all of them examine no byte twice (hl_examined).
 *
 * Every parse reads from a buffer that ends at an unmapped page, so a
 * read past the bytes given is a crash in any build.  The PRNG is seeded
 * from SNITCH_PROP_SEED (any strtoull base) or a fixed default, printed;
 * each hello i is made from its own generator seeded by (seed, i), so a
 * failure message's seed and index reproduce it.
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <unistd.h>

#include "clienthello.h"
#include "hostname.h"
#include "tap.h"

#define PROP_COUNT		2000
#define PROP_SEED		0x534e497463680001ULL	/* "SNItch", 1 */
#define PROP_RECORDS_MAX	40
#define PROP_SMALL		2048	/* wire bytes: test every prefix */
#define PROP_PREFIXES		50	/* random prefixes of larger hellos */
#define PROP_FAILS_SHOWN	10
#define PROP_EXTS_MAX		24
#define PROP_WIRE_MAX		(HELLO_WIRE_MAX + 64)

#define EXT_SERVER_NAME		0x0000
#define EXT_EC_POINT_FORMATS	0x000b
#define EXT_SUPPORTED_GROUPS	0x000a
#define EXT_SIG_ALGS		0x000d
#define EXT_ALPN		0x0010
#define EXT_PADDING		0x0015
#define EXT_EMS			0x0017
#define EXT_SESSION_TICKET	0x0023
#define EXT_SUPPORTED_VERSIONS	0x002b
#define EXT_PSK_MODES		0x002d
#define EXT_KEY_SHARE		0x0033
#define EXT_ECH			0xfe0d
#define EXT_RENEGOTIATION_INFO	0xff01
#define GROUP_X25519MLKEM768	0x11ec
#define GROUP_X25519		0x001d
#define MLKEM768_SHARE		1216	/* 1184-byte ML-KEM key + 32 */

/* A generator of one hello: splitmix64 */
struct prop_rng {
	uint64_t	pr_state;
};

/* A growing byte string with TLS vectors */
struct prop_buf {
	uint8_t		*pb_p;
	size_t		 pb_len;
	size_t		 pb_cap;
};

/* One generated hello and what hello_parse must find in it */
struct prop_hello {
	uint8_t		 ph_msg[HELLO_MSG_MAX];	/* the handshake message */
	size_t		 ph_len;
	uint8_t		 ph_name[HOSTNAME_MAX + 1];
	size_t		 ph_name_len;		/* 0: no server_name */
	uint8_t		 ph_alpn[HELLO_MSG_MAX];	/* ProtocolNameList body */
	size_t		 ph_alpn_len;		/* 0: no ALPN */
	int		 ph_ech;
};

/* The hello cut into records */
struct prop_wire {
	uint8_t		 pw_bytes[PROP_WIRE_MAX];
	size_t		 pw_len;		/* with the bytes after the hello */
	size_t		 pw_end;		/* just past the hello */
	size_t		 pw_records;
};

static uint64_t	 prop_seed;
static size_t	 prop_index;
static int	 prop_fails;
static uint8_t	*prop_guard;			/* the unmapped page */
static char	 prop_where[96];		/* for prop_crash */

/* prop_next - the next 64 random bits */
static uint64_t
prop_next(struct prop_rng *pr)
{
	uint64_t	 z = (pr->pr_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* prop_below - a random number in 0..n-1 (n > 0) */
static size_t
prop_below(struct prop_rng *pr, size_t n)
{
	return (size_t)(prop_next(pr) % n);
}

/* prop_range - a random number in lo..hi */
static size_t
prop_range(struct prop_rng *pr, size_t lo, size_t hi)
{
	return lo + prop_below(pr, hi - lo + 1);
}

/* prop_chance - true with probability percent/100 */
static int
prop_chance(struct prop_rng *pr, unsigned percent)
{
	return prop_below(pr, 100) < percent;
}

/* prop_grease - one of the 16 GREASE values, RFC 8701: 0x0a0a .. 0xfafa */
static unsigned
prop_grease(struct prop_rng *pr)
{
	return (unsigned)prop_below(pr, 16) * 0x1010 + 0x0a0a;
}

/* prop_fail - report one failing hello; the first few only */
static int
prop_fail(const char *what)
{
	if (prop_fails++ < PROP_FAILS_SHOWN)
		printf("# seed 0x%016llx index %zu: %s\n",
		    (unsigned long long)prop_seed, prop_index, what);
	return 0;
}

/* buf_put - append n bytes */
static void
buf_put(struct prop_buf *pb, const void *p, size_t n)
{
	if (n > pb->pb_cap - pb->pb_len) {
		fprintf(stderr, "clienthello_prop_test: generator overflow\n");
		exit(2);
	}
	memcpy(pb->pb_p + pb->pb_len, p, n);
	pb->pb_len += n;
}

/* buf_uint - append a big-endian integer of width bytes */
static void
buf_uint(struct prop_buf *pb, size_t v, size_t width)
{
	uint8_t	 b[4];
	size_t	 i;

	for (i = 0; i < width; i++)
		b[i] = (uint8_t)(v >> (8 * (width - 1 - i)));
	buf_put(pb, b, width);
}

/* buf_random - append n random bytes */
static void
buf_random(struct prop_buf *pb, struct prop_rng *pr, size_t n)
{
	uint8_t	 b;

	while (n-- > 0) {
		b = (uint8_t)prop_next(pr);
		buf_put(pb, &b, 1);
	}
}

/* buf_open - start a vector with a width-byte length; its offset */
static size_t
buf_open(struct prop_buf *pb, size_t width)
{
	buf_uint(pb, 0, width);
	return pb->pb_len;
}

/* buf_close - fill in the length of the vector started at start */
static void
buf_close(struct prop_buf *pb, size_t start, size_t width)
{
	size_t	 len = pb->pb_len - start, i;

	for (i = 0; i < width; i++)
		pb->pb_p[start - width + i] =
		    (uint8_t)(len >> (8 * (width - 1 - i)));
}

/*
 * gen_name - a valid host name of up to HOSTNAME_MAX bytes: LDH labels
 * of 1..63, none starting or ending with '-', the last starting with a
 * letter (an all-digit one would look like an IP literal); random case,
 * and a trailing dot one time in four.
 */
static void
gen_name(struct prop_rng *pr, struct prop_hello *ph)
{
	static const char	 ldh[] = "abcdefghijklmnopqrstuvwxyz0123456789-";
	size_t			 target, pos = 0, left, llen, i, last;
	uint8_t			*n = ph->ph_name;

	target = prop_chance(pr, 70) ? prop_range(pr, 1, 40) :
	    prop_range(pr, 1, HOSTNAME_MAX);
	while (pos < target) {
		left = target - pos;
		last = left <= 63 && (left <= 2 || prop_chance(pr, 40));
		llen = last ? left : prop_range(pr, 1, left - 2 < 63 ?
		    left - 2 : 63);
		for (i = 0; i < llen; i++) {
			if (i == 0 && last)
				n[pos + i] = ldh[prop_below(pr, 26)];
			else if (i == 0 || i == llen - 1)
				n[pos + i] = ldh[prop_below(pr, 36)];
			else
				n[pos + i] = ldh[prop_below(pr, 37)];
			if (n[pos + i] >= 'a' && n[pos + i] <= 'z' &&
			    prop_chance(pr, 30))
				n[pos + i] -= 'a' - 'A';
		}
		pos += llen;
		if (!last)
			n[pos++] = '.';
	}
	if (prop_chance(pr, 25))
		n[pos++] = '.';
	ph->ph_name_len = pos;
}

/* gen_alpn - a ProtocolNameList body of 1..8 names, some GREASE */
static void
gen_alpn(struct prop_rng *pr, struct prop_hello *ph)
{
	static const char *const known[] = {
		"h2", "http/1.1", "h3", "acme-tls/1", "http/1.0", "spdy/3.1",
		"imap", "xmpp-client", "dot", "h2c",
	};
	struct prop_buf	 pb = { ph->ph_alpn, 0, sizeof(ph->ph_alpn) };
	size_t		 count = prop_range(pr, 1, 8), i, start;
	const char	*name;

	for (i = 0; i < count; i++) {
		start = buf_open(&pb, 1);
		switch (prop_below(pr, 4)) {
		case 0:
			buf_uint(&pb, prop_grease(pr), 2);
			break;
		case 1:
			buf_random(&pb, pr, prop_range(pr, 1, 32));
			break;
		default:
			name = known[prop_below(pr, sizeof(known) /
			    sizeof(known[0]))];
			buf_put(&pb, name, strlen(name));
		}
		buf_close(&pb, start, 1);
	}
	ph->ph_alpn_len = pb.pb_len;
}

/* gen_ext - append one extension of type to arena */
static void
gen_ext(struct prop_rng *pr, struct prop_hello *ph, unsigned type,
    struct prop_buf *arena)
{
	size_t	 ext, list, vec, i, n;

	buf_uint(arena, type, 2);
	ext = buf_open(arena, 2);
	switch (type) {
	case EXT_SERVER_NAME:
		list = buf_open(arena, 2);
		buf_uint(arena, 0, 1);			/* host_name */
		buf_uint(arena, ph->ph_name_len, 2);
		buf_put(arena, ph->ph_name, ph->ph_name_len);
		buf_close(arena, list, 2);
		break;
	case EXT_ALPN:
		buf_uint(arena, ph->ph_alpn_len, 2);
		buf_put(arena, ph->ph_alpn, ph->ph_alpn_len);
		break;
	case EXT_ECH:
		/* outer ECHClientHello: type, HPKE suite, config_id, enc,
		   payload */
		buf_uint(arena, 0, 1);
		buf_uint(arena, 0x0001, 2);
		buf_uint(arena, 0x0001, 2);
		buf_random(arena, pr, 1);
		buf_uint(arena, 32, 2);
		buf_random(arena, pr, 32);
		n = prop_range(pr, 1, 400);
		buf_uint(arena, n, 2);
		buf_random(arena, pr, n);
		break;
	case EXT_KEY_SHARE:
		list = buf_open(arena, 2);
		if (prop_chance(pr, 50)) {
			buf_uint(arena, prop_grease(pr), 2);
			buf_uint(arena, 1, 2);
			buf_uint(arena, 0, 1);
		}
		buf_uint(arena, GROUP_X25519MLKEM768, 2);
		buf_uint(arena, MLKEM768_SHARE, 2);
		buf_random(arena, pr, MLKEM768_SHARE);
		if (prop_chance(pr, 70)) {
			buf_uint(arena, GROUP_X25519, 2);
			buf_uint(arena, 32, 2);
			buf_random(arena, pr, 32);
		}
		buf_close(arena, list, 2);
		break;
	case EXT_SUPPORTED_VERSIONS:
		vec = buf_open(arena, 1);
		if (prop_chance(pr, 50))
			buf_uint(arena, prop_grease(pr), 2);
		buf_uint(arena, 0x0304, 2);
		buf_uint(arena, 0x0303, 2);
		buf_close(arena, vec, 1);
		break;
	case EXT_SUPPORTED_GROUPS:
		list = buf_open(arena, 2);
		if (prop_chance(pr, 50))
			buf_uint(arena, prop_grease(pr), 2);
		buf_uint(arena, GROUP_X25519MLKEM768, 2);
		buf_uint(arena, GROUP_X25519, 2);
		buf_uint(arena, 0x0017, 2);
		buf_uint(arena, 0x0018, 2);
		buf_close(arena, list, 2);
		break;
	case EXT_SIG_ALGS:
		list = buf_open(arena, 2);
		n = prop_range(pr, 1, 12);
		for (i = 0; i < n; i++)
			buf_uint(arena, 0x0401 + prop_below(pr, 0x0500), 2);
		buf_close(arena, list, 2);
		break;
	case EXT_EC_POINT_FORMATS:
		buf_uint(arena, 1, 1);
		buf_uint(arena, 0, 1);
		break;
	case EXT_PSK_MODES:
		buf_uint(arena, 1, 1);
		buf_uint(arena, 1, 1);
		break;
	case EXT_RENEGOTIATION_INFO:
		buf_uint(arena, 0, 1);
		break;
	case EXT_EMS:
	case EXT_SESSION_TICKET:
		break;
	default:
		/* GREASE: empty, or one byte as Chromium's last one */
		if (prop_chance(pr, 50))
			buf_uint(arena, 0, 1);
	}
	buf_close(arena, ext, 2);
}

/*
 * gen_hello - a valid ClientHello message, RFC 8446 section 4.1.2, with
 * its extensions in random order; the padding extension, when there is
 * one, is sized last to make the message a random length up to
 * HELLO_MSG_MAX.
 */
static void
gen_hello(struct prop_rng *pr, struct prop_hello *ph)
{
	static uint8_t	 arena_bytes[HELLO_MSG_MAX];
	static const unsigned fillers[] = {
		EXT_SUPPORTED_VERSIONS, EXT_SUPPORTED_GROUPS, EXT_SIG_ALGS,
		EXT_EC_POINT_FORMATS, EXT_PSK_MODES, EXT_RENEGOTIATION_INFO,
		EXT_EMS, EXT_SESSION_TICKET,
	};
	struct prop_buf	 arena = { arena_bytes, 0, sizeof(arena_bytes) };
	struct prop_buf	 msg = { ph->ph_msg, 0, sizeof(ph->ph_msg) };
	size_t		 off[PROP_EXTS_MAX], len[PROP_EXTS_MAX];
	size_t		 order[PROP_EXTS_MAX];
	size_t		 next = 0, i, j, t, body, block, exts_len = 0, pad = 0;
	size_t		 suites, grease_at, target, vec;
	unsigned	 grease_types[2];
	int		 has_block, has_pad;

	memset(ph, 0, offsetof(struct prop_hello, ph_alpn));
	ph->ph_alpn_len = 0;
	ph->ph_ech = 0;

#define PROP_ADD(type) do {						\
	off[next] = arena.pb_len;					\
	gen_ext(pr, ph, (type), &arena);				\
	len[next] = arena.pb_len - off[next];				\
	next++;								\
} while (0)

	if (prop_chance(pr, 75)) {
		gen_name(pr, ph);
		PROP_ADD(EXT_SERVER_NAME);
	}
	if (prop_chance(pr, 60)) {
		gen_alpn(pr, ph);
		PROP_ADD(EXT_ALPN);
	}
	if (prop_chance(pr, 40)) {
		ph->ph_ech = 1;
		PROP_ADD(EXT_ECH);
	}
	if (prop_chance(pr, 50))
		PROP_ADD(EXT_KEY_SHARE);
	for (i = 0; i < sizeof(fillers) / sizeof(fillers[0]); i++)
		if (prop_chance(pr, 60))
			PROP_ADD(fillers[i]);
	/* up to two GREASE extensions, of different types */
	grease_types[0] = prop_grease(pr);
	do
		grease_types[1] = prop_grease(pr);
	while (grease_types[1] == grease_types[0]);
	for (i = prop_below(pr, 3); i > 0; i--)
		PROP_ADD(grease_types[i - 1]);
#undef PROP_ADD

	/* RFC 5246 lets a hello without extensions omit the block */
	has_block = next > 0 || prop_chance(pr, 50);
	has_pad = has_block && prop_chance(pr, 30);

	/* the shuffled order; PROP_EXTS_MAX stands for the padding */
	for (i = 0; i < next; i++)
		order[i] = i;
	if (has_pad)
		order[next++] = PROP_EXTS_MAX;
	for (i = next; i > 1; i--) {
		j = prop_below(pr, i);
		t = order[i - 1];
		order[i - 1] = order[j];
		order[j] = t;
	}

	/* Handshake header and body up to the extensions */
	buf_uint(&msg, 1, 1);
	body = buf_open(&msg, 3);
	buf_uint(&msg, prop_chance(pr, 80) ? 0x0303 : 0x0301, 2);
	buf_random(&msg, pr, 32);
	vec = buf_open(&msg, 1);
	buf_random(&msg, pr, prop_range(pr, 0, 32));
	buf_close(&msg, vec, 1);
	vec = buf_open(&msg, 2);
	suites = prop_range(pr, 1, 40);
	grease_at = prop_chance(pr, 50) ? prop_below(pr, suites) : suites;
	for (i = 0; i < suites; i++)
		buf_uint(&msg, i == grease_at ? prop_grease(pr) :
		    0x1301 + prop_below(pr, 0xc000), 2);
	buf_close(&msg, vec, 2);
	vec = buf_open(&msg, 1);
	if (prop_chance(pr, 10))
		buf_uint(&msg, 1, 1);			/* DEFLATE, offered */
	buf_uint(&msg, 0, 1);
	buf_close(&msg, vec, 1);

	if (has_block) {
		for (i = 0; i < next; i++)
			if (order[i] != PROP_EXTS_MAX)
				exts_len += len[order[i]];
		if (has_pad) {
			/* the message: what is there, the block's length, and
			   the padding's 4-byte header and 0..pad bytes */
			target = prop_range(pr, msg.pb_len + 2 + exts_len + 4,
			    HELLO_MSG_MAX);
			pad = target - (msg.pb_len + 2 + exts_len + 4);
		}
		block = buf_open(&msg, 2);
		for (i = 0; i < next; i++) {
			if (order[i] != PROP_EXTS_MAX) {
				buf_put(&msg, arena.pb_p + off[order[i]],
				    len[order[i]]);
				continue;
			}
			buf_uint(&msg, EXT_PADDING, 2);
			buf_uint(&msg, pad, 2);
			for (j = 0; j < pad; j++)
				buf_uint(&msg, 0, 1);
		}
		buf_close(&msg, block, 2);
	}
	buf_close(&msg, body, 3);
	ph->ph_len = msg.pb_len;
}

/*
 * gen_frame - the message cut into records at count - 1 random points; one
 * time in four a change_cipher_spec record follows, and one time in
 * eight the last record goes on with bytes of no hello.
 */
static void
gen_frame(struct prop_rng *pr, const struct prop_hello *ph, size_t count,
    struct prop_wire *pw)
{
	size_t	 cut[PROP_RECORDS_MAX + 1], i, j, t, n, tail = 0, version;

	if (count > ph->ph_len)
		count = ph->ph_len;
	cut[0] = 0;
	for (i = 1; i < count; i++) {
		do {
			t = prop_range(pr, 1, ph->ph_len - 1);
			for (j = 1; j < i && cut[j] != t; j++)
				;
		} while (j < i);
		cut[i] = t;
	}
	/* insertion sort of the cut points */
	for (i = 2; i < count; i++)
		for (j = i; j > 1 && cut[j - 1] > cut[j]; j--)
			t = cut[j], cut[j] = cut[j - 1], cut[j - 1] = t;
	cut[count] = ph->ph_len;
	if (prop_chance(pr, 12) && ph->ph_len + 4 <= HELLO_MSG_MAX)
		tail = 4;
	version = prop_chance(pr, 50) ? 0x0301 : 0x0303;
	pw->pw_len = 0;
	for (i = 0; i < count; i++) {
		n = cut[i + 1] - cut[i];
		pw->pw_bytes[pw->pw_len++] = 0x16;
		pw->pw_bytes[pw->pw_len++] = version >> 8;
		pw->pw_bytes[pw->pw_len++] = version & 0xff;
		t = i == count - 1 ? n + tail : n;
		pw->pw_bytes[pw->pw_len++] = t >> 8;
		pw->pw_bytes[pw->pw_len++] = t & 0xff;
		memcpy(pw->pw_bytes + pw->pw_len, ph->ph_msg + cut[i], n);
		pw->pw_len += n;
	}
	pw->pw_end = pw->pw_len;
	pw->pw_records = count;
	/* a hello_request header: a handshake message, not this one */
	memset(pw->pw_bytes + pw->pw_len, 0, tail);
	pw->pw_len += tail;
	if (prop_chance(pr, 25)) {
		memcpy(pw->pw_bytes + pw->pw_len,
		    "\x14\x03\x03\x00\x01\x01", 6);
		pw->pw_len += 6;
	}
}

/* parse_at_guard - hello_parse on a copy of len bytes ending at the guard */
static enum hello_result
parse_at_guard(const uint8_t *wire, size_t len, struct hello *hl)
{
	uint8_t	*copy = prop_guard - len;

	memcpy(copy, wire, len);
	memset(hl, 0xa5, offsetof(struct hello, hl_msg));
	return hello_parse(copy, len, hl);
}

/* same_answer - whether a complete parse found what the generator put */
static int
same_answer(const struct hello *hl, const struct prop_hello *ph)
{
	if (ph->ph_name_len == 0 ? hl->hl_name != NULL :
	    hl->hl_name == NULL || hl->hl_name_len != ph->ph_name_len ||
	    memcmp(hl->hl_name, ph->ph_name, ph->ph_name_len) != 0)
		return prop_fail("server name differs");
	if (ph->ph_alpn_len == 0 ? hl->hl_alpn != NULL :
	    hl->hl_alpn == NULL || hl->hl_alpn_len != ph->ph_alpn_len ||
	    memcmp(hl->hl_alpn, ph->ph_alpn, ph->ph_alpn_len) != 0)
		return prop_fail("ALPN differs");
	if (hl->hl_ech != ph->ph_ech)
		return prop_fail("ECH flag differs");
	return 1;
}

/* check_one_record - the hello in one record */
static int
check_one_record(const struct prop_hello *ph, struct prop_wire *pw,
    struct hello *hl)
{
	pw->pw_bytes[0] = 0x16;
	pw->pw_bytes[1] = 0x03;
	pw->pw_bytes[2] = 0x01;
	pw->pw_bytes[3] = ph->ph_len >> 8;
	pw->pw_bytes[4] = ph->ph_len & 0xff;
	memcpy(pw->pw_bytes + HELLO_RECORD_HDR, ph->ph_msg, ph->ph_len);
	pw->pw_len = pw->pw_end = HELLO_RECORD_HDR + ph->ph_len;
	if (parse_at_guard(pw->pw_bytes, pw->pw_len, hl) != HELLO_COMPLETE)
		return prop_fail("one record: not complete");
	if (hl->hl_records != 1 || hl->hl_wire_len != pw->pw_end)
		return prop_fail("one record: records or wire length");
	return same_answer(hl, ph);
}

/* check_reframed - the re-framed hello, whole and with what follows */
static int
check_reframed(const struct prop_hello *ph, const struct prop_wire *pw,
    struct hello *hl)
{
	int	 ok = 1;

	if (parse_at_guard(pw->pw_bytes, pw->pw_len, hl) != HELLO_COMPLETE)
		return prop_fail("re-framed: not complete");
	if (hl->hl_records != pw->pw_records || hl->hl_wire_len != pw->pw_end)
		ok = prop_fail("re-framed: records or wire length");
	return same_answer(hl, ph) && ok;
}

/* check_prefix - one prefix of the re-framed wire */
static int
check_prefix(const struct prop_hello *ph, const struct prop_wire *pw,
    size_t len, struct hello *hl)
{
	enum hello_result r = parse_at_guard(pw->pw_bytes, len, hl);
	char		 what[80];

	if (len >= pw->pw_end) {
		if (r != HELLO_COMPLETE || hl->hl_wire_len != pw->pw_end ||
		    hl->hl_records != pw->pw_records) {
			snprintf(what, sizeof(what), "prefix %zu of %zu past the "
			    "hello's end: %s", len, pw->pw_len,
			    hello_result_name(r));
			return prop_fail(what);
		}
		return same_answer(hl, ph);
	}
	if (r != HELLO_NEED_MORE || hl->hl_need == 0 ||
	    hl->hl_need > pw->pw_end - len) {
		snprintf(what, sizeof(what), "prefix %zu of %zu: %s, need %zu",
		    len, pw->pw_end, hello_result_name(r), hl->hl_need);
		return prop_fail(what);
	}
	return 1;
}

/*
 * check_resumed - the re-framed hello given to hello_resume in pieces cut
 * at random points, as segments arrive: each call answers as a whole
 * parse of the same bytes, and over all the calls the walk examines each
 * byte up to the hello's end once, and the message once more.
 */
static int
check_resumed(struct prop_rng *pr, const struct prop_hello *ph,
    const struct prop_wire *pw, struct hello *hl)
{
	static struct hello	 rl;
	struct hello_walk	 hw;
	enum hello_result	 r, rr;
	size_t			 cut[PROP_RECORDS_MAX], count, i, j, t;
	size_t			 examined = 0;
	char			 what[96];

	count = prop_range(pr, 1, PROP_RECORDS_MAX);
	for (i = 0; i + 1 < count; i++)
		cut[i] = prop_range(pr, 0, pw->pw_len);
	cut[count - 1] = pw->pw_len;
	for (i = 1; i < count; i++)
		for (j = i; j > 0 && cut[j - 1] > cut[j]; j--)
			t = cut[j], cut[j] = cut[j - 1], cut[j - 1] = t;
	memset(&hw, 0, sizeof(hw));
	for (i = 0; i < count; i++) {
		r = parse_at_guard(pw->pw_bytes, cut[i], hl);
		memset(&rl, 0xa5, offsetof(struct hello, hl_msg));
		/* the same bytes, where parse_at_guard copied them */
		rr = hello_resume(prop_guard - cut[i], cut[i], &hw, &rl);
		examined += rl.hl_examined;
		snprintf(what, sizeof(what), "resumed at %zu of %zu (cut %zu of "
		    "%zu): %s, whole %s", cut[i], pw->pw_len, i + 1, count,
		    hello_result_name(rr), hello_result_name(r));
		if (rr != r || (r == HELLO_NEED_MORE &&
		    rl.hl_need != hl->hl_need))
			return prop_fail(what);
		if (r == HELLO_COMPLETE)
			break;
	}
	if (rr != HELLO_COMPLETE || rl.hl_wire_len != pw->pw_end ||
	    rl.hl_records != pw->pw_records)
		return prop_fail("resumed: not complete, or records or wire "
		    "length");
	if (examined != pw->pw_end + ph->ph_len) {
		snprintf(what, sizeof(what), "resumed: examined %zu bytes, not "
		    "%zu + %zu", examined, pw->pw_end, ph->ph_len);
		return prop_fail(what);
	}
	return same_answer(&rl, ph);
}

/* check_name - the generated name normalizes to itself, lowercased */
static int
check_name(const struct prop_hello *ph)
{
	char	 out[HOSTNAME_MAX + 1], want[HOSTNAME_MAX + 2];
	size_t	 len = ph->ph_name_len, i;
	ssize_t	 n;

	if (len == 0)
		return 1;
	if (ph->ph_name[len - 1] == '.')
		len--;
	for (i = 0; i < len; i++)
		want[i] = ph->ph_name[i] >= 'A' && ph->ph_name[i] <= 'Z' ?
		    ph->ph_name[i] - 'A' + 'a' : ph->ph_name[i];
	want[len] = '\0';
	n = hostname_normalize(ph->ph_name, ph->ph_name_len, out);
	if (n != (ssize_t)len || strcmp(out, want) != 0)
		return prop_fail("hostname_normalize refused or changed a "
		    "valid name");
	return 1;
}

/* prop_crash - SIGSEGV, SIGBUS: say which hello, then die of it */
static void
prop_crash(int sig)
{
	ssize_t	 n;

	n = write(STDOUT_FILENO, prop_where, strlen(prop_where));
	(void)n;
	signal(sig, SIG_DFL);
}

/* guard_init - a buffer for the largest wire, then an unmapped page */
static void
guard_init(void)
{
	size_t	 page = (size_t)sysconf(_SC_PAGESIZE);
	size_t	 size = (PROP_WIRE_MAX + page - 1) / page * page;
	uint8_t	*p;

	p = mmap(NULL, size + page, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || mprotect(p + size, page, PROT_NONE) == -1) {
		perror("clienthello_prop_test: mmap");
		exit(2);
	}
	prop_guard = p + size;
	signal(SIGSEGV, prop_crash);
	signal(SIGBUS, prop_crash);
}

/* main - generate, parse, compare; TAP on stdout */
int
main(void)
{
	static struct prop_hello ph;
	static struct prop_wire	 pw;
	static struct hello	 hl;
	struct prop_rng		 pr;
	const char		*env = getenv("SNITCH_PROP_SEED");
	size_t			 generated = 0, i, len, count, biggest = 0;
	size_t			 records = 0, padded = 0, named = 0, pq = 0;
	size_t			 every = 0;
	int			 gen_ok = 1, one_ok = 1, split_ok = 1;
	int			 prefix_ok = 1, after_ok = 1, name_ok = 1;
	int			 resume_ok = 1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	prop_seed = env != NULL && *env != '\0' ?
	    strtoull(env, NULL, 0) : PROP_SEED;
	printf("# seed 0x%016llx (SNITCH_PROP_SEED=0x%016llx to repeat)\n",
	    (unsigned long long)prop_seed, (unsigned long long)prop_seed);
	guard_init();
	for (prop_index = 0; prop_index < PROP_COUNT; prop_index++) {
		snprintf(prop_where, sizeof(prop_where), "# seed 0x%016llx "
		    "index %zu: crashed (a read past the bytes given?)\n",
		    (unsigned long long)prop_seed, prop_index);
		pr.pr_state = prop_seed;
		pr.pr_state = prop_next(&pr) ^ prop_index;
		gen_hello(&pr, &ph);
		generated++;
		if (ph.ph_len < 4 + 2 + 32 + 1 + 4 + 2 ||
		    ph.ph_len > HELLO_MSG_MAX)
			gen_ok = prop_fail("generator: message length");
		if (ph.ph_len > biggest)
			biggest = ph.ph_len;
		named += ph.ph_name_len > 0;
		padded += ph.ph_len > 4096;
		pq += memmem(ph.ph_msg, ph.ph_len, "\x11\xec\x04\xc0", 4) !=
		    NULL;

		name_ok &= check_name(&ph);
		one_ok &= check_one_record(&ph, &pw, &hl);

		count = prop_range(&pr, 1, PROP_RECORDS_MAX);
		gen_frame(&pr, &ph, count, &pw);
		records += pw.pw_records;
		split_ok &= check_reframed(&ph, &pw, &hl);
		resume_ok &= check_resumed(&pr, &ph, &pw, &hl);
		if (pw.pw_end <= PROP_SMALL) {
			every++;
			for (len = 0; len < pw.pw_len; len++)
				if (len < pw.pw_end)
					prefix_ok &= check_prefix(&ph, &pw,
					    len, &hl);
				else
					after_ok &= check_prefix(&ph, &pw,
					    len, &hl);
		} else {
			prefix_ok &= check_prefix(&ph, &pw, 0, &hl);
			prefix_ok &= check_prefix(&ph, &pw, pw.pw_end - 1, &hl);
			after_ok &= check_prefix(&ph, &pw, pw.pw_end, &hl);
			for (i = 0; i < PROP_PREFIXES; i++) {
				len = prop_below(&pr, pw.pw_len);
				if (len < pw.pw_end)
					prefix_ok &= check_prefix(&ph, &pw,
					    len, &hl);
				else
					after_ok &= check_prefix(&ph, &pw,
					    len, &hl);
			}
		}
	}
	printf("# %zu with a server name, %zu with an X25519MLKEM768 share, "
	    "%zu over 4 KiB (largest %zu bytes), %zu records in all, "
	    "%zu tested at every prefix\n", named, pq, padded, biggest,
	    records, every);
	TAP_OK(generated == PROP_COUNT && gen_ok,
	    "%d random valid ClientHellos generated", PROP_COUNT);
	TAP_OK(name_ok, "generated server names normalize to themselves, "
	    "lowercased, without the trailing dot");
	TAP_OK(one_ok, "in one record: complete, with the generated name, "
	    "ALPN and ECH flag");
	TAP_OK(split_ok, "re-framed into 1..%d records: complete, the same "
	    "name, ALPN and ECH flag, all records counted", PROP_RECORDS_MAX);
	TAP_OK(prefix_ok, "every prefix short of the hello's end needs more, "
	    "and no more than is missing");
	TAP_OK(after_ok, "bytes after the hello change nothing");
	TAP_OK(resume_ok, "resumed in 1..%d pieces cut at random: the same "
	    "answers as whole parses, each byte walked once and the message "
	    "parsed once", PROP_RECORDS_MAX);
	return TAP_DONE();
}
