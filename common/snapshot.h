/*
 * snapshot.h - what the master tells snitch-stats: the figures it
 * cannot read from the shared counters itself (see snapshot.c).
 *
 * Defined here, as wconf.h is for workers: master/ and stats/ never
 * include each other.
 */
#ifndef SNAPSHOT_H
#define SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "tally.h"
#include "wconf.h"

/* fixed descriptor numbers in snitch-stats, set up by the master */
#define SNAPSHOT_LISTEN_FD	3	/* the stats socket, listening */
#define SNAPSHOT_CTL_FD		4	/* snapshots; EOF: the master is gone */

/* what `snitch -s` asks on the stats socket, instead of an HTTP request */
#define SNAPSHOT_SUMMARY	"summary\n"

/* one message carries this many generations' counters, at the most */
#define SNAPSHOT_GENS_MAX	200

/* a running generation: its counters memfd comes with the snapshot */
struct snapshot_gen {
	unsigned		 sg_number;
	size_t			 sg_nworkers;
	size_t			 sg_nbackends;
	struct wconf_backend	*sg_backends;	/* wb_name only */
};

struct snapshot {
	unsigned		 sn_generation;	/* being served */
	uint64_t		 sn_restarts;	/* workers that died */
	int			 sn_reload_ok;	/* the last load of the file */
	int64_t			 sn_reload_time;	/* when; 0: not yet */
	struct tally		 sn_gone;	/* generations all gone */
	struct snapshot_gen	*sn_gens;	/* the running ones */
	size_t			 sn_ngens;
};

int	snapshot_encode(const struct snapshot *, int fd);
int	snapshot_decode(const uint8_t *buf, size_t len, struct snapshot *);
void	snapshot_clear(struct snapshot *);
int	snapshot_send(int sock, int snapshot_fd, const int *counters_fds,
	    size_t n);
int	snapshot_recv(int sock, int *snapshot_fd, int *counters_fds,
	    size_t *n);

#endif
