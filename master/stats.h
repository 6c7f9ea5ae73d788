/*
 * stats.h - the master's view of the counters, and the stats socket.
 */
#ifndef STATS_H
#define STATS_H

#include <stddef.h>
#include <sys/types.h>

#include "counters.h"
#include "wconf.h"

void	stats_retired(const struct counters_worker *, size_t nbackends,
	    const struct wconf_backend *);
void	stats_restarted(void);
int	stats_listen(const char *path, const char *user);
void	stats_serve(int listen_fd);
int	stats_query(const char *path);

#endif
