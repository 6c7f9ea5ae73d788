/*
 * clienthello_fuzz.c - libFuzzer harness for hello_parse.
 *
 * hello_parse reads bytes nobody has checked yet, in the workers: this
 * feeds it arbitrary input (built with AddressSanitizer and
 * UndefinedBehaviorSanitizer, so any read outside the input is a crash)
 * and traps when a promise of clienthello.h is broken:
 *
 *   - the answer is one of the enum values, and only HELLO_COMPLETE sets
 *     anything but hl_need (which HELLO_NEED_MORE sets, to 1 or more);
 *   - on HELLO_COMPLETE, hl_wire_len is within the input, the hello spans
 *     1..HELLO_RECORDS_MAX records, and hl_name and hl_alpn point into
 *     the input (one record) or into hl_msg (several), with their lengths
 *     in bounds;
 *   - an answer other than HELLO_NEED_MORE never changes with more
 *     bytes: a few prefixes of the input, each copied into a buffer of
 *     exactly its size, answer HELLO_NEED_MORE or the same as the whole
 *     (for HELLO_COMPLETE: the same name, ALPN, ECH flag, records and
 *     wire length); a prefix short of a complete hello answers
 *     HELLO_NEED_MORE with an hl_need that does not overshoot its end;
 *   - hello_resume given the input in pieces cut where the input says,
 *     each from a buffer of exactly the bytes so far, answers
 *     HELLO_NEED_MORE until it answers as the whole parse did (for
 *     HELLO_COMPLETE: the same fields), and its calls examine as many
 *     bytes in all as the whole parse: none twice; an answer given is
 *     given again without examining anything;
 *   - hostname_normalize on a found name returns -1 or a lowercase LDH
 *     name of that length, and normalizing it again changes nothing;
 *   - routes_lookup on the name and ALPN list found, against a table
 *     with every kind of route, answers a backend of the table or the
 *     default, and an ALPN route only for a protocol among the first
 *     ROUTES_OFFERED_MAX the hello offers.
 *   - hello_foreign (the non_tls decision) calls nothing another
 *     protocol that hello_parse would take for TLS, and its prefixes
 *     answer HELLO_FOREIGN_MORE or the same as the whole.
 *
 * Built and run by `make fuzz` and `make fuzz-check` (t/fuzz/run.sh);
 * the seed corpus is t/fuzz/corpus/clienthello/ (t/fuzz/capture.sh).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clienthello.h"
#include "hostname.h"
#include "routes.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FUZZ_CHECK(cond) do {						\
	if (!(cond))							\
		__builtin_trap();					\
} while (0)

/* The answer of a parse, its pointers made into offsets and copies */
struct fuzz_answer {
	enum hello_result fa_result;
	uint8_t		 fa_name[HELLO_MSG_MAX];
	size_t		 fa_name_len;
	int		 fa_has_name;
	uint8_t		 fa_alpn[HELLO_MSG_MAX];
	size_t		 fa_alpn_len;
	int		 fa_has_alpn;
	int		 fa_ech;
	size_t		 fa_wire_len;
	size_t		 fa_records;
};

/* hello_fuzz_inside - whether [p, p + n) lies within [base, base + size) */
static int
hello_fuzz_inside(const uint8_t *p, size_t n, const uint8_t *base, size_t size)
{
	uintptr_t	 pp = (uintptr_t)p, bb = (uintptr_t)base;

	return pp >= bb && pp - bb <= size && n <= size - (pp - bb);
}

/* hello_fuzz_cleared - whether an answer but complete left nothing set */
static int
hello_fuzz_cleared(const struct hello *hl, enum hello_result r)
{
	return hl->hl_name == NULL && hl->hl_name_len == 0 &&
	    hl->hl_alpn == NULL && hl->hl_alpn_len == 0 && hl->hl_ech == 0 &&
	    hl->hl_wire_len == 0 && hl->hl_records == 0 &&
	    (r == HELLO_NEED_MORE ? hl->hl_need > 0 : hl->hl_need == 0);
}

/*
 * hello_fuzz_check - the invariants of one answer for the len bytes at
 * wire, and the answer saved into fa.
 */
static void
hello_fuzz_check(const uint8_t *wire, size_t len, const struct hello *hl,
    enum hello_result r, struct fuzz_answer *fa)
{
	const uint8_t	*base;
	size_t		 size;

	FUZZ_CHECK(r == HELLO_COMPLETE || r == HELLO_NEED_MORE ||
	    r == HELLO_NOT_TLS || r == HELLO_UNEXPECTED ||
	    r == HELLO_MALFORMED);
	FUZZ_CHECK(strcmp(hello_result_name(r), "unknown") != 0);
	fa->fa_result = r;
	fa->fa_name_len = fa->fa_alpn_len = 0;
	fa->fa_has_name = fa->fa_has_alpn = 0;
	fa->fa_ech = 0;
	fa->fa_wire_len = fa->fa_records = 0;
	if (r != HELLO_COMPLETE) {
		FUZZ_CHECK(hello_fuzz_cleared(hl, r));
		return;
	}
	FUZZ_CHECK(hl->hl_need == 0);
	FUZZ_CHECK(hl->hl_wire_len > HELLO_RECORD_HDR &&
	    hl->hl_wire_len <= len);
	FUZZ_CHECK(hl->hl_records >= 1 && hl->hl_records <= HELLO_RECORDS_MAX);
	FUZZ_CHECK(hl->hl_ech == 0 || hl->hl_ech == 1);
	if (hl->hl_records == 1) {
		base = wire;
		size = hl->hl_wire_len;
	} else {
		base = hl->hl_msg;
		size = sizeof(hl->hl_msg);
	}
	FUZZ_CHECK((hl->hl_name == NULL) == (hl->hl_name_len == 0));
	FUZZ_CHECK((hl->hl_alpn == NULL) == (hl->hl_alpn_len == 0));
	if (hl->hl_name != NULL) {
		FUZZ_CHECK(hl->hl_name_len <= 0xffff);
		FUZZ_CHECK(hello_fuzz_inside(hl->hl_name, hl->hl_name_len,
		    base, size));
		memcpy(fa->fa_name, hl->hl_name, hl->hl_name_len);
		fa->fa_name_len = hl->hl_name_len;
		fa->fa_has_name = 1;
	}
	if (hl->hl_alpn != NULL) {
		FUZZ_CHECK(hl->hl_alpn_len >= 2 && hl->hl_alpn_len <= 0xffff);
		FUZZ_CHECK(hello_fuzz_inside(hl->hl_alpn, hl->hl_alpn_len,
		    base, size));
		memcpy(fa->fa_alpn, hl->hl_alpn, hl->hl_alpn_len);
		fa->fa_alpn_len = hl->hl_alpn_len;
		fa->fa_has_alpn = 1;
	}
	fa->fa_ech = hl->hl_ech;
	fa->fa_wire_len = hl->hl_wire_len;
	fa->fa_records = hl->hl_records;
}

/* hello_fuzz_same - whether two complete answers agree in every field */
static int
hello_fuzz_same(const struct fuzz_answer *a, const struct fuzz_answer *b)
{
	return a->fa_has_name == b->fa_has_name &&
	    a->fa_name_len == b->fa_name_len &&
	    memcmp(a->fa_name, b->fa_name, a->fa_name_len) == 0 &&
	    a->fa_has_alpn == b->fa_has_alpn &&
	    a->fa_alpn_len == b->fa_alpn_len &&
	    memcmp(a->fa_alpn, b->fa_alpn, a->fa_alpn_len) == 0 &&
	    a->fa_ech == b->fa_ech && a->fa_wire_len == b->fa_wire_len &&
	    a->fa_records == b->fa_records;
}

/* hello_fuzz_name - hostname_normalize on a found name */
static void
hello_fuzz_name(const struct fuzz_answer *fa)
{
	char	 out[HOSTNAME_MAX + 1], again[HOSTNAME_MAX + 1];
	ssize_t	 n, m, i;

	if (!fa->fa_has_name)
		return;
	n = hostname_normalize(fa->fa_name, fa->fa_name_len, out);
	if (n == -1) {
		FUZZ_CHECK(out[0] == '\0');
		return;
	}
	FUZZ_CHECK(n >= 1 && n <= HOSTNAME_MAX && (size_t)n <= fa->fa_name_len);
	FUZZ_CHECK(strlen(out) == (size_t)n);
	for (i = 0; i < n; i++)
		FUZZ_CHECK((out[i] >= 'a' && out[i] <= 'z') ||
		    (out[i] >= '0' && out[i] <= '9') || out[i] == '-' ||
		    out[i] == '.');
	m = hostname_normalize((const uint8_t *)out, (size_t)n, again);
	FUZZ_CHECK(m == n && memcmp(out, again, (size_t)n + 1) == 0);
}

#define FUZZ_BACKENDS	6	/* 0 .. 5 in the table; 6 is the default */

/* hello_fuzz_tables - the route table hello_fuzz_route asks, made once */
static void
hello_fuzz_tables(struct names **nm, struct routes **rt)
{
	static struct names	*names;
	static struct routes	*routes;

	if (names == NULL) {
		if ((names = names_new()) == NULL ||
		    (routes = routes_new()) == NULL ||
		    names_add(names, "example.org", 0, NULL) == -1 ||
		    names_add(names, "*.example.org", 1, NULL) == -1 ||
		    names_add(names, "*", 2, NULL) == -1 ||
		    routes_add(routes, "h2", "example.org", 3, NULL) == -1 ||
		    routes_add(routes, "acme-tls/1", "*.example.org", 4,
		    NULL) == -1 ||
		    routes_add(routes, "acme-tls/1", "*", 4, NULL) == -1 ||
		    routes_add(routes, "http/1.1", "*", 5, NULL) == -1)
			abort();
	}
	*nm = names;
	*rt = routes;
}

/* hello_fuzz_offered - whether protocol is among the first offered ones */
static int
hello_fuzz_offered(const struct fuzz_answer *fa, const char *protocol)
{
	size_t	pos = 0, len, n, plen = strlen(protocol);

	for (n = 0; n < ROUTES_OFFERED_MAX && pos < fa->fa_alpn_len; n++) {
		len = fa->fa_alpn[pos++];
		if (len > fa->fa_alpn_len - pos)
			return 0;
		if (len == plen && memcmp(fa->fa_alpn + pos, protocol, len) == 0)
			return 1;
		pos += len;
	}
	return 0;
}

/* hello_fuzz_route - routes_lookup on what a complete hello offered */
static void
hello_fuzz_route(const struct fuzz_answer *fa)
{
	struct names	*nm;
	struct routes	*rt;
	char		 name[HOSTNAME_MAX + 1] = "";
	ssize_t		 len = -1;
	int		 b, protocol;

	if (fa->fa_result != HELLO_COMPLETE)
		return;
	hello_fuzz_tables(&nm, &rt);
	if (fa->fa_has_name)
		len = hostname_normalize(fa->fa_name, fa->fa_name_len, name);
	b = routes_lookup(nm, rt, FUZZ_BACKENDS, name, len,
	    fa->fa_has_alpn ? fa->fa_alpn : NULL, fa->fa_alpn_len, &protocol);
	FUZZ_CHECK(b >= 0 && b <= FUZZ_BACKENDS);
	FUZZ_CHECK(len > 0 || (b == FUZZ_BACKENDS && protocol == -1));
	if (protocol != -1) {
		FUZZ_CHECK(routes_protocol(rt, protocol) != NULL);
		FUZZ_CHECK(hello_fuzz_offered(fa, routes_protocol(rt,
		    protocol)));
	}
}

/*
 * hello_fuzz_prefix - parse the first len bytes alone, from a buffer of
 * exactly that size, and compare with the answer for the whole input.
 */
static void
hello_fuzz_prefix(const uint8_t *data, size_t len,
    const struct fuzz_answer *whole)
{
	static struct hello	 hl;
	static struct fuzz_answer fa;
	static uint8_t		 none;
	enum hello_result	 r;
	uint8_t			*copy = NULL;

	memset(&hl, 0xa5, offsetof(struct hello, hl_msg));
	if (len > 0) {
		if ((copy = malloc(len)) == NULL)
			abort();
		memcpy(copy, data, len);
	}
	r = hello_parse(copy != NULL ? copy : &none, len, &hl);
	hello_fuzz_check(copy != NULL ? copy : &none, len, &hl, r, &fa);
	free(copy);
	if (whole->fa_result == HELLO_NEED_MORE) {
		FUZZ_CHECK(r == HELLO_NEED_MORE);
		return;
	}
	if (whole->fa_result != HELLO_COMPLETE) {
		FUZZ_CHECK(r == HELLO_NEED_MORE || r == whole->fa_result);
		return;
	}
	/* the hello ends at fa_wire_len: no sooner, and the same after */
	if (len < whole->fa_wire_len) {
		FUZZ_CHECK(r == HELLO_NEED_MORE);
		FUZZ_CHECK(hl.hl_need <= whole->fa_wire_len - len);
		return;
	}
	FUZZ_CHECK(r == HELLO_COMPLETE && hello_fuzz_same(&fa, whole));
}

/*
 * hello_fuzz_resumed - hello_resume over the input in pieces, cut at
 * points drawn from a generator seeded by the input, each call on a
 * buffer of exactly the bytes so far
 */
static void
hello_fuzz_resumed(const uint8_t *data, size_t size,
    const struct fuzz_answer *whole, size_t whole_examined)
{
	static struct hello	 hl;
	static struct fuzz_answer fa;
	static uint8_t		 none;
	struct hello_walk	 hw;
	enum hello_result	 r = HELLO_NEED_MORE;
	uint32_t		 seed = (uint32_t)size * 2654435761U;
	size_t			 len = 0, step, examined = 0, answered = 0;
	uint8_t			*copy;

	if (size > 0)
		seed ^= data[0] | (uint32_t)data[size - 1] << 8;
	memset(&hw, 0, sizeof(hw));
	do {
		seed = seed * 1103515245U + 12345U;
		step = size / 4 + 1;
		len += 1 + (seed >> 8) % step;
		if (len > size)
			len = size;
		copy = len > 0 ? malloc(len) : NULL;
		if (len > 0 && copy == NULL)
			abort();
		if (copy != NULL)
			memcpy(copy, data, len);
		memset(&hl, 0xa5, offsetof(struct hello, hl_msg));
		r = hello_resume(copy != NULL ? copy : &none, len, &hw, &hl);
		hello_fuzz_check(copy != NULL ? copy : &none, len, &hl, r, &fa);
		free(copy);
		if (answered) {
			/* given again, without looking */
			FUZZ_CHECK(r == whole->fa_result && hl.hl_examined == 0);
			continue;
		}
		examined += hl.hl_examined;
		if (r != HELLO_NEED_MORE)
			answered = 1;
	} while (len < size && r != HELLO_COMPLETE);
	FUZZ_CHECK(r == whole->fa_result);
	FUZZ_CHECK(examined == whole_examined);
	if (r == HELLO_COMPLETE)
		FUZZ_CHECK(hello_fuzz_same(&fa, whole));
}

/* LLVMFuzzerTestOneInput - one input: the whole, then some prefixes */
/* hello_fuzz_foreign - hello_foreign's promises on data, parsed as r */
static void
hello_fuzz_foreign(const uint8_t *data, size_t size, enum hello_result r)
{
	enum hello_foreign	f = hello_foreign(data, size), p;
	size_t			n;

	FUZZ_CHECK(f == HELLO_FOREIGN_MORE || f == HELLO_FOREIGN_TLS ||
	    f == HELLO_FOREIGN_OTHER);
	FUZZ_CHECK(f != HELLO_FOREIGN_OTHER || r == HELLO_NOT_TLS);
	for (n = 0; n < size && n <= 5; n++) {
		p = hello_foreign(data, n);
		FUZZ_CHECK(p == HELLO_FOREIGN_MORE || p == f);
	}
	FUZZ_CHECK(size < 5 || f != HELLO_FOREIGN_MORE);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct hello	 hl;
	static struct fuzz_answer whole;
	enum hello_result	 r;

	/* fields the parser must clear, poisoned */
	memset(&hl, 0xa5, offsetof(struct hello, hl_msg));
	r = hello_parse(data, size, &hl);
	hello_fuzz_check(data, size, &hl, r, &whole);
	hello_fuzz_name(&whole);
	hello_fuzz_route(&whole);
	hello_fuzz_foreign(data, size, r);
	hello_fuzz_resumed(data, size, &whole, hl.hl_examined);
	if (size == 0)
		return 0;
	hello_fuzz_prefix(data, size - 1, &whole);
	hello_fuzz_prefix(data, size / 2, &whole);
	if (r == HELLO_COMPLETE) {
		hello_fuzz_prefix(data, whole.fa_wire_len, &whole);
		hello_fuzz_prefix(data, whole.fa_wire_len - 1, &whole);
	}
	return 0;
}
