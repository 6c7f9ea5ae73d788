/*
 * caps.h - the process's capability sets, as 64-bit masks of CAP_*
 * bits, read and written with the raw capget(2) and capset(2) system
 * calls: two calls do not need libcap.
 */
#ifndef CAPS_H
#define CAPS_H

#include <stdint.h>

struct caps {
	uint64_t	cs_permitted;
	uint64_t	cs_effective;
	uint64_t	cs_inheritable;
};

int	caps_get(struct caps *);
int	caps_set(const struct caps *);

#endif
