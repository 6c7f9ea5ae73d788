/*
 * tally.c - fold worker counter slots into totals.
 *
 * Pure memory, no I/O: the master folds the slots of a generation whose
 * workers are all gone into the totals it keeps (spawn.c), so figures
 * never go back across reloads and restarts; snitch-stats adds the live
 * slots to a copy of those totals each time it answers.  A slot is read
 * with COUNTERS_GET: its worker may be counting at the same moment.
 *
 * A dead slot (its generation retired) counts what it still held as
 * lost; a live one counts it as pending, also per worker index (during
 * a reload, two generations have a worker of the same index).
 * Backends are matched by name, not index: a reload may reorder,
 * add or drop them, and a name's totals carry on.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tally.h"

/* tally_backend - name's totals in ty, added (zeroed) if new; or NULL */
struct counters_backend *
tally_backend(struct tally *ty, const char *name)
{
	struct tally_backend	*tb;
	size_t			 i;

	for (i = 0; i < ty->ty_nbackends; i++)
		if (strcmp(ty->ty_backends[i].tb_name, name) == 0)
			return &ty->ty_backends[i].tb_counts;
	if (strlen(name) > WCONF_NAME_MAX) {
		errno = EINVAL;
		return NULL;
	}
	tb = reallocarray(ty->ty_backends, ty->ty_nbackends + 1, sizeof(*tb));
	if (tb == NULL)
		return NULL;
	ty->ty_backends = tb;
	tb += ty->ty_nbackends++;
	memset(tb, 0, sizeof(*tb));
	strcpy(tb->tb_name, name);
	return &tb->tb_counts;
}

/* tally_add_buckets - add n counters of a slot to totals */
static void
tally_add_buckets(uint64_t *total, const uint64_t *slot, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		total[i] += COUNTERS_GET(slot[i]);
}

/* tally_add_backend - add one backend's counters of a slot */
static void
tally_add_backend(struct counters_backend *cb,
    const struct counters_backend *slot)
{
	cb->cb_handoff += COUNTERS_GET(slot->cb_handoff);
	cb->cb_fallback += COUNTERS_GET(slot->cb_fallback);
	cb->cb_down += COUNTERS_GET(slot->cb_down);
	cb->cb_busy += COUNTERS_GET(slot->cb_busy);
	cb->cb_errors += COUNTERS_GET(slot->cb_errors);
	cb->cb_held += COUNTERS_GET(slot->cb_held);
	cb->cb_rehanded += COUNTERS_GET(slot->cb_rehanded);
}

/*
 * tally_add - add one worker slot to ty; a dead one's pending is lost.
 * 0, or -1 (ENOMEM) with the slot added but for a backend it could not.
 */
int
tally_add(struct tally *ty, const struct counters_worker *cw,
    size_t nbackends, const struct wconf_backend *backends, int dead)
{
	struct counters_backend	*cb;
	struct counters_worker	*w = &ty->ty_w;
	uint64_t		 pending = COUNTERS_GET(cw->cw_pending);
	size_t			 i;
	int			 rc = 0;

	w->cw_accepted += COUNTERS_GET(cw->cw_accepted);
	w->cw_handoff += COUNTERS_GET(cw->cw_handoff);
	tally_add_buckets(w->cw_alert, cw->cw_alert, COUNTERS_ALERTS);
	w->cw_not_tls += COUNTERS_GET(cw->cw_not_tls);
	w->cw_timeout += COUNTERS_GET(cw->cw_timeout);
	w->cw_client_gone += COUNTERS_GET(cw->cw_client_gone);
	w->cw_evicted += COUNTERS_GET(cw->cw_evicted);
	w->cw_proxy_refused += COUNTERS_GET(cw->cw_proxy_refused);
	w->cw_proxy_invalid += COUNTERS_GET(cw->cw_proxy_invalid);
	w->cw_health_check += COUNTERS_GET(cw->cw_health_check);
	w->cw_http_refused += COUNTERS_GET(cw->cw_http_refused);
	w->cw_error += COUNTERS_GET(cw->cw_error);
	ty->ty_lost += COUNTERS_GET(cw->cw_lost) + (dead ? pending : 0);
	w->cw_pending += dead ? 0 : pending;
	tally_add_buckets(w->cw_fail, cw->cw_fail, COUNTERS_FAILS);
	tally_add_buckets(w->cw_peek_ms, cw->cw_peek_ms,
	    COUNTERS_PEEK_BUCKETS);
	w->cw_peek_ms_sum += COUNTERS_GET(cw->cw_peek_ms_sum);
	tally_add_buckets(w->cw_hello_bytes, cw->cw_hello_bytes,
	    COUNTERS_HELLO_BUCKETS);
	w->cw_hello_bytes_sum += COUNTERS_GET(cw->cw_hello_bytes_sum);
	w->cw_hello_examined += COUNTERS_GET(cw->cw_hello_examined);
	w->cw_log_dropped += COUNTERS_GET(cw->cw_log_dropped);
	w->cw_penalties += COUNTERS_GET(cw->cw_penalties);
	for (i = 0; i < nbackends; i++) {
		if ((cb = tally_backend(ty, backends[i].wb_name)) == NULL)
			rc = -1;
		else
			tally_add_backend(cb, &cw->cw_backends[i]);
	}
	return rc;
}

/* tally_add_live - add a running generation's slot of worker index */
int
tally_add_live(struct tally *ty, size_t index, const struct counters_worker *cw,
    size_t nbackends, const struct wconf_backend *backends)
{
	uint64_t	*grown;
	int		 rc;

	rc = tally_add(ty, cw, nbackends, backends, 0);
	if (index >= ty->ty_nworkers) {
		if ((grown = reallocarray(ty->ty_pending, index + 1,
		    sizeof(*grown))) == NULL)
			return -1;
		memset(grown + ty->ty_nworkers, 0,
		    (index + 1 - ty->ty_nworkers) * sizeof(*grown));
		ty->ty_pending = grown;
		ty->ty_nworkers = index + 1;
	}
	ty->ty_pending[index] += COUNTERS_GET(cw->cw_pending);
	return rc;
}

/* tally_copy - dst becomes a copy of src, with its own arrays; 0 or -1 */
int
tally_copy(struct tally *dst, const struct tally *src)
{
	*dst = *src;
	dst->ty_backends = NULL;
	dst->ty_pending = NULL;
	if (src->ty_nbackends > 0 && (dst->ty_backends = calloc(
	    src->ty_nbackends, sizeof(*dst->ty_backends))) == NULL)
		goto fail;
	if (src->ty_nworkers > 0 && (dst->ty_pending = calloc(
	    src->ty_nworkers, sizeof(*dst->ty_pending))) == NULL)
		goto fail;
	if (src->ty_nbackends > 0)
		memcpy(dst->ty_backends, src->ty_backends,
		    src->ty_nbackends * sizeof(*dst->ty_backends));
	if (src->ty_nworkers > 0)
		memcpy(dst->ty_pending, src->ty_pending,
		    src->ty_nworkers * sizeof(*dst->ty_pending));
	return 0;
fail:
	tally_clear(dst);
	return -1;
}

/* tally_clear - release ty's arrays; ty is empty again */
void
tally_clear(struct tally *ty)
{
	free(ty->ty_backends);
	free(ty->ty_pending);
	memset(ty, 0, sizeof(*ty));
}
