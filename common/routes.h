/*
 * routes.h - ALPN routes, and the whole routing decision.
 *
 * A backend with `alpn = P1 P2 ...` routes its names only for clients
 * offering one of those protocols (RFC 7301), in preference to the
 * names' ordinary backends.  struct routes holds, for each protocol some
 * backend names, a route table of its own (names.h).  routes_lookup is
 * the routing decision of a connection, in this order:
 *
 *	exact name with ALPN		exact name
 *	wildcard with ALPN		wildcard	(longest suffix first)
 *	"*" with ALPN			"*"
 *	default
 *
 * Ties within an ALPN level (routes for several offered protocols, the
 * same name or suffix length): the protocol the client offered first.
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
	ROUTES_ANY_ALPN,
	ROUTES_ANY,
	ROUTES_DEFAULT,		/* also: no route at all */
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
		    int default_backend, const char *name, ssize_t len,
		    const uint8_t *alpn, size_t alpn_len, int *protocol,
		    enum routes_level *level);

#endif
