/*
 * stats.h - the stats process, seen from the master: its socket, its
 * start and restarts, the snapshots pushed to it.
 */
#ifndef STATS_H
#define STATS_H

#include <stdint.h>
#include <sys/types.h>

#include "conf.h"

int	stats_listen(const struct conf *);
void	stats_init(int exe_fd, int listen_fd, int use_syslog, int verbose);
void	stats_reloaded(int ok);
int	stats_due(uint64_t now_ms);
int	stats_exited(pid_t pid, int status, uint64_t now_ms);
void	stats_stop(void);

#endif
