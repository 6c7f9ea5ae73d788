/*
 * tenant.c - routes a tenant sets up herself: a socket file in her
 * directory, found without a reload.
 *
 * Runs in the worker, unprivileged, as the tenant level of routes_rank
 * (routes.h), for a connection whose name matched no backend's exact or
 * wildcard pattern.  A name under one of
 * tenant T's patterns goes to <T's dir>/<name>.sock if it exists, else,
 * when a wildcard "*.<suffix>" of hers matched, to <dir>/_.<suffix>.sock;
 * channel.c then connects it as a channel like a backend's and checks
 * that the listener is T's uid.  A name outside her patterns is never
 * looked up in her directory.
 *
 * What the directory holds is cached per name for TENANT_TTL_MS, found
 * or not, in a direct-mapped table of TENANT_CACHE entries (a collision
 * replaces the older one), so a busy name costs one stat a second, not
 * one per connection.  Channels live in TENANT_SLOTS slots after the
 * configured backends; a socket without a slot takes a free one, or the
 * least recently used one whose backend holds nothing of the worker's.
 * One tenant holds at most her share (tenant_share: the slots divided
 * by the tenants) busy, and TENANT_INFLIGHT_MAX handoffs over all of
 * them (dispatch.c), so neither her sockets nor those of tenants acting
 * with her can take the others' slots or descriptors.  Idle slots are
 * anyone's to reuse: taking one costs its owner a new connect, never a
 * client.
 *
 * The names come from hostname_normalize: lowercase letters, digits,
 * hyphens and dots, never "/" nor a leading "."; checked again here all
 * the same, since they become file names.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "worker.h"

#define TENANT_CACHE	512	/* names remembered, a power of two */
#define TENANT_TTL_MS	1000	/* how long a stat's answer is believed */

enum tenant_found {
	TENANT_FOUND_NONE,	/* neither socket exists */
	TENANT_FOUND_EXACT,	/* <dir>/<name>.sock */
	TENANT_FOUND_WILD,	/* <dir>/_.<suffix>.sock */
};

struct tenant_entry {
	uint64_t		 te_expires;	/* ms; 0: empty */
	enum tenant_found	 te_found;
	int			 te_tenant;
	size_t			 te_suffix;	/* the wildcard's, for _WILD */
	size_t			 te_len;
	char			 te_name[HOSTNAME_MAX + 1];
};

struct tenant_cache {
	struct tenant_entry	tc_entries[TENANT_CACHE];
};

/* tenant_init - the cache, when there are tenants */
int
tenant_init(struct worker *w)
{
	w->w_tenant_cache = NULL;
	if (w->w_conf.wc_ntenants == 0)
		return 0;
	if ((w->w_tenant_cache = calloc(1, sizeof(*w->w_tenant_cache))) == NULL)
		return -1;
	return 0;
}

/* tenant_free - release the cache */
void
tenant_free(struct worker *w)
{
	free(w->w_tenant_cache);
	w->w_tenant_cache = NULL;
}

/*
 * tenant_share - how many slots one tenant may hold busy (clients
 * waiting, handoffs in flight): an equal part of them all, so that
 * however many tenants collude, each of the others still has hers
 * (channel_count makes at least one slot per tenant)
 */
static size_t
tenant_share(const struct worker *w)
{
	return (w->w_nchannels - w->w_conf.wc_nbackends) /
	    w->w_conf.wc_ntenants;
}

/* tenant_hash - FNV-1a of name: which cache entry it uses */
static size_t
tenant_hash(const char *name, size_t len)
{
	uint32_t	h = 2166136261u;
	size_t		i;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)name[i]) * 16777619u;
	return h & (TENANT_CACHE - 1);
}

/*
 * tenant_path - <dir>/<name>.sock, or with wild <dir>/_.<suffix>.sock
 * (suffix: the last suffix bytes of name); 0, or -1 when it does not
 * fit a socket address or the name is not a safe file name
 */
static int
tenant_path(const struct worker *w, int t, const char *name, size_t len,
    size_t suffix, int wild, char *path)
{
	const char	*file = wild ? name + len - suffix : name;
	int		 n;

	if (memchr(name, '/', len) != NULL || name[0] == '.')
		return -1;
	n = snprintf(path, WCONF_PATH_MAX + 1, "%s/%s%.*s.sock",
	    w->w_conf.wc_tenants[t].wt_dir, wild ? "_." : "",
	    (int)(wild ? suffix : len), file);
	return n > 0 && (size_t)n <= WCONF_PATH_MAX ? 0 : -1;
}

/* tenant_is_socket - whether path is a socket file (following links) */
static int
tenant_is_socket(const char *path)
{
	struct stat	st;

	return stat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}

/* tenant_look - which of tenant t's sockets for name exists, and cache it */
static struct tenant_entry *
tenant_look(struct worker *w, int t, const char *name, size_t len,
    size_t suffix)
{
	struct tenant_entry	*te;
	char			 path[WCONF_PATH_MAX + 1];

	te = &w->w_tenant_cache->tc_entries[tenant_hash(name, len)];
	if (te->te_expires > w->w_now && te->te_len == len &&
	    te->te_tenant == t && memcmp(te->te_name, name, len) == 0)
		return te;
	te->te_found = TENANT_FOUND_NONE;
	/* A name too long for its own file may still have the wildcard's. */
	if (tenant_path(w, t, name, len, suffix, 0, path) == 0 &&
	    tenant_is_socket(path))
		te->te_found = TENANT_FOUND_EXACT;
	else if (suffix < len &&
	    tenant_path(w, t, name, len, suffix, 1, path) == 0 &&
	    tenant_is_socket(path))
		te->te_found = TENANT_FOUND_WILD;
	te->te_tenant = t;
	te->te_suffix = suffix;
	te->te_len = len;
	memcpy(te->te_name, name, len);
	te->te_expires = w->w_now + TENANT_TTL_MS;
	return te;
}

/*
 * tenant_slot - the channel slot for path of tenant t: the one it has,
 * else a free one, else the least recently used one whose backend holds
 * nothing of ours (no connection waiting, none unreceived or
 * unacknowledged: closing its channel would not free those);
 * ROUTES_FULL when there is none, or when t holds her share of busy
 * slots already and this route would make one more busy (her idle slot
 * as much as a new one)
 */
static int
tenant_slot(struct worker *w, int t, const char *path)
{
	struct channel	*ch;
	size_t		 i, first = w->w_conf.wc_nbackends, held = 0;
	size_t		 share = tenant_share(w);
	int		 mine = -1, pick = -1;

	for (i = first; i < w->w_nchannels; i++) {
		ch = &w->w_channels[i];
		if (!TAILQ_EMPTY(&ch->ch_queue) || !channel_settled(w, (int)i)) {
			if (ch->ch_tenant != t)
				continue;
			/* Busy already: one more client takes no more. */
			if (strcmp(ch->ch_path, path) == 0)
				return (int)i;
			held++;
		} else if (ch->ch_tenant == t && strcmp(ch->ch_path, path) == 0)
			mine = (int)i;
		else if (pick == -1 || (w->w_channels[pick].ch_tenant != -1 &&
		    (ch->ch_tenant == -1 ||
		    ch->ch_used < w->w_channels[pick].ch_used)))
			pick = (int)i;
	}
	/* Her idle slot counts too: else she could take every slot while
	 * idle, then stall them all at once. */
	if (held >= share || (mine == -1 && pick == -1)) {
		COUNTERS_ADD(w->w_counters->cw_backends[first + (size_t)t].cb_busy,
		    1);
		log_warnx("tenant %s: %s; refusing %s",
		    w->w_conf.wc_tenants[t].wt_name, held >= share ?
		    "her sockets hold as many channels as one tenant may" :
		    "every tenant channel has clients waiting", path);
		return ROUTES_FULL;
	}
	if (mine != -1)
		return mine;
	channel_forget(w, pick);
	channel_tenant(w, pick, t, path);
	return pick;
}

/*
 * tenant_route - routes_rank's tenant level: the channel for a
 * normalized name that no backend's exact or wildcard pattern has;
 * ROUTES_NONE when no tenant claims it or her directory has no socket
 * for it, ROUTES_FULL when no slot is free
 */
int
tenant_route(void *worker, const char *name, size_t len)
{
	struct worker		*w = worker;
	struct tenant_entry	*te;
	char			 path[WCONF_PATH_MAX + 1];
	enum names_kind		 kind;
	size_t			 suffix;
	int			 t, b;

	t = names_match(w->w_conf.wc_tenant_names, name, len, &kind, &suffix);
	/* A tenant never has "*" (conf.c): NAMES_ANY cannot happen. */
	if (t == -1 || kind == NAMES_ANY)
		return ROUTES_NONE;
	/* tenant_look tries the wildcard's socket only for a shorter suffix */
	if (kind == NAMES_EXACT)
		suffix = len;
	te = tenant_look(w, t, name, len, suffix);
	if (te->te_found == TENANT_FOUND_NONE ||
	    tenant_path(w, t, name, len, suffix,
	    te->te_found == TENANT_FOUND_WILD, path) == -1)
		return ROUTES_NONE;
	if ((b = tenant_slot(w, t, path)) >= 0)
		w->w_channels[b].ch_used = w->w_now;
	return b;
}
