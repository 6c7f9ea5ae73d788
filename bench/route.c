/*
 * route.c - bench-route, the route table (common/names.c) alone.
 *
 * Run by `make bench-route` (bench/route.sh), unprivileged or not; no
 * network.  Loads 1,000,000 patterns, three exact names for one
 * wildcard, into one table as a worker would from its configuration,
 * then looks up a fixed mix of names: a third exact hits, a third
 * wildcard hits two labels below their pattern, a third misses.  Every
 * answer is checked against the backend the name was added with.
 *
 * names.c only probes the suffixes whose length some wildcard has, and
 * all wildcards here store 19 bytes ("w000123.example.net"): a wildcard
 * hit probes the exact table and one wildcard suffix, a miss
 * ("h000123.nosuch00015.example.org") only the exact table.  One more
 * run has misses that probe a wildcard suffix too, such as
 * "h000123.w000123.example.org": a miss when lengths do not help.
 *
 * Two query sets: "uniform" draws from all million names, so nearly
 * every probe misses the CPU caches (the worst case); "hot" draws from
 * 1,024 names of each kind spread over the table, as when a few names
 * get most of the traffic.  It prints the load time and lookups per
 * second, mixed and per kind, with the targets (load < 2 s, > 5 million
 * lookups/s).  The names are built before the clock starts, and the same
 * in every run (fixed seed).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "names.h"

#define ROUTE_PATTERNS		1000000
#define ROUTE_WILD_EVERY	4	/* one pattern in 4 is a wildcard */
#define ROUTE_QUERIES		(1 << 20)
#define ROUTE_BACKENDS		16
#define ROUTE_MIN_SECONDS	1.0	/* time each lookup run at least this */
#define ROUTE_NAME_MAX		64
#define ROUTE_HOT		1024	/* distinct names per kind, hot set */

#define ROUTE_TARGET_LOAD_S	2.0
#define ROUTE_TARGET_LOOKUPS	5e6

enum route_kind { KIND_EXACT, KIND_WILD, KIND_MISS, KIND_COUNT };

static const char *const route_kind_names[KIND_COUNT] = {
	"exact hits", "wildcard hits", "misses",
};

struct route_query {
	char		rq_name[ROUTE_NAME_MAX];
	size_t		rq_len;
	int		rq_want;	/* backend, or -1 */
	enum route_kind	rq_kind;
};

/* route_now - monotonic seconds */
static double
route_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* route_rand - xorshift64: the same names in every run */
static uint64_t
route_rand(uint64_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return *state;
}

/*
 * route_pattern - the i-th pattern and its backend: exact names
 * "h<n>.d<n/8>.example.com", wildcards "*.w<n>.example.net"
 */
static int
route_pattern(size_t i, char *buf, size_t size)
{
	size_t	n = i / ROUTE_WILD_EVERY;

	if (i % ROUTE_WILD_EVERY == ROUTE_WILD_EVERY - 1)
		snprintf(buf, size, "*.w%06zu.example.net", n);
	else {
		n = i - n;	/* the exact names, numbered 0.. */
		snprintf(buf, size, "h%06zu.d%05zu.example.com", n, n / 8);
	}
	return (int)(i % ROUTE_BACKENDS);
}

/* route_pick - a name number below n: any, or one of the hot set */
static size_t
route_pick(uint64_t *seed, size_t n, int hot)
{
	if (!hot)
		return route_rand(seed) % n;
	return route_rand(seed) % ROUTE_HOT * (n / ROUTE_HOT);
}

/*
 * route_queries - the lookup mix, in a shuffled order; with probe, the
 * misses have a suffix as long as the wildcards' (but under .org)
 */
static struct route_query *
route_queries(int hot, int probe)
{
	struct route_query	*q;
	uint64_t		 seed = 0x2545f4914f6cdd1dULL;
	size_t			 i, exact, wild, n;

	exact = ROUTE_PATTERNS - ROUTE_PATTERNS / ROUTE_WILD_EVERY;
	wild = ROUTE_PATTERNS / ROUTE_WILD_EVERY;
	if ((q = calloc(ROUTE_QUERIES, sizeof(*q))) == NULL)
		return NULL;
	for (i = 0; i < ROUTE_QUERIES; i++) {
		q[i].rq_kind = (enum route_kind)(route_rand(&seed) % KIND_COUNT);
		switch (q[i].rq_kind) {
		case KIND_EXACT:
			n = route_pick(&seed, exact, hot);
			snprintf(q[i].rq_name, sizeof(q[i].rq_name),
			    "h%06zu.d%05zu.example.com", n, n / 8);
			/* back to the pattern's index: skip the wildcards */
			n += n / (ROUTE_WILD_EVERY - 1);
			q[i].rq_want = (int)(n % ROUTE_BACKENDS);
			break;
		case KIND_WILD:
			n = route_pick(&seed, wild, hot);
			snprintf(q[i].rq_name, sizeof(q[i].rq_name),
			    "api.v2.w%06zu.example.net", n);
			n = n * ROUTE_WILD_EVERY + ROUTE_WILD_EVERY - 1;
			q[i].rq_want = (int)(n % ROUTE_BACKENDS);
			break;
		default:
			n = route_pick(&seed, exact, hot);
			snprintf(q[i].rq_name, sizeof(q[i].rq_name), probe ?
			    "h%06zu.w%06zu.example.org" :
			    "h%06zu.nosuch%05zu.example.org", n,
			    probe ? n : n / 8);
			q[i].rq_want = -1;
			break;
		}
		q[i].rq_len = strlen(q[i].rq_name);
	}
	return q;
}

/* route_lookups - lookups/s over the queries of one kind (or all) */
static double
route_lookups(const struct names *nm, const struct route_query *q,
    int kind, size_t *wrong)
{
	volatile int	sink = 0;
	double		t0, t;
	uint64_t	done = 0;
	size_t		i;
	int		b, sum = 0;

	t0 = route_now();
	do {
		for (i = 0; i < ROUTE_QUERIES; i++) {
			if (kind != -1 && q[i].rq_kind != (enum route_kind)kind)
				continue;
			b = names_lookup(nm, q[i].rq_name, q[i].rq_len);
			if (b != q[i].rq_want)
				(*wrong)++;
			sum += b;
			done++;
		}
		t = route_now() - t0;
	} while (t < ROUTE_MIN_SECONDS);
	sink = sum;
	(void)sink;
	return (double)done / t;
}

int
main(void)
{
	struct names		*nm;
	struct route_query	*q, *hq, *pq;
	struct rusage		 ru;
	char			(*patterns)[ROUTE_NAME_MAX];
	int			*backends;
	size_t			 i, wrong = 0;
	double			 t0, load_s, mixed, hot, probing;
	double			 per[KIND_COUNT];
	int			 k;

	patterns = calloc(ROUTE_PATTERNS, sizeof(*patterns));
	backends = calloc(ROUTE_PATTERNS, sizeof(*backends));
	if (patterns == NULL || backends == NULL ||
	    (q = route_queries(0, 0)) == NULL ||
	    (hq = route_queries(1, 0)) == NULL ||
	    (pq = route_queries(0, 1)) == NULL) {
		perror("bench-route");
		return 1;
	}
	for (i = 0; i < ROUTE_PATTERNS; i++)
		backends[i] = route_pattern(i, patterns[i], sizeof(patterns[i]));

	t0 = route_now();
	if ((nm = names_new()) == NULL) {
		perror("names_new");
		return 1;
	}
	for (i = 0; i < ROUTE_PATTERNS; i++)
		if (names_add(nm, patterns[i], backends[i], NULL) == -1) {
			perror(patterns[i]);
			return 1;
		}
	load_s = route_now() - t0;
	free(patterns);
	free(backends);

	mixed = route_lookups(nm, q, -1, &wrong);
	for (k = 0; k < KIND_COUNT; k++)
		per[k] = route_lookups(nm, q, k, &wrong);
	probing = route_lookups(nm, pq, KIND_MISS, &wrong);
	hot = route_lookups(nm, hq, -1, &wrong);
	getrusage(RUSAGE_SELF, &ru);

	printf("patterns: %zu (%d exact, %d wildcard), %zu in the table\n",
	    (size_t)ROUTE_PATTERNS,
	    ROUTE_PATTERNS - ROUTE_PATTERNS / ROUTE_WILD_EVERY,
	    ROUTE_PATTERNS / ROUTE_WILD_EVERY, names_count(nm));
	printf("load: %.3f s (target < %.0f s: %s)\n", load_s,
	    ROUTE_TARGET_LOAD_S, load_s < ROUTE_TARGET_LOAD_S ? "met" :
	    "NOT MET");
	printf("lookups, uniform over all names, mixed (1/3 exact hits, 1/3 "
	    "wildcard hits, 1/3 misses): %.2f million/s (target > %.0f "
	    "million/s: %s)\n", mixed / 1e6, ROUTE_TARGET_LOOKUPS / 1e6,
	    mixed > ROUTE_TARGET_LOOKUPS ? "met" : "NOT MET");
	for (k = 0; k < KIND_COUNT; k++)
		printf("lookups, uniform, %s only: %.2f million/s\n",
		    route_kind_names[k], per[k] / 1e6);
	printf("lookups, uniform, misses that probe a wildcard suffix too: "
	    "%.2f million/s\n", probing / 1e6);
	printf("lookups, hot set (%d names of each kind), mixed: %.2f "
	    "million/s (target > %.0f million/s: %s)\n", ROUTE_HOT,
	    hot / 1e6, ROUTE_TARGET_LOOKUPS / 1e6,
	    hot > ROUTE_TARGET_LOOKUPS ? "met" : "NOT MET");
	printf("wrong answers: %zu\n", wrong);
	printf("peak RSS of the process: %.0f MiB\n", ru.ru_maxrss / 1024.0);
	names_free(nm);
	free(q);
	free(hq);
	free(pq);
	return wrong == 0 ? 0 : 1;
}
