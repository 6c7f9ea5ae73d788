/*
 * confine.c - the part of a sandbox every SNItch helper process shares:
 * snitch-stats (stats/main.c) and the workers (worker/sandbox.c).
 *
 * Runs in the helper, already unprivileged (the master exec'd it after
 * its privilege drop).  confine_drop_caps empties every capability set,
 * ambient first, and checks that none is left.  confine_limits sets
 * no_new_privs, RLIMIT_CORE 0 (a dump would hold what clients sent),
 * RLIMIT_NPROC 0 (no fork; not in the sanitizer build, whose leak check
 * clones a tracer); each program made itself non-dumpable first thing
 * in main (dumpable.c).  confine_filter loads a seccomp filter
 * that allows what libc does for an event loop (time, signals, memory,
 * ending) plus the caller's own I/O calls; anything else kills the
 * process (SCMP_ACT_KILL_PROCESS, SIGSYS), which the master logs and
 * restarts.  openat fails with EACCES instead: glibc opens files lazily
 * and must fail softly, but nothing is opened.  The AddressSanitizer
 * build (SAN=1) needs more for its reports and leak check: added only
 * there, see confine_san_calls.
 */
#include <errno.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <linux/capability.h>

#include "caps.h"
#include "confine.h"
#include "log.h"

/* confine_drop_caps - give up every capability, for good; fatal if not */
void
confine_drop_caps(void)
{
	static const struct caps	none;
	struct caps			cs;

	/* Ambient first: it may only hold what permitted holds. */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1)
		fatal("%s: PR_CAP_AMBIENT_CLEAR_ALL", __func__);
	if (caps_set(&none) == -1)
		fatal("%s: capset", __func__);
	if (caps_get(&cs) == -1 || cs.cs_permitted || cs.cs_effective ||
	    cs.cs_inheritable)
		fatalx("%s: capabilities are left after dropping them",
		    __func__);
}

/* confine_limit - set a resource limit to 0, soft and hard; fatal if not */
void
confine_limit(int resource, const char *name)
{
	struct rlimit	rl = { 0, 0 };

	if (setrlimit(resource, &rl) == -1)
		fatal("%s: setrlimit %s 0", __func__, name);
}

/* confine_limits - no new privileges, no core, no fork */
void
confine_limits(void)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("%s: PR_SET_NO_NEW_PRIVS", __func__);
	confine_limit(RLIMIT_CORE, "RLIMIT_CORE");
#if !defined(__SANITIZE_ADDRESS__)
	confine_limit(RLIMIT_NPROC, "RLIMIT_NPROC");
#endif
}

/* confine_allow - allow each of n system calls, whatever its arguments */
int
confine_allow(scmp_filter_ctx ctx, const int *calls, size_t n)
{
	size_t	i;
	int	rc = 0;

	for (i = 0; i < n && rc == 0; i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, calls[i], 0);
	return rc;
}

/*
 * confine_process_calls - time, signals, memory and ending: what libc
 * does for an event loop
 */
static int
confine_process_calls(scmp_filter_ctx ctx)
{
	static const int calls[] = {
		/* the vDSO answers these; a clock it cannot read falls back */
		SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday), SCMP_SYS(time),
		SCMP_SYS(rt_sigaction), SCMP_SYS(rt_sigprocmask),
		SCMP_SYS(rt_sigreturn), SCMP_SYS(restart_syscall),
		/* malloc, free; stdio streams in memory */
		SCMP_SYS(brk), SCMP_SYS(munmap), SCMP_SYS(mremap),
		/* syslog's LOG_PID; abort()'s own pid and thread */
		SCMP_SYS(getpid), SCMP_SYS(gettid),
		SCMP_SYS(exit_group), SCMP_SYS(exit),
	};
	int	rc;

	rc = confine_allow(ctx, calls, CONFINE_COUNT(calls));
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
		    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	/* abort() on an impossible state: SIGABRT to this process only */
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 2,
		    SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid()),
		    SCMP_A2(SCMP_CMP_EQ, SIGABRT));
#if !defined(__SANITIZE_ADDRESS__)
	/* lazy opens inside libc fail softly; nothing is opened */
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES),
		    SCMP_SYS(openat), 0);
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES),
		    SCMP_SYS(open), 0);
#endif
	return rc;
}

#if defined(__SANITIZE_ADDRESS__)
/*
 * confine_san_calls - the sanitizers' runtime, in the SAN=1 build only:
 * shadow and quarantine memory; a report reads /proc/self/maps and the
 * binaries to symbolize; the leak check at exit clones a tracer that
 * lists /proc/self/task and stops the threads with ptrace (the list of
 * worker/sandbox.c, where it was found with seccomp audit lines).
 */
static int
confine_san_calls(scmp_filter_ctx ctx)
{
	static const int calls[] = {
		SCMP_SYS(mmap), SCMP_SYS(mprotect), SCMP_SYS(madvise),
		SCMP_SYS(sigaltstack), SCMP_SYS(prlimit64), SCMP_SYS(getrlimit),
		SCMP_SYS(open), SCMP_SYS(openat), SCMP_SYS(read),
		SCMP_SYS(pread64), SCMP_SYS(lseek), SCMP_SYS(stat),
		SCMP_SYS(lstat), SCMP_SYS(readlink), SCMP_SYS(readlinkat),
		SCMP_SYS(ioctl), SCMP_SYS(uname), SCMP_SYS(fcntl),
		SCMP_SYS(pipe2), SCMP_SYS(dup), SCMP_SYS(dup2),
		SCMP_SYS(clone), SCMP_SYS(ptrace), SCMP_SYS(wait4),
		SCMP_SYS(prctl), SCMP_SYS(getppid), SCMP_SYS(getdents),
		SCMP_SYS(getdents64), SCMP_SYS(sched_yield), SCMP_SYS(futex),
		SCMP_SYS(nanosleep), SCMP_SYS(clock_nanosleep), SCMP_SYS(kill),
		SCMP_SYS(tgkill), SCMP_SYS(sched_getaffinity),
		SCMP_SYS(set_robust_list), SCMP_SYS(rseq),
		SCMP_SYS(set_tid_address),
	};
	return confine_allow(ctx, calls, CONFINE_COUNT(calls));
}
#endif

/* confine_filter - load the allow-list and io_calls' own; fatal if not */
void
confine_filter(int (*io_calls)(scmp_filter_ctx))
{
	scmp_filter_ctx	ctx;
	int		rc;

	if ((ctx = seccomp_init(SCMP_ACT_KILL_PROCESS)) == NULL)
		fatalx("%s: seccomp_init failed", __func__);
	/* A call through another ABI (int 0x80, x32) ends it the same way. */
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
	    SCMP_ACT_KILL_PROCESS);
	if (rc == 0)
		rc = io_calls(ctx);
	if (rc == 0)
		rc = confine_process_calls(ctx);
#if defined(__SANITIZE_ADDRESS__)
	if (rc == 0)
		rc = confine_san_calls(ctx);
#endif
	if (rc == 0)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc != 0) {
		errno = -rc;
		fatal("%s: cannot load the system call filter", __func__);
	}
}
