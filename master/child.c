/*
 * child.c - start the master's helper processes and decide when one
 * that died comes back; used for the workers (spawn.c) and the stats
 * process (stats.c).
 *
 * Runs in the master, after privileges are dropped.  A child is fork +
 * fexecve of a program opened before the drop (a fresh address space
 * for a process that parses bytes from outside), with the descriptors
 * the caller names at fixed numbers; every other master descriptor is
 * close-on-exec.  The master waits until the child has exec'd (as
 * posix_spawn does: a close-on-exec pipe reads EOF then, or the errno
 * of whatever failed before the exec), so a started child is running
 * its program.  With ce_chroot, the child raises CAP_SYS_CHROOT, the
 * one capability the master kept (privdrop.c), as an ambient
 * capability just before the exec: a worker chroots, then drops it.
 * Without it nothing survives the exec: the child of an unprivileged
 * master gets no capability at all.
 *
 * A child that dies young is restarted with a growing delay, so a crash
 * loop does not become a fork loop: once is an accident (at once),
 * again is a crash loop (1 s, doubling, at most CHILD_DELAY_MAX_MS).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/capability.h>

#include "child.h"
#include "log.h"

#define CHILD_YOUNG_MS		2000	/* dying sooner than this is "young" */
#define CHILD_DELAY_MAX_MS	60000

/*
 * child_ctl - a control socket: the master's end sends descriptors and
 * bytes, the child's cannot send (the master never reads it); EOF there
 * means the master is gone.  0, or -1 with errno and nothing open.
 */
int
child_ctl(int *master_end, int *child_end)
{
	int	sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		return -1;
	if (shutdown(sv[0], SHUT_WR) == -1) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	*child_end = sv[0];
	*master_end = sv[1];
	return 0;
}

/* child_fail - in the child: tell the master errno, and give up */
static void __attribute__((noreturn))
child_fail(const struct child_exec *ce, int exec_pipe, const char *what)
{
	int	err = errno;

	log_warn("%s: %s %s", ce->ce_name, what, ce->ce_argv[0]);
	(void)!write(exec_pipe, &err, sizeof(err));
	_exit(127);
}

/* child_low - the lowest descriptor above ce's fixed ones */
static int
child_low(const struct child_exec *ce)
{
	int	low = 0;
	size_t	i;

	for (i = 0; i < ce->ce_nfds; i++)
		if (ce->ce_to[i] >= low)
			low = ce->ce_to[i] + 1;
	return low;
}

/*
 * child_strays - in the child: whatever else is open (a descriptor the
 * master inherited from whoever started it, say) ends at the exec; the
 * program gets stdio and its fixed descriptors, nothing more
 */
static void
child_strays(const struct child_exec *ce, int low, int exec_pipe)
{
	size_t	i;
	int	fd;

	for (fd = 3; fd < low; fd++) {
		for (i = 0; i < ce->ce_nfds && ce->ce_to[i] != fd; i++)
			continue;
		if (i == ce->ce_nfds)
			(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	}
	/* The copies above low are close-on-exec already; the rest too. */
	if (close_range((unsigned)low, ~0U, CLOSE_RANGE_CLOEXEC) == -1)
		child_fail(ce, exec_pipe, "close_range");
}

/*
 * child_fixed_fds - in the child: move descriptors to their fixed
 * numbers; returns where the program's descriptor is now
 */
static int
child_fixed_fds(const struct child_exec *ce, int exec_pipe)
{
	int	moved[CHILD_FDS_MAX + 1], low = child_low(ce);
	size_t	i, n = ce->ce_nfds;

	/*
	 * Any source may sit in the fixed range: first copy all of them
	 * above it (close-on-exec copies), then dup2 into place.
	 */
	for (i = 0; i < n; i++)
		if ((moved[i] = fcntl(ce->ce_from[i], F_DUPFD_CLOEXEC,
		    low)) == -1)
			child_fail(ce, exec_pipe, "F_DUPFD_CLOEXEC");
	if ((moved[n] = fcntl(ce->ce_exe, F_DUPFD_CLOEXEC, low)) == -1)
		child_fail(ce, exec_pipe, "F_DUPFD_CLOEXEC");
	for (i = 0; i < n; i++)
		if (dup2(moved[i], ce->ce_to[i]) == -1)
			child_fail(ce, exec_pipe, "dup2");
	child_strays(ce, low, exec_pipe);
	return moved[n];
}

/*
 * child_exec - in the child: become the program; if that fails, write
 * errno to exec_pipe for the master
 */
static void __attribute__((noreturn))
child_exec(const struct child_exec *ce, int exec_pipe)
{
	extern char	**environ;
	sigset_t	 none;
	int		 exe, moved;

	/* Above the fixed range, where child_fixed_fds cannot overwrite it. */
	if ((moved = fcntl(exec_pipe, F_DUPFD_CLOEXEC, child_low(ce))) == -1)
		child_fail(ce, exec_pipe, "F_DUPFD_CLOEXEC");
	exec_pipe = moved;
	exe = child_fixed_fds(ce, exec_pipe);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* Ambient: the one way a capability survives an exec unprivileged. */
	if (ce->ce_chroot && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE,
	    CAP_SYS_CHROOT, 0, 0) == -1)
		child_fail(ce, exec_pipe, "raise CAP_SYS_CHROOT");
	fexecve(exe, ce->ce_argv, environ);
	child_fail(ce, exec_pipe, "exec");
}

/*
 * child_wait_exec - in the master: wait until the child pid exec'd
 * (EOF) or failed to (its errno); a failure is reaped at once
 */
static enum child_start
child_wait_exec(pid_t pid, int exec_pipe, int *status)
{
	ssize_t	n;
	int	err;

	while ((n = read(exec_pipe, &err, sizeof(err))) == -1 && errno == EINTR)
		continue;
	close(exec_pipe);
	if (n != (ssize_t)sizeof(err))
		return CHILD_RUNNING;
	while (waitpid(pid, status, 0) == -1 && errno == EINTR)
		continue;
	return CHILD_EXEC_FAILED;
}

/*
 * child_start - fork and exec ce's program; *pid is set once forked
 * (also when the exec failed: *status then says how it ended)
 */
enum child_start
child_start(const struct child_exec *ce, pid_t *pid, int *status)
{
	int	exec_pipe[2];

	if (ce->ce_nfds > CHILD_FDS_MAX) {
		errno = EINVAL;
		return CHILD_NOT_FORKED;
	}
	if (pipe2(exec_pipe, O_CLOEXEC) == -1)
		return CHILD_NOT_FORKED;
	if ((*pid = fork()) == -1) {
		close(exec_pipe[0]);
		close(exec_pipe[1]);
		return CHILD_NOT_FORKED;
	}
	if (*pid == 0) {
		log_forked();
		close(exec_pipe[0]);
		child_exec(ce, exec_pipe[1]);
	}
	close(exec_pipe[1]);
	return child_wait_exec(*pid, exec_pipe[0], status);
}

/* child_how - how a child ended (a waitpid status), for the log */
void
child_how(int status, char *how, size_t size)
{
	/* SIGSYS is what seccomp's kill sends: say what it means. */
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS)
		snprintf(how, size, "was killed by its sandbox (signal "
		    "%d, SIGSYS) for making a forbidden system call",
		    WTERMSIG(status));
	else if (WIFSIGNALED(status))
		snprintf(how, size, "killed by signal %d (%s)",
		    WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		snprintf(how, size, "exited with status %d",
		    WEXITSTATUS(status));
}

/* child_delay - a child died at now_ms: ms until it is started again */
uint64_t
child_delay(struct child_throttle *ct, uint64_t now_ms)
{
	uint64_t	delay = 0;

	/* Once is an accident, restarted at once; again is a crash loop. */
	if (now_ms - ct->ct_started_ms < CHILD_YOUNG_MS) {
		ct->ct_young_deaths++;
		if (ct->ct_young_deaths > 1)
			delay = 1000ULL << (ct->ct_young_deaths < 8 ?
			    ct->ct_young_deaths - 2 : 6);
		if (delay > CHILD_DELAY_MAX_MS)
			delay = CHILD_DELAY_MAX_MS;
	} else
		ct->ct_young_deaths = 0;
	return delay;
}
