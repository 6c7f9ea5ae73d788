/*
 * source.c - the connections still peeking, by the netblock they come
 * from: who holds the most, and which of theirs waited longest.
 *
 * Runs in the worker, unprivileged; a leaf that conn.c keeps up to date
 * (source_add when a connection starts peeking, source_remove when it
 * stops) and evict.c asks.  A client picks its address, so:
 *  - the table of netblocks is hashed with a key drawn at start
 *    (netblock_hash), and its chains are bounded by what is peeking;
 *  - every operation is O(1): each netblock sits in the bucket of its
 *    count (w_source_counts[n]: the netblocks with n peeking), so the
 *    busiest is the first of the highest non-empty bucket, and a count
 *    only ever moves by one, so that highest bucket is found again by
 *    stepping down once.
 * A netblock's connections are in accept order, oldest first, which is
 * the order of their peek deadlines (w_peeking).
 *
 * Memory: one entry per connection slot at most (max_pending), and a
 * hash of twice that, both calloc'd and touched only when used.
 */
#include <stdlib.h>

#include <bsd/stdlib.h>

#include "log.h"
#include "worker.h"

#define SOURCE_DRAIN_MS	1000	/* a stall forgotten, per netblock */

/* source_head - the hash chain's head for nb */
static uint32_t *
source_head(struct worker *w, const struct netblock *nb)
{
	return &w->w_source_hash[netblock_hash(nb, w->w_source_key) &
	    w->w_source_mask];
}

/* source_init - the table for w_nconns connections; -1 out of memory */
int
source_init(struct worker *w)
{
	size_t	buckets = 1, counts;

	while (buckets < 2 * w->w_nconns)
		buckets <<= 1;
	counts = w->w_conf.wc_max_pending_per_source < w->w_nconns ?
	    w->w_conf.wc_max_pending_per_source : w->w_nconns;
	/* +2: a netblock may be one over its limit until evict.c acts */
	w->w_source_ncounts = counts + 2;
	w->w_sources = calloc(w->w_nconns, sizeof(*w->w_sources));
	w->w_source_hash = calloc(buckets, sizeof(*w->w_source_hash));
	w->w_source_counts = calloc(w->w_source_ncounts,
	    sizeof(*w->w_source_counts));
	if (w->w_sources == NULL || w->w_source_hash == NULL ||
	    w->w_source_counts == NULL)
		return -1;
	w->w_source_mask = (uint32_t)(buckets - 1);
	arc4random_buf(w->w_source_key, sizeof(w->w_source_key));
	TAILQ_INIT(&w->w_source_free);
	for (counts = 0; counts < w->w_source_ncounts; counts++)
		TAILQ_INIT(&w->w_source_counts[counts]);
	return 0;
}

/* source_free - release the table, at exit */
void
source_free(struct worker *w)
{
	free(w->w_sources);
	free(w->w_source_hash);
	free(w->w_source_counts);
	w->w_sources = NULL;
	w->w_source_hash = NULL;
	w->w_source_counts = NULL;
}

/* source_find - nb's entry, made (with no connection) if it has none */
static struct source *
source_find(struct worker *w, const struct netblock *nb)
{
	uint32_t	*head = source_head(w, nb), i;
	struct source	*s;

	for (i = *head; i != 0; i = w->w_sources[i - 1].sr_next)
		if (netblock_equal(&w->w_sources[i - 1].sr_block, nb))
			return &w->w_sources[i - 1];
	/* At most one entry per connection peeking: one is always free. */
	if ((s = TAILQ_FIRST(&w->w_source_free)) != NULL)
		TAILQ_REMOVE(&w->w_source_free, s, sr_link);
	else if (w->w_source_fresh < w->w_nconns)
		s = &w->w_sources[w->w_source_fresh++];
	else
		log_panic("%s: no free entry of %zu", __func__, w->w_nconns);
	s->sr_block = *nb;
	s->sr_count = 0;
	s->sr_stalls = 0;
	s->sr_drained = w->w_now;
	TAILQ_INIT(&s->sr_conns);
	s->sr_next = *head;
	*head = (uint32_t)(s - w->w_sources) + 1;
	TAILQ_INSERT_TAIL(&w->w_source_counts[0], s, sr_link);
	return s;
}

/* source_unlink - s has no connection left: out of the hash, free */
static void
source_unlink(struct worker *w, struct source *s)
{
	uint32_t	*p = source_head(w, &s->sr_block);
	uint32_t	 me = (uint32_t)(s - w->w_sources) + 1;

	while (*p != me)
		p = &w->w_sources[*p - 1].sr_next;
	*p = s->sr_next;
	TAILQ_REMOVE(&w->w_source_counts[0], s, sr_link);
	TAILQ_INSERT_HEAD(&w->w_source_free, s, sr_link);
}

/* source_recount - s's count becomes n: into that bucket, at its tail */
static void
source_recount(struct worker *w, struct source *s, uint32_t n)
{
	if (n >= w->w_source_ncounts)
		log_panic("%s: %u peeking from one netblock, at most %zu",
		    __func__, n, w->w_source_ncounts - 1);
	TAILQ_REMOVE(&w->w_source_counts[s->sr_count], s, sr_link);
	TAILQ_INSERT_TAIL(&w->w_source_counts[n], s, sr_link);
	s->sr_count = n;
	if (n > w->w_source_top)
		w->w_source_top = n;
	while (w->w_source_top > 0 &&
	    TAILQ_EMPTY(&w->w_source_counts[w->w_source_top]))
		w->w_source_top--;
}

/* source_add - c starts peeking */
void
source_add(struct worker *w, struct conn *c)
{
	struct netblock	 nb;
	struct source	*s;

	netblock_of(&c->cn_peer.sa, w->w_conf.wc_netblock_ipv4,
	    w->w_conf.wc_netblock_ipv6, &nb);
	s = source_find(w, &nb);
	TAILQ_INSERT_TAIL(&s->sr_conns, c, cn_source_link);
	c->cn_source = (uint32_t)(s - w->w_sources);
	source_recount(w, s, s->sr_count + 1);
}

/* source_count - how many of c's netblock are peeking, c included */
uint32_t
source_count(const struct worker *w, const struct conn *c)
{
	return w->w_sources[c->cn_source].sr_count;
}

/* source_remove - c stops peeking */
void
source_remove(struct worker *w, struct conn *c)
{
	struct source	*s = &w->w_sources[c->cn_source];

	TAILQ_REMOVE(&s->sr_conns, c, cn_source_link);
	source_recount(w, s, s->sr_count - 1);
	if (s->sr_count == 0)
		source_unlink(w, s);
}

/* source_oldest - the connection of c's netblock that waited longest */
struct conn *
source_oldest(struct worker *w, const struct conn *c)
{
	return TAILQ_FIRST(&w->w_sources[c->cn_source].sr_conns);
}

/*
 * source_busiest - the oldest peeking connection of a netblock with the
 * most peeking (the one longest at that count), or NULL if none peeks
 */
struct conn *
source_busiest(struct worker *w)
{
	struct source	*s = TAILQ_FIRST(&w->w_source_counts[w->w_source_top]);

	return w->w_source_top == 0 || s == NULL ? NULL :
	    TAILQ_FIRST(&s->sr_conns);
}

/*
 * source_stall - one more of c's netblock stalled (penalty.c): its
 * stalls drain at one per SOURCE_DRAIN_MS; 1 when limit of them are
 * outstanding (the count starts again from 0), else 0
 */
int
source_stall(struct worker *w, const struct conn *c, uint32_t limit)
{
	struct source	*s = &w->w_sources[c->cn_source];
	uint64_t	 drained = (w->w_now - s->sr_drained) / SOURCE_DRAIN_MS;

	s->sr_stalls = drained >= s->sr_stalls ? 0 :
	    s->sr_stalls - (uint32_t)drained;
	s->sr_drained += drained * SOURCE_DRAIN_MS;
	if (++s->sr_stalls < limit)
		return 0;
	s->sr_stalls = 0;
	return 1;
}

/* source_block - c's netblock, for a log line */
const struct netblock *
source_block(const struct worker *w, const struct conn *c)
{
	return &w->w_sources[c->cn_source].sr_block;
}
