/*
 * routes.c - ALPN routes, and the whole routing decision.
 *
 * Built by the master (to check a config, and for -T) and by each
 * worker (from the worker configuration); routes_lookup runs on every
 * connection of a worker that has ALPN routes, over the server name and
 * the ALPN list of the client's hello.  It is pure: no allocation, no
 * system call, nothing kept between calls.
 *
 * Each protocol that some backend lists in `alpn` gets a names table of
 * its own, holding that backend's patterns.  A lookup walks the client's
 * ProtocolNameList once, up to ROUTES_OFFERED_MAX protocols: a client
 * may offer hundreds of tiny names in a 16 KiB hello, and looking each
 * up would let it buy work per connection.  An offered protocol is
 * found among the configured ones by a scan (there are a few, at most
 * ROUTES_PROTOCOLS_MAX), then the name is matched in its table: at
 * most 16 table lookups and 16 * 64 length compares per connection.
 *
 * ALPN protocol names are opaque bytes compared exactly (RFC 7301 3.1),
 * not case-folded.  The configuration only accepts printable ASCII
 * without spaces (routes_protocol_ok), so a GREASE value (RFC 8701) or
 * any other byte string a client invents never matches.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "routes.h"

struct routes_protocol {
	size_t		 rp_len;
	char		 rp_name[ROUTES_PROTOCOL_MAX + 1];
	struct names	*rp_names;	/* its backends' patterns */
};

struct routes {
	struct routes_protocol	 rt_protocols[ROUTES_PROTOCOLS_MAX];
	size_t			 rt_nprotocols;
	size_t			 rt_count;	/* (protocol, pattern) pairs */
};

/*
 * The best ALPN route found so far at each level, and the index of the
 * configured protocol it came with; -1 while none.
 */
struct routes_hits {
	int	rh_exact, rh_exact_protocol;
	int	rh_wild, rh_wild_protocol;
	size_t	rh_wild_len;
	int	rh_any, rh_any_protocol;
};

/* routes_new - no ALPN routes yet; NULL with errno on failure */
struct routes *
routes_new(void)
{
	return calloc(1, sizeof(struct routes));
}

/* routes_free - release the tables */
void
routes_free(struct routes *rt)
{
	size_t	i;

	if (rt == NULL)
		return;
	for (i = 0; i < rt->rt_nprotocols; i++)
		names_free(rt->rt_protocols[i].rp_names);
	free(rt);
}

/*
 * routes_protocol_ok - whether protocol may be configured: 1 to 255
 * bytes (RFC 7301), each printable ASCII other than a space, so that it
 * can be written in snitch.ini, a log line and -T's table as it is.
 */
int
routes_protocol_ok(const char *protocol)
{
	size_t	i, len = strlen(protocol);

	if (len == 0 || len > ROUTES_PROTOCOL_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if ((unsigned char)protocol[i] <= ' ' ||
		    (unsigned char)protocol[i] >= 0x7f)
			return 0;
	return 1;
}

/* routes_find - the index of the configured protocol p[0 .. len - 1], or -1 */
static int
routes_find(const struct routes *rt, const uint8_t *p, size_t len)
{
	size_t	i;

	for (i = 0; i < rt->rt_nprotocols; i++)
		if (rt->rt_protocols[i].rp_len == len &&
		    memcmp(rt->rt_protocols[i].rp_name, p, len) == 0)
			return (int)i;
	return -1;
}

/* routes_protocol_slot - the index of protocol, added if new; -1 with errno */
static int
routes_protocol_slot(struct routes *rt, const char *protocol)
{
	struct routes_protocol	*rp;
	int			 i;

	if ((i = routes_find(rt, (const uint8_t *)protocol,
	    strlen(protocol))) != -1)
		return i;
	if (rt->rt_nprotocols == ROUTES_PROTOCOLS_MAX) {
		errno = ENOSPC;
		return -1;
	}
	rp = &rt->rt_protocols[rt->rt_nprotocols];
	if ((rp->rp_names = names_new()) == NULL)
		return -1;
	rp->rp_len = strlen(protocol);
	memcpy(rp->rp_name, protocol, rp->rp_len + 1);
	return (int)rt->rt_nprotocols++;
}

/*
 * routes_add - route pattern ("name", "*.name" or "*") to backend for
 * clients offering protocol.  Returns 0, or -1 with errno EINVAL (not a
 * protocol, or not a pattern), EEXIST (*other gets the backend that has
 * this pair already), ENOSPC (ROUTES_PROTOCOLS_MAX protocols already)
 * or ENOMEM.
 */
int
routes_add(struct routes *rt, const char *protocol, const char *pattern,
    int backend, int *other)
{
	int	i;

	if (!routes_protocol_ok(protocol)) {
		errno = EINVAL;
		return -1;
	}
	if ((i = routes_protocol_slot(rt, protocol)) == -1 ||
	    names_add(rt->rt_protocols[i].rp_names, pattern, backend,
	    other) == -1)
		return -1;
	rt->rt_count++;
	return 0;
}

/* routes_count - how many (protocol, pattern) routes there are */
size_t
routes_count(const struct routes *rt)
{
	return rt != NULL ? rt->rt_count : 0;
}

/* routes_protocol - the configured protocol of an index routes_lookup gave */
const char *
routes_protocol(const struct routes *rt, int index)
{
	if (rt == NULL || index < 0 || (size_t)index >= rt->rt_nprotocols)
		return NULL;
	return rt->rt_protocols[index].rp_name;
}

struct routes_walk_arg {
	const char	*rw_protocol;
	int		(*rw_fn)(void *, const char *, const char *, int);
	void		*rw_arg;
};

/* routes_walk_one - names_walk's callback: one pattern of one protocol */
static int
routes_walk_one(void *arg, const char *pattern, int backend)
{
	struct routes_walk_arg	*rw = arg;

	return rw->rw_fn(rw->rw_arg, rw->rw_protocol, pattern, backend);
}

/* routes_walk - call fn for every (protocol, pattern); stops at a -1 */
int
routes_walk(const struct routes *rt,
    int (*fn)(void *arg, const char *protocol, const char *pattern,
    int backend), void *arg)
{
	struct routes_walk_arg	 rw = { NULL, fn, arg };
	size_t			 i;

	if (rt == NULL)
		return 0;
	for (i = 0; i < rt->rt_nprotocols; i++) {
		rw.rw_protocol = rt->rt_protocols[i].rp_name;
		if (names_walk(rt->rt_protocols[i].rp_names, routes_walk_one,
		    &rw) == -1)
			return -1;
	}
	return 0;
}

/*
 * routes_note - rank one offered protocol's match (of configured
 * protocol i) among the hits so far.  Protocols come in the client's
 * order, so an earlier one keeps its place against an equal later one.
 */
static void
routes_note(struct routes_hits *h, int i, int backend, enum names_kind kind,
    size_t suffix)
{
	switch (kind) {
	case NAMES_EXACT:
		if (h->rh_exact == -1) {
			h->rh_exact = backend;
			h->rh_exact_protocol = i;
		}
		break;
	case NAMES_WILD:
		if (h->rh_wild == -1 || suffix > h->rh_wild_len) {
			h->rh_wild = backend;
			h->rh_wild_protocol = i;
			h->rh_wild_len = suffix;
		}
		break;
	case NAMES_ANY:
		if (h->rh_any == -1) {
			h->rh_any = backend;
			h->rh_any_protocol = i;
		}
		break;
	case NAMES_NONE:
		break;
	}
}

/*
 * routes_offered - match name in the table of each protocol the client
 * offers (the first ROUTES_OFFERED_MAX), RFC 7301 section 3.1:
 *
 *	opaque ProtocolName<1..2^8-1>;
 *	ProtocolName protocol_name_list<2..2^16-1>;	(alpn: the body)
 *
 * The hello parser checked that the names fill the list; the walk
 * stops at anything else all the same, since it reads client bytes.
 */
static void
routes_offered(const struct routes *rt, const char *name, size_t len,
    const uint8_t *alpn, size_t alpn_len, struct routes_hits *h)
{
	enum names_kind	 kind;
	size_t		 pos = 0, plen, suffix, seen;
	int		 i, backend;

	for (seen = 0; seen < ROUTES_OFFERED_MAX && pos < alpn_len; seen++) {
		plen = alpn[pos++];
		if (plen == 0 || plen > alpn_len - pos)
			return;
		i = routes_find(rt, alpn + pos, plen);
		pos += plen;
		if (i == -1)
			continue;
		backend = names_match(rt->rt_protocols[i].rp_names, name, len,
		    &kind, &suffix);
		routes_note(h, i, backend, kind, suffix);
		if (h->rh_exact != -1)
			return;		/* nothing ranks higher */
	}
}

/*
 * routes_levels - the ranking: every level, best first.  routes_rank
 * decides by it, and `snitch -T` prints its rows by it.
 */
const struct routes_level_info routes_levels[ROUTES_NLEVELS] = {
	[ROUTES_EXACT_ALPN] = { ROUTES_BY_ALPN, NAMES_EXACT, "exact" },
	[ROUTES_EXACT] = { ROUTES_BY_NAME, NAMES_EXACT, "exact" },
	[ROUTES_WILD_ALPN] = { ROUTES_BY_ALPN, NAMES_WILD, "wildcard" },
	[ROUTES_WILD] = { ROUTES_BY_NAME, NAMES_WILD, "wildcard" },
	[ROUTES_TENANT] = { ROUTES_BY_TENANT, NAMES_NONE, "tenant" },
	[ROUTES_ANY_ALPN] = { ROUTES_BY_ALPN, NAMES_ANY, "any" },
	[ROUTES_ANY] = { ROUTES_BY_NAME, NAMES_ANY, "any" },
	[ROUTES_DEFAULT] = { ROUTES_BY_DEFAULT, NAMES_NONE, "default" },
};

/* routes_alpn_hit - the ALPN route of kind among the hits, or -1 */
static int
routes_alpn_hit(const struct routes_hits *h, enum names_kind kind,
    int *protocol)
{
	int	backend = -1, i = -1;

	switch (kind) {
	case NAMES_EXACT:
		backend = h->rh_exact;
		i = h->rh_exact_protocol;
		break;
	case NAMES_WILD:
		backend = h->rh_wild;
		i = h->rh_wild_protocol;
		break;
	case NAMES_ANY:
		backend = h->rh_any;
		i = h->rh_any_protocol;
		break;
	case NAMES_NONE:
		break;
	}
	if (backend != -1)
		*protocol = i;
	return backend;
}

/*
 * routes_rank - the backend for a connection: its normalized server
 * name (len <= 0: none, or not a host name) and the body of its ALPN
 * extension (NULL: none).  The levels of routes_levels are tried in
 * order; tenants (NULL: none) is the tenant level's lookup.  *protocol
 * gets the index of the configured protocol whose route was taken
 * (routes_protocol names it), or -1; *level the level that decided.
 * Returns default_backend when nothing matches (ROUTES_NONE: no route).
 *
 * Like "*", an ALPN route matches host names only: a client without a
 * valid server name goes to the default whatever it offers.
 */
int
routes_rank(const struct names *names, const struct routes *rt,
    const struct routes_tenants *tenants, int default_backend,
    const char *name, ssize_t len, const uint8_t *alpn, size_t alpn_len,
    int *protocol, enum routes_level *level)
{
	struct routes_hits	 h = { -1, -1, -1, -1, 0, -1, -1 };
	enum names_kind		 kind = NAMES_NONE;
	size_t			 suffix;
	int			 l, backend = ROUTES_NONE, matched = 0, hit;

	*protocol = -1;
	*level = ROUTES_DEFAULT;
	if (len <= 0)
		return default_backend;
	if (rt != NULL && rt->rt_nprotocols > 0 && alpn != NULL)
		routes_offered(rt, name, (size_t)len, alpn, alpn_len, &h);
	for (l = 0; l < ROUTES_NLEVELS; l++) {
		*level = (enum routes_level)l;
		switch (routes_levels[l].rl_source) {
		case ROUTES_BY_ALPN:
			hit = routes_alpn_hit(&h, routes_levels[l].rl_kind,
			    protocol);
			break;
		case ROUTES_BY_NAME:
			/* Once, and only when no ALPN route came first. */
			if (!matched++)
				backend = names_match(names, name, (size_t)len,
				    &kind, &suffix);
			hit = kind == routes_levels[l].rl_kind ? backend :
			    ROUTES_NONE;
			break;
		case ROUTES_BY_TENANT:
			hit = tenants == NULL ? ROUTES_NONE :
			    tenants->rt_lookup(tenants->rt_arg, name,
			    (size_t)len);
			break;
		default:
			return default_backend;
		}
		if (hit != ROUTES_NONE)
			return hit;
	}
	return default_backend;
}

/* routes_lookup - routes_rank, for callers that do not need the level */
int
routes_lookup(const struct names *names, const struct routes *rt,
    int default_backend, const char *name, ssize_t len,
    const uint8_t *alpn, size_t alpn_len, int *protocol)
{
	enum routes_level	level;

	return routes_rank(names, rt, NULL, default_backend, name, len, alpn,
	    alpn_len, protocol, &level);
}
