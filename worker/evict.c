/*
 * evict.c - room for a new connection, made of stalled ones.
 *
 * Runs in the worker, unprivileged.  A full table must not lock real
 * clients out (the kernel backlog would hold them behind the stalled
 * ones), so the worker never stops accepting while something can be
 * evicted.  What goes, in this order:
 *  1. the oldest connection already refused, lingering for its FIN;
 *  2. the oldest connection still reading its upstream PROXY header
 *     (upstream.c): a proxy sends it with its first segment, so one
 *     still here has stalled, and it has made the least progress of
 *     all, not even saying who its client is;
 *  3. from the netblock with the most connections peeking (source.c),
 *     the one that has waited longest without completing its hello.
 * A real client's hello comes within a round trip of its accept, so it
 * is rarely the oldest of anything; a flood's connections are.  Only a
 * table full of connections queued for busy backends, or handed and
 * not yet acknowledged, stops accepting (loop.c).
 *
 * Apart from a full table, a netblock may have at most
 * max_pending_per_source connections peeking: over it, its own oldest
 * goes, so that a busy source only ever pushes out itself.
 *
 * An evicted connection is closed with a FIN and nothing sent, counted
 * and logged in the access log as outcome "evicted"; the error log
 * gets at most one line a second (EVICT_LOG_MS) saying how many.
 */
#include <stdio.h>

#include "log.h"
#include "worker.h"

#define EVICT_LOG_MS	1000

/* evict_can - whether evict_for_room would free a slot */
int
evict_can(struct worker *w)
{
	return !TAILQ_EMPTY(&w->w_lingering) ||
	    !TAILQ_EMPTY(&w->w_proxying) || source_busiest(w) != NULL;
}

/* evict_log - say how many were evicted since the last line, if due */
void
evict_log(struct worker *w)
{
	if (w->w_evict_unlogged == 0 || w->w_now < w->w_evict_log_at)
		return;
	log_warnx("worker %d: evicted %llu stalled connections, the last "
	    "from %s (max_pending %zu, max_pending_per_source %u)",
	    w->w_index, (unsigned long long)w->w_evict_unlogged,
	    w->w_evict_last, w->w_nconns, w->w_conf.wc_max_pending_per_source);
	w->w_evict_unlogged = 0;
	w->w_evict_log_at = w->w_now + EVICT_LOG_MS;
}

/* evict_next_deadline - when evict_log has a line to write, or never */
uint64_t
evict_next_deadline(const struct worker *w)
{
	return w->w_evict_unlogged == 0 ? UINT64_MAX : w->w_evict_log_at;
}

/* evict - end c, peeking, to make room; why: "full", "per-source" */
static void
evict(struct worker *w, struct conn *c, const char *why)
{
	struct netblock	proxy;
	char		detail[32];

	snprintf(detail, sizeof(detail), "reason=%s", why);
	/* Still reading its header: in no netblock yet; its proxy's. */
	if (c->cn_state == CONN_PROXY)
		netblock_of(&c->cn_peer.sa, w->w_conf.wc_netblock_ipv4,
		    w->w_conf.wc_netblock_ipv6, &proxy);
	netblock_text(c->cn_state == CONN_PROXY ? &proxy : source_block(w, c),
	    w->w_evict_last, sizeof(w->w_evict_last));
	if (c->cn_state == CONN_PEEK)
		penalty_stall(w, c);
	outcome_log(w, c, NULL, -1, OUTCOME_EVICTED, 0, detail);
	outcome_close(w, c);
	w->w_evict_unlogged++;
	evict_log(w);
}

/* evict_for_room - free a slot; the caller checked evict_can */
void
evict_for_room(struct worker *w)
{
	struct conn	*c;

	/* Refused already, its alert sent: the cheapest to let go. */
	if ((c = TAILQ_FIRST(&w->w_lingering)) != NULL) {
		conn_release(w, c);
		return;
	}
	if ((c = TAILQ_FIRST(&w->w_proxying)) != NULL) {
		evict(w, c, "full");
		return;
	}
	if ((c = source_busiest(w)) == NULL)
		log_panic("%s: nothing to evict", __func__);
	evict(w, c, "full");
}

/* evict_over_source - c just started peeking: keep its netblock's limit */
void
evict_over_source(struct worker *w, struct conn *c)
{
	if (source_count(w, c) > w->w_conf.wc_max_pending_per_source)
		evict(w, source_oldest(w, c), "per-source");
}
