/*
 * tally.h - counter slots folded into totals: what the figures of
 * /metrics and `snitch -s` are made of (see tally.c).
 */
#ifndef TALLY_H
#define TALLY_H

#include <stddef.h>
#include <stdint.h>

#include "counters.h"
#include "wconf.h"

/* a backend's (or tenant's, "tenant:NAME") totals, found by name */
struct tally_backend {
	char			tb_name[WCONF_NAME_MAX + 1];
	struct counters_backend	tb_counts;
};

struct tally {
	struct counters_worker	 ty_w;		/* its backends: ty_backends */
	uint64_t		 ty_lost;	/* held by a worker that died */
	struct tally_backend	*ty_backends;
	size_t			 ty_nbackends;
	uint64_t		*ty_pending;	/* by worker index, live ones */
	size_t			 ty_nworkers;
};

int	tally_add(struct tally *, const struct counters_worker *,
	    size_t nbackends, const struct wconf_backend *, int dead);
int	tally_add_live(struct tally *, size_t index,
	    const struct counters_worker *, size_t nbackends,
	    const struct wconf_backend *);
struct counters_backend *tally_backend(struct tally *, const char *name);
int	tally_copy(struct tally *, const struct tally *);
void	tally_clear(struct tally *);

#endif
