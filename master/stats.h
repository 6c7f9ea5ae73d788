/*
 * stats.h - the master's view of the counters, and the stats socket:
 * Prometheus metrics over HTTP, and the table of `snitch -s`.
 */
#ifndef STATS_H
#define STATS_H

#include <stddef.h>
#include <sys/types.h>

#include "conf.h"
#include "counters.h"
#include "wconf.h"

void	stats_reloaded(int ok);
int	stats_listen(const struct conf *);
void	stats_serve(int listen_fd);
int	stats_query(const struct conf *);

#endif
