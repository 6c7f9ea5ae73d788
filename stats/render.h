/*
 * render.h - the figures as text for `snitch -s` and GET /metrics.
 */
#ifndef RENDER_H
#define RENDER_H

#include <stdio.h>

#include "snapshot.h"
#include "tally.h"

/* a renderer: render_summary or render_metrics */
typedef void render_fn(FILE *, const struct tally *, const struct snapshot *);

void	render_summary(FILE *, const struct tally *, const struct snapshot *);
void	render_metrics(FILE *, const struct tally *, const struct snapshot *);

#endif
