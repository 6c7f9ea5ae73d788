/*
 * synfilter.h - the classic BPF program the master attaches to its
 * listeners while netblocks are penalized (master/penalty.c): a bare SYN
 * from one of them is dropped in the kernel, everything else passes.
 */
#ifndef SYNFILTER_H
#define SYNFILTER_H

#include <stddef.h>

#include <linux/filter.h>

#include "netblock.h"

#define SYNFILTER_MAX	BPF_MAXINSNS	/* the kernel's bound, 4096 */
#define SYNFILTER_PASS	0xffffffffu	/* what the program returns */
#define SYNFILTER_DROP	0u

size_t	synfilter_build(const struct netblock *nbs, size_t n,
	    struct sock_filter prog[SYNFILTER_MAX], size_t *len);

#endif
