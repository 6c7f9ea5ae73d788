/*
 * tally_test.c - tally_add and tally_add_live against a table.
 *
 * Each row adds a few worker slots (its generation's backend names, a
 * worker index, live or dead, and what the slot counted) to an empty
 * tally, and says what the totals must be: a dead slot's pending is
 * lost, a live one's is pending and per worker index; backends are
 * matched by name across generations, whatever their order.
 */
#include <stdlib.h>
#include <string.h>

#include "tally.h"
#include "tap.h"

#define TEST_SLOTS_MAX	3
#define TEST_NAMES_MAX	3

struct test_slot {
	const char	*ts_names[TEST_NAMES_MAX];	/* its generation's */
	size_t		 ts_index;
	int		 ts_dead;
	uint64_t	 ts_accepted;
	uint64_t	 ts_pending;
	uint64_t	 ts_lost;
	uint64_t	 ts_peek0;	/* in the first peek bucket */
	uint64_t	 ts_handoff[TEST_NAMES_MAX];	/* by ts_names */
};

struct test_case {
	const char		*tc_label;
	struct test_slot	 tc_slots[TEST_SLOTS_MAX];
	size_t			 tc_nslots;
	uint64_t		 tc_accepted;
	uint64_t		 tc_pending;
	uint64_t		 tc_lost;
	uint64_t		 tc_peek0;
	size_t			 tc_nworkers;	/* pending per index: */
	uint64_t		 tc_by_index[TEST_SLOTS_MAX];
	const char		*tc_names[TEST_NAMES_MAX + 1];	/* in order */
	uint64_t		 tc_handoff[TEST_NAMES_MAX];
};

static const struct test_case test_cases[] = {
	{ "nothing added", { { { NULL }, 0, 0, 0, 0, 0, 0, { 0 } } }, 0,
	  0, 0, 0, 0, 0, { 0 }, { NULL }, { 0 } },
	{ "one live slot", {
	    { { "alpha" }, 0, 0, 5, 2, 0, 3, { 3 } } }, 1,
	  5, 2, 0, 3, 1, { 2 }, { "alpha", NULL }, { 3 } },
	{ "a dead slot's pending is lost, not pending", {
	    { { "alpha" }, 0, 1, 5, 2, 1, 3, { 3 } } }, 1,
	  5, 0, 3, 3, 0, { 0 }, { "alpha", NULL }, { 3 } },
	{ "two generations, same index: pending adds up per index", {
	    { { "alpha" }, 1, 0, 4, 1, 0, 0, { 3 } },
	    { { "alpha" }, 1, 0, 6, 2, 0, 0, { 4 } } }, 2,
	  10, 3, 0, 0, 2, { 0, 3 }, { "alpha", NULL }, { 7 } },
	{ "backends matched by name, reordered by a reload", {
	    { { "alpha", "beta" }, 0, 1, 9, 0, 0, 0, { 1, 2 } },
	    { { "beta", "alpha" }, 0, 0, 9, 0, 0, 0, { 10, 20 } } }, 2,
	  18, 0, 0, 0, 1, { 0 }, { "alpha", "beta", NULL }, { 21, 12 } },
	{ "a backend dropped and a tenant added keep their totals", {
	    { { "alpha", "gone" }, 0, 1, 3, 0, 0, 0, { 1, 2 } },
	    { { "alpha", "tenant:bob" }, 0, 0, 3, 0, 0, 0, { 1, 1 } },
	    { { "alpha" }, 2, 0, 1, 1, 0, 1, { 1 } } }, 3,
	  7, 1, 0, 1, 3, { 0, 0, 1 },
	  { "alpha", "gone", "tenant:bob", NULL }, { 3, 2, 1 } },
};

/* test_names - a slot's generation's backends, names only */
static size_t
test_names(const struct test_slot *ts, struct wconf_backend *wb)
{
	size_t	n;

	for (n = 0; n < TEST_NAMES_MAX && ts->ts_names[n] != NULL; n++)
		strcpy(wb[n].wb_name, ts->ts_names[n]);
	return n;
}

/* test_add - fill a slot as ts says and add it to ty */
static int
test_add(struct tally *ty, const struct test_slot *ts)
{
	struct wconf_backend	 wb[TEST_NAMES_MAX];
	struct counters_worker	*cw;
	size_t			 n = test_names(ts, wb), i;
	int			 rc;

	if ((cw = calloc(1, counters_slot_size(n))) == NULL)
		abort();
	cw->cw_accepted = ts->ts_accepted;
	cw->cw_pending = ts->ts_pending;
	cw->cw_lost = ts->ts_lost;
	cw->cw_peek_ms[0] = ts->ts_peek0;
	for (i = 0; i < n; i++)
		cw->cw_backends[i].cb_handoff = ts->ts_handoff[i];
	rc = ts->ts_dead ? tally_add(ty, cw, n, wb, 1) :
	    tally_add_live(ty, ts->ts_index, cw, n, wb);
	free(cw);
	return rc;
}

/* test_backends - ty's backends are names, in order, with handoffs */
static int
test_backends(const struct tally *ty, const struct test_case *tc)
{
	size_t	i;

	for (i = 0; tc->tc_names[i] != NULL; i++)
		if (i >= ty->ty_nbackends ||
		    strcmp(ty->ty_backends[i].tb_name, tc->tc_names[i]) != 0 ||
		    ty->ty_backends[i].tb_counts.cb_handoff !=
		    tc->tc_handoff[i])
			return 0;
	return i == ty->ty_nbackends;
}

/* test_case - one row: add its slots, check every total */
static void
test_case(const struct test_case *tc)
{
	struct tally	ty, copy;
	size_t		i;
	int		rc = 0;

	memset(&ty, 0, sizeof(ty));
	for (i = 0; i < tc->tc_nslots; i++)
		rc |= test_add(&ty, &tc->tc_slots[i]);
	TAP_OK(rc == 0, "%s: added", tc->tc_label);
	TAP_OK(ty.ty_w.cw_accepted == tc->tc_accepted &&
	    ty.ty_w.cw_pending == tc->tc_pending &&
	    ty.ty_lost == tc->tc_lost &&
	    ty.ty_w.cw_peek_ms[0] == tc->tc_peek0,
	    "%s: accepted %llu pending %llu lost %llu", tc->tc_label,
	    (unsigned long long)ty.ty_w.cw_accepted,
	    (unsigned long long)ty.ty_w.cw_pending,
	    (unsigned long long)ty.ty_lost);
	TAP_OK(ty.ty_nworkers == tc->tc_nworkers && (tc->tc_nworkers == 0 ||
	    memcmp(ty.ty_pending, tc->tc_by_index, tc->tc_nworkers *
	    sizeof(uint64_t)) == 0), "%s: pending by worker index",
	    tc->tc_label);
	TAP_OK(test_backends(&ty, tc), "%s: backends by name", tc->tc_label);
	/* a copy is the same, and adding to it leaves the original alone */
	TAP_OK(tally_copy(&copy, &ty) == 0 && test_backends(&copy, tc) &&
	    copy.ty_nworkers == ty.ty_nworkers, "%s: copied", tc->tc_label);
	if (tally_backend(&copy, "another") != NULL)
		TAP_OK(test_backends(&ty, tc), "%s: the copy is its own",
		    tc->tc_label);
	tally_clear(&copy);
	tally_clear(&ty);
}

int
main(void)
{
	char	long_name[WCONF_NAME_MAX + 2];
	struct tally ty;
	size_t	i;

	for (i = 0; i < sizeof(test_cases) / sizeof(test_cases[0]); i++)
		test_case(&test_cases[i]);
	memset(long_name, 'x', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	memset(&ty, 0, sizeof(ty));
	TAP_OK(tally_backend(&ty, long_name) == NULL && ty.ty_nbackends == 0,
	    "a name longer than WCONF_NAME_MAX is refused");
	tally_clear(&ty);
	return TAP_DONE();
}
