/*
 * names_test.c - the route table: precedence, normalization, duplicates,
 * and size (100,000 names must still be a hash lookup); wildcards at
 * several depths and lengths, since lookup only probes the suffixes
 * whose length some wildcard has.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "hostname.h"
#include "names.h"
#include "tap.h"

struct route_row {
	const char	*label;
	const char	*name;		/* normalized, as the worker asks */
	int		 backend;	/* expected, -1 none */
};

static const struct route_row route_rows[] = {
	{ "exact", "example.org", 0 },
	{ "exact wins over wildcard", "www.example.org", 1 },
	{ "wildcard one label", "a.example.org", 2 },
	{ "wildcard several labels", "a.b.c.example.org", 2 },
	{ "longest suffix wins", "x.deep.example.org", 3 },
	{ "longest suffix, deeper", "y.x.deep.example.org", 3 },
	{ "suffix itself is not matched by its wildcard", "deep.example.org", 2 },
	{ "wildcard does not match its bare domain", "other.test", 4 },
	{ "catch-all", "unrelated.net", 4 },
	{ "normalized input from config", "mixed.case.test", 5 },
	{ "no partial label match", "xexample.org", 4 },
};

/* routes - the table route_rows is checked against */
static struct names *
routes(int with_any)
{
	struct names	*nm = names_new();

	names_add(nm, "example.org", 0, NULL);
	names_add(nm, "www.example.org", 1, NULL);
	names_add(nm, "*.example.org", 2, NULL);
	names_add(nm, "*.deep.example.org", 3, NULL);
	names_add(nm, "Mixed.CASE.test.", 5, NULL);
	if (with_any)
		names_add(nm, "*", 4, NULL);
	return nm;
}

static void
test_routes(void)
{
	struct names	*nm = routes(1), *none = routes(0);
	enum names_kind	 kind;
	size_t		 i, suffix;
	int		 got;

	for (i = 0; i < sizeof(route_rows) / sizeof(route_rows[0]); i++) {
		const struct route_row *r = &route_rows[i];
		got = names_lookup(nm, r->name, strlen(r->name));
		TAP_OK(got == r->backend, "lookup %s: %s -> %d (got %d)",
		    r->label, r->name, r->backend, got);
		TAP_OK(names_match(nm, r->name, strlen(r->name), &kind,
		    &suffix) == got, "names_match agrees: %s", r->name);
	}
	TAP_OK(names_match(nm, "www.example.org", 15, &kind, &suffix) == 1 &&
	    kind == NAMES_EXACT && suffix == 0, "names_match: exact");
	TAP_OK(names_match(nm, "x.deep.example.org", 18, &kind, &suffix) == 3 &&
	    kind == NAMES_WILD && suffix == 16, "names_match: wildcard, suffix "
	    "length 16 (got %zu)", suffix);
	TAP_OK(names_match(nm, "unrelated.net", 13, &kind, &suffix) == 4 &&
	    kind == NAMES_ANY, "names_match: *");
	TAP_OK(names_match(none, "unrelated.net", 13, &kind, &suffix) == -1 &&
	    kind == NAMES_NONE, "names_match: nothing");
	TAP_OK(names_lookup(none, "unrelated.net", 13) == -1,
	    "no catch-all: unknown name has no route");
	TAP_OK(names_count(nm) == 6, "count includes * (got %zu)",
	    names_count(nm));
	names_free(nm);
	names_free(none);
}

static void
test_add_errors(void)
{
	struct names	*nm = names_new();
	const char	*bad[] = { "", "*.", "**", "*.*.a", "a*.b", "bad_name!.com",
			    "1.2.3.4", "[::1]", "a..b", "-a.b", NULL };
	int		 other = -9, i;

	TAP_OK(names_add(nm, "a.test", 1, NULL) == 0, "add a.test");
	TAP_OK(names_add(nm, "A.TEST.", 2, &other) == -1 && errno == EEXIST &&
	    other == 1, "same name after normalization is a duplicate of 1");
	TAP_OK(names_add(nm, "*.a.test", 2, NULL) == 0,
	    "wildcard of an exact name is a different pattern");
	TAP_OK(names_add(nm, "*.A.test", 3, &other) == -1 && errno == EEXIST &&
	    other == 2, "duplicate wildcard");
	TAP_OK(names_add(nm, "big.test", INT32_MAX, NULL) == 0 &&
	    names_lookup(nm, "big.test", 8) == INT32_MAX &&
	    names_add(nm, "big.test", 1, &other) == -1 && other == INT32_MAX,
	    "a backend number is kept whole");
	TAP_OK(names_add(nm, "*", 1, NULL) == 0, "add *");
	TAP_OK(names_add(nm, "*", 2, &other) == -1 && errno == EEXIST &&
	    other == 1, "duplicate *");
	for (i = 0; bad[i] != NULL; i++)
		TAP_OK(names_add(nm, bad[i], 1, NULL) == -1 && errno == EINVAL,
		    "rejects pattern '%s'", bad[i]);
	names_free(nm);
}

struct pattern_row {
	const char	*pattern;
	int		 backend;
};

/* Wildcards at depths 1, 2, 3 and 5 (none at 4), two of one length. */
static const struct pattern_row depth_patterns[] = {
	{ "*.test", 10 },
	{ "*.a.test", 11 },
	{ "*.b.a.test", 12 },
	{ "*.d.c.b.a.test", 14 },
	{ "*.ab.test", 20 },
	{ "*.cd.test", 21 },
	{ "exact.b.a.test", 30 },
	{ NULL, 0 },
};

static const struct route_row depth_rows[] = {
	{ "wildcard at depth 1", "x.test", 10 },
	{ "wildcard at depth 2", "x.a.test", 11 },
	{ "wildcard at depth 3", "x.b.a.test", 12 },
	{ "no wildcard at depth 4: depth 3 wins", "x.c.b.a.test", 12 },
	{ "wildcard at depth 5", "x.d.c.b.a.test", 14 },
	{ "deeper than every wildcard", "y.x.d.c.b.a.test", 14 },
	{ "exact first", "exact.b.a.test", 30 },
	{ "below an exact name, its wildcard", "x.exact.b.a.test", 12 },
	{ "two wildcards of one length, one", "x.ab.test", 20 },
	{ "two wildcards of one length, other", "x.cd.test", 21 },
	{ "a suffix of that length, no such wildcard", "x.ef.test", 10 },
	{ "a suffix length no wildcard has", "x.abc.test", 10 },
	{ "several labels over a short wildcard", "p.q.r.cd.test", 21 },
	{ "bare domain of the shortest wildcard", "test", -1 },
	{ "another domain", "x.example", -1 },
};

/* Only "*.ab.test" (7 bytes stored): other lengths are never probed. */
static const struct pattern_row lone_patterns[] = {
	{ "*.ab.test", 20 },
	{ NULL, 0 },
};

static const struct route_row lone_rows[] = {
	{ "lone wildcard", "x.ab.test", 20 },
	{ "lone wildcard, several labels", "x.y.ab.test", 20 },
	{ "suffix length no wildcard has", "x.abc.test", -1 },
	{ "suffix length no wildcard has, deeper", "x.y.b.test", -1 },
	{ "same length, other name", "x.zz.test", -1 },
	{ "bare domain", "ab.test", -1 },
	{ "shorter than the wildcard", "b.test", -1 },
};

/* table_of - a table of patterns, NULL-terminated; NULL on any failure */
static struct names *
table_of(const struct pattern_row *p)
{
	struct names	*nm = names_new();

	for (; nm != NULL && p->pattern != NULL; p++)
		if (names_add(nm, p->pattern, p->backend, NULL) == -1) {
			names_free(nm);
			return NULL;
		}
	return nm;
}

/* check_rows - look each row's name up in nm */
static void
check_rows(const struct names *nm, const char *table,
    const struct route_row *r, size_t n)
{
	int	got;

	for (; n-- > 0; r++) {
		got = names_lookup(nm, r->name, strlen(r->name));
		TAP_OK(got == r->backend, "%s: %s: %s -> %d (got %d)", table,
		    r->label, r->name, r->backend, got);
	}
}

static void
test_depths(void)
{
	struct names	*depth = table_of(depth_patterns);
	struct names	*lone = table_of(lone_patterns);

	TAP_OK(depth != NULL && lone != NULL, "wildcard tables load");
	if (depth == NULL || lone == NULL)
		return;
	check_rows(depth, "depths", depth_rows,
	    sizeof(depth_rows) / sizeof(depth_rows[0]));
	check_rows(lone, "lone", lone_rows,
	    sizeof(lone_rows) / sizeof(lone_rows[0]));
	names_free(depth);
	names_free(lone);
}

/*
 * suffix_of - a host name of exactly len bytes (5 to 253): even,
 * "a.a. ... a.test"; odd, "ba.a. ... a.test", so that the suffixes after
 * a dot of either are the even names shorter than it (by 2 or 3 bytes).
 */
static void
suffix_of(char *buf, size_t len)
{
	size_t	i = 0;

	if (len % 2 == 1)
		buf[i++] = 'b';
	while (i < len - 4) {
		buf[i++] = 'a';
		buf[i++] = '.';
	}
	memcpy(buf + i, "test", 5);
}

struct length_row {
	size_t	 suffix;	/* "c." and suffix_of(this) is looked up */
	int	 backend;	/* the wildcard's length, or -1 */
};

/* Stored lengths on both sides of the bitmap's 64-bit words. */
static const size_t long_lengths[] = { 6, 62, 63, 64, 65, 128, 251 };

static const struct length_row long_rows[] = {
	{ 6, 6 }, { 62, 62 }, { 63, 63 }, { 64, 64 }, { 65, 65 },
	{ 66, 64 },	/* even: itself, then the even ones below */
	{ 67, 64 },	/* odd: itself, then the even ones 3 bytes shorter */
	{ 127, 64 }, { 129, 64 }, { 130, 128 }, { 131, 128 }, { 250, 128 },
	{ 251, 251 },	/* the lookup is 253 bytes, 126 labels */
	{ 5, -1 },
};

static void
test_lengths(void)
{
	struct names	*nm = names_new(), *every = names_new();
	char		 pattern[2 + HOSTNAME_MAX + 1], name[HOSTNAME_MAX + 1];
	size_t		 i, len;
	int		 ok = 1, got;

	for (i = 0; i < sizeof(long_lengths) / sizeof(long_lengths[0]); i++) {
		memcpy(pattern, "*.", 2);
		suffix_of(pattern + 2, long_lengths[i]);
		ok &= names_add(nm, pattern, (int)long_lengths[i], NULL) == 0;
	}
	TAP_OK(ok, "wildcards of 6 to 251 bytes load");
	for (i = 0; i < sizeof(long_rows) / sizeof(long_rows[0]); i++) {
		memcpy(name, "c.", 2);
		suffix_of(name + 2, long_rows[i].suffix);
		got = names_lookup(nm, name, strlen(name));
		TAP_OK(got == long_rows[i].backend,
		    "lengths: %zu-byte name -> %d (got %d)",
		    long_rows[i].suffix + 2, long_rows[i].backend, got);
	}
	/* Every length a candidate: the most a lookup can have. */
	for (len = 5; len <= HOSTNAME_MAX - 2; len++) {
		memcpy(pattern, "*.", 2);
		suffix_of(pattern + 2, len);
		ok &= names_add(every, pattern, (int)len, NULL) == 0;
	}
	TAP_OK(ok, "wildcards of every length from 5 to 251 bytes load");
	/*
	 * A lookup hashes each suffix on its way through the name: that
	 * must agree with names_add's hash at every length, so wherever
	 * the suffix starts in an 8-byte chunk.
	 */
	for (len = 5; len <= HOSTNAME_MAX - 2; len++) {
		memcpy(name, "c.", 2);
		suffix_of(name + 2, len);
		got = names_lookup(every, name, len + 2);
		if (got != (int)len) {
			TAP_OK(0, "every length: %zu-byte name got %d", len + 2,
			    got);
			break;
		}
	}
	TAP_OK(len > HOSTNAME_MAX - 2,
	    "a wildcard at every length: each name finds its own");
	/* "c.z.z. ... z.a.test": 123 candidates, only "a.test" is there. */
	for (len = 0; len < HOSTNAME_MAX - 7; len += 2)
		memcpy(name + len, len == 0 ? "c." : "z.", 2);
	memcpy(name + len, "a.test", 7);
	got = names_lookup(every, name, strlen(name));
	TAP_OK(got == 6, "a wildcard at every length: the shortest, after "
	    "every other candidate missed (got %d)", got);
	names_free(nm);
	names_free(every);
}

struct walk_seen {
	int	exact, wild, any;
};

/* walk_count - names_walk callback */
static int
walk_count(void *arg, const char *pattern, int backend)
{
	struct walk_seen *s = arg;

	if (strcmp(pattern, "*") == 0)
		s->any += backend == 7;
	else if (strncmp(pattern, "*.", 2) == 0)
		s->wild += strcmp(pattern, "*.w.test") == 0 && backend == 6;
	else
		s->exact += strcmp(pattern, "e.test") == 0 && backend == 5;
	return 0;
}

static void
test_walk(void)
{
	struct names		*nm = names_new();
	struct walk_seen	 seen = { 0, 0, 0 };

	names_add(nm, "E.test", 5, NULL);
	names_add(nm, "*.w.test", 6, NULL);
	names_add(nm, "*", 7, NULL);
	names_walk(nm, walk_count, &seen);
	TAP_OK(seen.exact == 1 && seen.wild == 1 && seen.any == 1,
	    "walk gives every pattern back, normalized, with its backend");
	names_free(nm);
}

/* walk_add - names_walk callback: add the pattern to another table */
static int
walk_add(void *arg, const char *pattern, int backend)
{
	return names_add(arg, pattern, backend, NULL);
}

static void
test_walk_copy(void)
{
	struct names	*nm = table_of(depth_patterns), *copy = names_new();

	names_add(nm, "*", 4, NULL);
	TAP_OK(names_walk(nm, walk_add, copy) == 0 &&
	    names_count(copy) == names_count(nm),
	    "walk into a new table copies every pattern (%zu)",
	    names_count(copy));
	/* Without the last two rows: "*" answers those now. */
	check_rows(copy, "copy", depth_rows,
	    sizeof(depth_rows) / sizeof(depth_rows[0]) - 2);
	TAP_OK(names_lookup(copy, "x.example", 9) == 4,
	    "copy: the catch-all too");
	names_free(nm);
	names_free(copy);
}

static void
test_many(void)
{
	struct names	*nm = names_new();
	char		 name[64];
	int		 i, ok = 1, dups = 0;

	for (i = 0; i < 100000; i++) {
		snprintf(name, sizeof(name), "host%d.tenant%d.example", i, i % 97);
		if (names_add(nm, name, i % 1000, NULL) == -1)
			ok = 0;
	}
	TAP_OK(ok && names_count(nm) == 100000, "100,000 names load");
	for (i = 0; i < 100000; i++) {
		snprintf(name, sizeof(name), "host%d.tenant%d.example", i, i % 97);
		if (names_lookup(nm, name, strlen(name)) != i % 1000)
			ok = 0;
		if (names_add(nm, name, 0, NULL) != -1)
			dups++;
	}
	TAP_OK(ok, "each of 100,000 names finds its backend");
	TAP_OK(dups == 0, "each of 100,000 names is refused a second time");
	TAP_OK(names_lookup(nm, "host1.tenant2.example", 21) == -1,
	    "a name not added is not found among 100,000");
	names_free(nm);
}

/* test_match - which pattern matched: the exact name, a suffix, or "*" */
static void
test_match(void)
{
	static const struct {
		const char	*name;
		int		 backend;
		enum names_kind	 kind;
		size_t		 suffix;
	} rows[] = {
		{ "example.org", 0, NAMES_EXACT, 0 },
		{ "a.example.org", 2, NAMES_WILD, 11 },
		{ "x.deep.example.org", 3, NAMES_WILD, 16 },
		{ "unrelated.net", 4, NAMES_ANY, 0 },
	};
	struct names	*nm = routes(1);
	enum names_kind	 kind;
	size_t		 i, suffix;
	int		 got;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		got = names_match(nm, rows[i].name, strlen(rows[i].name),
		    &kind, &suffix);
		TAP_OK(got == rows[i].backend && kind == rows[i].kind &&
		    suffix == rows[i].suffix,
		    "match %s -> %d kind %d suffix %zu (got %d, %d, %zu)",
		    rows[i].name, rows[i].backend, (int)rows[i].kind,
		    rows[i].suffix, got, (int)kind, suffix);
	}
	names_free(nm);
}

/* test_overlap - whether two patterns can match one name */
static void
test_overlap(void)
{
	static const struct {
		const char	*a, *b;
		int		 overlap;
	} rows[] = {
		{ "a.test", "a.test", 1 },
		{ "a.test", "b.test", 0 },
		{ "*.a.test", "a.test", 0 },
		{ "a.test", "*.a.test", 0 },
		{ "*.a.test", "www.a.test", 1 },
		{ "www.a.test", "*.a.test", 1 },
		{ "*.a.test", "*.a.test", 1 },
		{ "*.a.test", "*.x.a.test", 1 },
		{ "*.x.a.test", "*.a.test", 1 },
		{ "*.a.test", "*.xa.test", 0 },
		{ "*.a.test", "xa.test", 0 },
		{ "*.test", "*.a.test", 1 },
		{ "*", "a.test", 1 },
		{ "*.a.test", "*", 1 },
	};
	size_t	i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		TAP_OK(names_overlap(rows[i].a, rows[i].b) == rows[i].overlap,
		    "%s and %s %s", rows[i].a, rows[i].b,
		    rows[i].overlap ? "overlap" : "do not overlap");
}

int
main(void)
{
	test_routes();
	test_match();
	test_overlap();
	test_add_errors();
	test_depths();
	test_lengths();
	test_walk();
	test_walk_copy();
	test_many();
	return TAP_DONE();
}
