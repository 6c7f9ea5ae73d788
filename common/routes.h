/*
 * routes.h - ALPN routes, and the whole routing decision.
 *
 * A backend with `alpn = P1 P2 ...` routes its names only for clients
 * offering one of those protocols (RFC 7301), in preference to the
 * names' ordinary backends.  struct routes holds, for each protocol some
 * backend names, a route table of its own (names.h).  routes_rank is
 * the routing decision of a connection, in the order of routes_levels:
 *
 *	exact name with ALPN		exact name
 *	wildcard with ALPN		wildcard	(longest suffix first)
 *	a tenant's socket (the caller's lookup, when it has tenants)
 *	"*" with ALPN			"*"
 *	default
 *
 * Ties within an ALPN level (routes for several offered protocols, the
 * same name or suffix length): the protocol the client offered first.
 * `snitch -T` prints its rows by walking routes_levels too, so a new
 * level is one row there and one case in routes_rank.
 */
#ifndef ROUTES_H
#define ROUTES_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "names.h"

#define ROUTES_PROTOCOL_MAX	255	/* RFC 7301: ProtocolName<1..2^8-1> */
#define ROUTES_PROTOCOLS_MAX	64	/* distinct protocols with routes */
#define ROUTES_OFFERED_MAX	16	/* offered protocols looked at */

struct routes;

/* The levels of routes_rank, best first. */
enum routes_level {
	ROUTES_EXACT_ALPN,
	ROUTES_EXACT,
	ROUTES_WILD_ALPN,
	ROUTES_WILD,
	ROUTES_TENANT,
	ROUTES_ANY_ALPN,
	ROUTES_ANY,
	ROUTES_DEFAULT,		/* also: no route at all */
	ROUTES_NLEVELS
};

/* Where a level's routes come from. */
enum routes_source {
	ROUTES_BY_ALPN,		/* ALPN routes, of rl_kind */
	ROUTES_BY_NAME,		/* the backends' names, of rl_kind */
	ROUTES_BY_TENANT,	/* the caller's lookup: tenants' sockets */
	ROUTES_BY_DEFAULT,	/* the default backend */
};

struct routes_level_info {
	enum routes_source	 rl_source;
	enum names_kind		 rl_kind;	/* NAMES_NONE: any kind */
	const char		*rl_label;	/* -T's KIND column */
};

extern const struct routes_level_info routes_levels[ROUTES_NLEVELS];

/* What routes_rank returns besides a backend (or a caller's channel). */
#define ROUTES_NONE	(-1)	/* no route at all; a level: not here */
#define ROUTES_FULL	(-2)	/* the tenant level has it, but no room */

/*
 * The tenant level: rt_lookup gets a normalized host name that no
 * exact or wildcard route has; it returns what routes_rank then
 * returns (>= 0, or ROUTES_FULL), or ROUTES_NONE for the next level.
 */
struct routes_tenants {
	int	(*rt_lookup)(void *arg, const char *name, size_t len);
	void	*rt_arg;
};

struct routes	*routes_new(void);
void		 routes_free(struct routes *);
int		 routes_protocol_ok(const char *protocol);
int		 routes_add(struct routes *, const char *protocol,
		    const char *pattern, int backend, int *other);
size_t		 routes_count(const struct routes *);
const char	*routes_protocol(const struct routes *, int index);
int		 routes_walk(const struct routes *,
		    int (*fn)(void *arg, const char *protocol,
		    const char *pattern, int backend), void *arg);
int		 routes_lookup(const struct names *, const struct routes *,
		    int default_backend, const char *name, ssize_t len,
		    const uint8_t *alpn, size_t alpn_len, int *protocol);
int		 routes_rank(const struct names *, const struct routes *,
		    const struct routes_tenants *,
		    int default_backend, const char *name, ssize_t len,
		    const uint8_t *alpn, size_t alpn_len, int *protocol,
		    enum routes_level *level);

#endif
