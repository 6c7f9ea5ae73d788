/*
 * fair_test.c - snitch-exec's share of programs among netblocks
 * (tools/fair.c) against tables: the netblock of an address, the -n
 * argument, and what a newcomer gets given who runs what.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdio.h>
#include <string.h>

#include "fair.h"
#include "tap.h"

/* fair_test_addr - text into a sockaddr_storage (port 1); 0, or -1 */
static int
fair_test_addr(const char *text, struct sockaddr_storage *ss)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (text == NULL)
		return 0;	/* AF_UNSPEC: no address */
	if (inet_pton(AF_INET, text, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(1);
		return 0;
	}
	if (inet_pton(AF_INET6, text, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(1);
		return 0;
	}
	return -1;
}

struct fair_block_case {
	const char	*bc_addr;	/* NULL: no address */
	unsigned	 bc_v4, bc_v6;
	int		 bc_family;	/* of the block */
	const char	*bc_block;	/* the masked address; NULL: none */
};

static const struct fair_block_case fair_block_cases[] = {
	{ "192.0.2.77", 32, 64, AF_INET, "192.0.2.77" },
	{ "192.0.2.77", 24, 64, AF_INET, "192.0.2.0" },
	{ "192.0.2.77", 31, 64, AF_INET, "192.0.2.76" },
	{ "192.0.2.77", 0, 64, AF_INET, "0.0.0.0" },
	{ "2001:db8:1:2:3:4:5:6", 32, 64, AF_INET6, "2001:db8:1:2::" },
	{ "2001:db8:1:2:3:4:5:6", 32, 128, AF_INET6, "2001:db8:1:2:3:4:5:6" },
	{ "2001:db8:1:2:3:4:5:6", 32, 56, AF_INET6, "2001:db8:1::" },
	{ "2001:db8:1:2ff:3:4:5:6", 32, 60, AF_INET6, "2001:db8:1:2f0::" },
	/* a dual-stack listener's IPv4 client is that IPv4 client */
	{ "::ffff:192.0.2.77", 24, 64, AF_INET, "192.0.2.0" },
	{ NULL, 32, 64, AF_UNSPEC, NULL },
};

/* test_block - each row's netblock, family and masked address */
static void
test_block(void)
{
	const struct fair_block_case	*bc;
	struct sockaddr_storage		 ss;
	struct netblock		 fb;
	struct fair			 fr;
	unsigned char			 want[16];
	size_t				 i;

	for (i = 0; i < sizeof(fair_block_cases) /
	    sizeof(fair_block_cases[0]); i++) {
		bc = &fair_block_cases[i];
		memset(want, 0, sizeof(want));
		if (bc->bc_block != NULL)
			(void)inet_pton(bc->bc_family, bc->bc_block, want);
		if (fair_init(&fr, 4, 0, bc->bc_v4, bc->bc_v6) < 0 ||
		    fair_test_addr(bc->bc_addr, &ss) < 0) {
			TAP_OK(0, "block %s: set up", bc->bc_addr);
			continue;
		}
		fair_block(&fr, &ss, &fb);
		TAP_OK(fb.nb_family == bc->bc_family &&
		    memcmp(fb.nb_addr, want, sizeof(want)) == 0,
		    "block of %s in /%u:/%u is %s",
		    bc->bc_addr ? bc->bc_addr : "no address", bc->bc_v4,
		    bc->bc_v6, bc->bc_block ? bc->bc_block : "the unknown");
		fair_free(&fr);
	}
}

struct fair_bits_case {
	const char	*bi_arg;
	int		 bi_ok;
	unsigned	 bi_v4, bi_v6;	/* -n from 32:64 */
};

static const struct fair_bits_case fair_bits_cases[] = {
	{ "24", 1, 24, 64 },
	{ "24:56", 1, 24, 56 },
	{ "32:128", 1, 32, 128 },
	{ "0:0", 1, 0, 0 },
	{ "33", 0, 0, 0 },
	{ "32:129", 0, 0, 0 },
	{ "", 0, 0, 0 },
	{ ":64", 0, 0, 0 },
	{ "24:", 0, 0, 0 },
	{ "24/64", 0, 0, 0 },
	{ "24:64:1", 0, 0, 0 },
	{ "-1", 0, 0, 0 },
	{ "99999999999", 0, 0, 0 },
};

/* test_bits - -n's argument: taken, or refused leaving the values */
static void
test_bits(void)
{
	const struct fair_bits_case	*bi;
	unsigned			 v4, v6;
	size_t				 i;
	int				 r;

	for (i = 0; i < sizeof(fair_bits_cases) /
	    sizeof(fair_bits_cases[0]); i++) {
		bi = &fair_bits_cases[i];
		v4 = 32;
		v6 = 64;
		r = fair_bits(bi->bi_arg, &v4, &v6);
		if (bi->bi_ok)
			TAP_OK(r == 0 && v4 == bi->bi_v4 && v6 == bi->bi_v6,
			    "-n '%s' is /%u:/%u", bi->bi_arg, bi->bi_v4,
			    bi->bi_v6);
		else
			TAP_OK(r == -1 && v4 == 32 && v6 == 64,
			    "-n '%s' refused", bi->bi_arg);
	}
}

#define FAIR_TEST_RUNNING	8

struct fair_admit_case {
	const char		*ac_label;
	size_t			 ac_max, ac_share;
	const char		*ac_running[FAIR_TEST_RUNNING]; /* one each */
	const char		*ac_newcomer;
	enum fair_verdict	 ac_verdict;
	const char		*ac_victim;	/* FAIR_EVICT: its source */
};

static const struct fair_admit_case fair_admit_cases[] = {
	{ "empty", 3, 1, { NULL }, "192.0.2.1", FAIR_RUN, NULL },
	{ "room, another source", 3, 1, { "192.0.2.2" }, "192.0.2.1",
	  FAIR_RUN, NULL },
	{ "room, own share reached", 3, 1, { "192.0.2.2" }, "192.0.2.2",
	  FAIR_REFUSE_SOURCE, NULL },
	{ "room, no share (0)", 3, 0, { "192.0.2.2", "192.0.2.2" },
	  "192.0.2.2", FAIR_RUN, NULL },
	/* the case: one source holds all, another comes */
	{ "full, one source holds all", 3, 0,
	  { "192.0.2.2", "192.0.2.2", "192.0.2.2" }, "192.0.2.1",
	  FAIR_EVICT, "192.0.2.2" },
	{ "full, the busiest itself", 3, 0,
	  { "192.0.2.2", "192.0.2.2", "192.0.2.2" }, "192.0.2.2",
	  FAIR_REFUSE_BUSY, NULL },
	/* one more only: swapping would go back and forth */
	{ "full, busiest one more", 3, 0,
	  { "192.0.2.2", "192.0.2.2", "192.0.2.1" }, "192.0.2.1",
	  FAIR_REFUSE_BUSY, NULL },
	{ "full, busiest two more", 4, 0,
	  { "192.0.2.2", "192.0.2.2", "192.0.2.2", "192.0.2.1" },
	  "192.0.2.1", FAIR_EVICT, "192.0.2.2" },
	{ "full, all even", 3, 0,
	  { "192.0.2.2", "192.0.2.3", "192.0.2.4" }, "192.0.2.1",
	  FAIR_REFUSE_BUSY, NULL },
	{ "full, the busiest of two", 5, 0,
	  { "192.0.2.2", "192.0.2.3", "192.0.2.3", "192.0.2.3",
	    "192.0.2.2" }, "192.0.2.1", FAIR_EVICT, "192.0.2.3" },
	{ "full, share reached too: busy, as before", 2, 1,
	  { "192.0.2.2", "192.0.2.3" }, "192.0.2.2", FAIR_REFUSE_BUSY, NULL },
	/* a /64 is one source */
	{ "IPv6 /64, one source", 3, 0,
	  { "2001:db8::1", "2001:db8::2", "2001:db8::3" }, "2001:db8:0:1::1",
	  FAIR_EVICT, "2001:db8::" },
	{ "IPv6 /64, the busiest itself", 3, 0,
	  { "2001:db8::1", "2001:db8::2", "2001:db8::3" }, "2001:db8::4",
	  FAIR_REFUSE_BUSY, NULL },
};

/* test_admit - each row's verdict after its programs were added */
static void
test_admit(void)
{
	const struct fair_admit_case	*ac;
	const struct fair_source	*victim;
	struct sockaddr_storage		 ss;
	struct netblock		 fb, want;
	struct fair			 fr;
	enum fair_verdict		 v;
	size_t				 i, k;

	for (i = 0; i < sizeof(fair_admit_cases) /
	    sizeof(fair_admit_cases[0]); i++) {
		ac = &fair_admit_cases[i];
		if (fair_init(&fr, ac->ac_max, ac->ac_share, 32, 64) < 0) {
			TAP_OK(0, "%s: fair_init", ac->ac_label);
			continue;
		}
		for (k = 0; k < FAIR_TEST_RUNNING && ac->ac_running[k]; k++) {
			(void)fair_test_addr(ac->ac_running[k], &ss);
			fair_block(&fr, &ss, &fb);
			(void)fair_add(&fr, &fb);
		}
		(void)fair_test_addr(ac->ac_newcomer, &ss);
		fair_block(&fr, &ss, &fb);
		v = fair_admit(&fr, &fb, &victim);
		if (ac->ac_victim == NULL) {
			TAP_OK(v == ac->ac_verdict && victim == NULL,
			    "%s: verdict %d", ac->ac_label, ac->ac_verdict);
		} else {
			(void)fair_test_addr(ac->ac_victim, &ss);
			fair_block(&fr, &ss, &want);
			TAP_OK(v == ac->ac_verdict && victim != NULL &&
			    memcmp(&victim->fs_block, &want,
			    sizeof(want)) == 0, "%s: verdict %d, from %s",
			    ac->ac_label, ac->ac_verdict, ac->ac_victim);
		}
		fair_free(&fr);
	}
}

/* test_remove - counts go down, a source's slot is reused */
static void
test_remove(void)
{
	const struct fair_source	*a, *b, *victim;
	struct sockaddr_storage		 ss;
	struct netblock		 fa, fb;
	struct fair			 fr;

	if (fair_init(&fr, 2, 0, 32, 64) < 0) {
		TAP_OK(0, "remove: fair_init");
		return;
	}
	(void)fair_test_addr("192.0.2.1", &ss);
	fair_block(&fr, &ss, &fa);
	(void)fair_test_addr("192.0.2.2", &ss);
	fair_block(&fr, &ss, &fb);
	a = fair_add(&fr, &fa);
	TAP_OK(fair_add(&fr, &fa) == a && a->fs_running == 2 &&
	    fr.fr_running == 2, "remove: one source, counted twice");
	fair_remove(&fr, a);
	b = fair_add(&fr, &fb);
	TAP_OK(b != a && a->fs_running == 1 && b->fs_running == 1,
	    "remove: the other source in a slot of its own");
	fair_remove(&fr, a);
	TAP_OK(a->fs_running == 0 && fr.fr_running == 1 &&
	    fair_admit(&fr, &fa, &victim) == FAIR_RUN,
	    "remove: the source is gone, room again");
	fair_free(&fr);
}

/* main - every table, then the counts */
int
main(void)
{
	test_block();
	test_bits();
	test_admit();
	test_remove();
	return TAP_DONE();
}
