/*
 * child.h - the master's helper processes (snitch-worker, snitch-stats):
 * start one with fixed descriptors, say how one ended, decide when one
 * that died comes back.
 */
#ifndef CHILD_H
#define CHILD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CHILD_FDS_MAX	80	/* fixed descriptors, the program's too */

/* what to exec, and where its descriptors go */
struct child_exec {
	const char	*ce_name;	/* for the log: "worker 1", "stats" */
	int		 ce_exe;	/* the program, opened before the drop */
	char *const	*ce_argv;
	const int	*ce_from;	/* ce_from[i] becomes ce_to[i] */
	const int	*ce_to;
	size_t		 ce_nfds;
	int		 ce_chroot;	/* raise CAP_SYS_CHROOT, ambient */
};

enum child_start {
	CHILD_RUNNING,		/* forked, and running the program */
	CHILD_EXEC_FAILED,	/* forked, failed before or at exec: reaped */
	CHILD_NOT_FORKED	/* errno says why */
};

/* how often a child may die young before it is restarted with a delay */
struct child_throttle {
	uint64_t	ct_started_ms;
	unsigned	ct_young_deaths;
};

int		child_ctl(int *master_end, int *child_end);
enum child_start child_start(const struct child_exec *, pid_t *,
		    int *status);
void		child_how(int status, char *how, size_t size);
uint64_t	child_delay(struct child_throttle *, uint64_t now_ms);

#endif
