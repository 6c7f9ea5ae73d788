/*
 * penalty.h - the netblocks whose SYNs the kernel drops for a while.
 */
#ifndef PENALTY_H
#define PENALTY_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "netblock.h"

void	penalty_add(const struct netblock *, unsigned ms, uint64_t now);
void	penalty_apply(const struct conf *, const int *listen_fds, size_t n,
	    uint64_t now);
int	penalty_due(uint64_t now);

#endif
