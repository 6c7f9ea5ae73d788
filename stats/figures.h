/*
 * figures.h - what snitch-stats knows: the master's last snapshot and
 * the running generations' counters (see figures.c).
 */
#ifndef FIGURES_H
#define FIGURES_H

#include <stddef.h>
#include <stdio.h>

#include "snapshot.h"
#include "tally.h"

int	figures_update(int ctl);
char	*figures_text(void (*render)(FILE *, const struct tally *,
	    const struct snapshot *), size_t *len);
void	figures_clear(void);

#endif
