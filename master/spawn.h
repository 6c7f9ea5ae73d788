/*
 * spawn.h - the master's workers: start, reap, restart, retire.
 */
#ifndef SPAWN_H
#define SPAWN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "conf.h"
#include "counters.h"
#include "tally.h"

void	spawn_init(int exe_fd, const int *listen_fds, size_t nlisten,
	    int use_syslog, int verbose);
int	spawn_generation(const struct conf *);
int	spawn_exited(pid_t pid, int status, uint64_t now_ms);
int	spawn_due(uint64_t now_ms);
void	spawn_stop(void);
void	spawn_access_log(int fd);
void	spawn_kill(void);
size_t	spawn_alive(void);
int	spawn_gen_started(void);
unsigned spawn_current_gen(void);
void	spawn_live(void (*fn)(void *arg, unsigned number, int counters_fd,
	    size_t nworkers, size_t nbackends, const struct wconf_backend *),
	    void *arg);
const struct tally *spawn_gone(void);
uint64_t spawn_restarts(void);
uint64_t spawn_version(void);

#endif
