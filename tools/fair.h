/*
 * fair.h - snitch-exec's share of its programs among client netblocks:
 * which netblock a client is in, how many programs each runs, and
 * whether a new client runs, is refused, or makes room (see fair.c).
 */
#ifndef FAIR_H
#define FAIR_H

#include <sys/socket.h>

#include <stddef.h>

#include "netblock.h"

#define FAIR_V4_BITS	32	/* -n default: each IPv4 address alone */
#define FAIR_V6_BITS	64	/* and each IPv6 /64, one site's subnet */

/* A netblock with programs running; fs_running 0: the slot is free. */
struct fair_source {
	struct netblock	fs_block;
	size_t			fs_running;
};

struct fair {
	struct fair_source	*fr_sources;	/* fr_size slots */
	size_t			 fr_size;	/* -c: one source per program */
	size_t			 fr_running;	/* the sum of fs_running */
	size_t			 fr_max;	/* -c */
	size_t			 fr_per_source;	/* -C; 0: no limit */
	unsigned		 fr_v4_bits;	/* -n */
	unsigned		 fr_v6_bits;
};

/* fair_admit verdicts */
enum fair_verdict {
	FAIR_RUN,		/* a program for it */
	FAIR_REFUSE_SOURCE,	/* its netblock runs its share already */
	FAIR_REFUSE_BUSY,	/* all run, and it is no worse off than any */
	FAIR_EVICT,		/* all run: end one of *victim's for it */
};

int	fair_init(struct fair *, size_t max, size_t per_source,
	    unsigned v4_bits, unsigned v6_bits);
void	fair_free(struct fair *);
int	fair_bits(const char *arg, unsigned *v4_bits, unsigned *v6_bits);
void	fair_block(const struct fair *, const struct sockaddr_storage *,
	    struct netblock *);
enum fair_verdict fair_admit(const struct fair *, const struct netblock *,
	    const struct fair_source **victim);
const struct fair_source *fair_add(struct fair *,
	    const struct netblock *);
void	fair_remove(struct fair *, const struct fair_source *);

#endif
