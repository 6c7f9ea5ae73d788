/*
 * names_test.c - the route table: precedence, normalization, duplicates,
 * and size (100,000 names must still be a hash lookup).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

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
	size_t		 i;
	int		 got;

	for (i = 0; i < sizeof(route_rows) / sizeof(route_rows[0]); i++) {
		const struct route_row *r = &route_rows[i];
		got = names_lookup(nm, r->name, strlen(r->name));
		TAP_OK(got == r->backend, "lookup %s: %s -> %d (got %d)",
		    r->label, r->name, r->backend, got);
	}
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
	TAP_OK(names_add(nm, "*", 1, NULL) == 0, "add *");
	TAP_OK(names_add(nm, "*", 2, &other) == -1 && errno == EEXIST &&
	    other == 1, "duplicate *");
	for (i = 0; bad[i] != NULL; i++)
		TAP_OK(names_add(nm, bad[i], 1, NULL) == -1 && errno == EINVAL,
		    "rejects pattern '%s'", bad[i]);
	names_free(nm);
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

int
main(void)
{
	test_routes();
	test_add_errors();
	test_walk();
	test_many();
	return TAP_DONE();
}
