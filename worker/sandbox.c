/*
 * sandbox.c - confine a worker before it reads a client byte.
 *
 * Runs in the worker, already unprivileged, in two steps of main():
 *
 * sandbox_chroot, first thing after the configuration is read: with
 * `chroot = DIR`, chroot to DIR and chdir to its root (the master gave
 * this process CAP_SYS_CHROOT as an ambient capability for exactly
 * this); then, chroot or not, drop every capability and check that
 * none is left.  The time zone is loaded before: glibc reads
 * /etc/localtime on first use, which would be outside the chroot, and
 * an open, after sandbox_enter.
 *
 * sandbox_enter, once every descriptor it will ever need is open (the
 * listeners, counters, access log and control socket are inherited;
 * only backend channels are made later): no_new_privs, RLIMIT_NPROC 0
 * (no fork; the kernel exempts root, so it is said when it does not
 * hold), RLIMIT_CORE 0 (a dump would hold client bytes), and a seccomp
 * filter that allows exactly the system calls of the event loop.
 * Anything else kills the worker (SCMP_ACT_KILL_PROCESS, SIGSYS); the
 * master logs that and restarts it.  The list was taken with strace -f
 * of workers across the test suite; arguments are checked where that
 * is cheap and closes a door: socket() only AF_UNIX (backend channels,
 * the syslog socket), mmap never executable, tgkill only to abort
 * itself.  openat fails with EACCES instead of killing: glibc opens
 * files lazily (a time zone file, locale data) and must fail softly,
 * but the worker can open no file either way.
 *
 * The AddressSanitizer build (SAN=1) needs more (its reports, its leak
 * check at exit): added only there, see sandbox_san_calls.
 *
 * `sandbox = off` skips sandbox_enter, for debugging (strace, core
 * dumps), and says so loudly; capabilities are dropped all the same.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "caps.h"
#include "log.h"
#include "sandbox.h"

/* sandbox_caps_left - whether any capability set is not empty */
static int
sandbox_caps_left(void)
{
	struct caps	cs;

	if (caps_get(&cs) == -1)
		return 1;
	return cs.cs_permitted || cs.cs_effective || cs.cs_inheritable;
}

/* sandbox_drop_caps - give up every capability, for good; fatal if not */
static void
sandbox_drop_caps(void)
{
	static const struct caps	none;

	/* Ambient first: it may only hold what permitted holds. */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1)
		fatal("%s: PR_CAP_AMBIENT_CLEAR_ALL", __func__);
	if (caps_set(&none) == -1)
		fatal("%s: capset", __func__);
	if (sandbox_caps_left() ||
	    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_SYS_CHROOT, 0,
	    0) != 0)
		fatalx("%s: capabilities are left after dropping them",
		    __func__);
}

/*
 * sandbox_chroot - chroot to wc's directory if it names one, then drop
 * every capability
 */
void
sandbox_chroot(const struct wconf *wc)
{
	/* glibc reads the zone once, at first use: now, while it can. */
	tzset();
	if (wc->wc_chroot != NULL) {
		if (chroot(wc->wc_chroot) == -1)
			fatal("chroot %s", wc->wc_chroot);
		if (chdir("/") == -1)
			fatal("chdir / in the chroot %s", wc->wc_chroot);
	}
	sandbox_drop_caps();
}

#define SANDBOX_ALLOW(ctx, call, ...)					\
	seccomp_rule_add((ctx), SCMP_ACT_ALLOW, SCMP_SYS(call),		\
	    __VA_ARGS__)

#define SANDBOX_COUNT(calls)	(sizeof(calls) / sizeof((calls)[0]))

/* sandbox_allow - allow each of n system calls, whatever its arguments */
static int
sandbox_allow(scmp_filter_ctx ctx, const int *calls, size_t n)
{
	size_t	i;
	int	rc = 0;

	for (i = 0; i < n && rc == 0; i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, calls[i], 0);
	return rc;
}

/*
 * sandbox_io_calls - what the event loop does with its descriptors:
 * accept and peek clients, hand them off, send alerts, log
 */
static int
sandbox_io_calls(scmp_filter_ctx ctx)
{
	static const int calls[] = {
		SCMP_SYS(epoll_pwait), SCMP_SYS(epoll_wait),
		SCMP_SYS(epoll_ctl), SCMP_SYS(accept4), SCMP_SYS(recvfrom),
		SCMP_SYS(recvmsg), SCMP_SYS(sendto), SCMP_SYS(sendmsg),
		SCMP_SYS(shutdown), SCMP_SYS(close), SCMP_SYS(connect),
		SCMP_SYS(getsockname), SCMP_SYS(write), SCMP_SYS(writev),
		/* a tenant's socket: stat its path, check its listener */
		SCMP_SYS(newfstatat), SCMP_SYS(fstat), SCMP_SYS(statx),
	};
	int	rc;

	rc = sandbox_allow(ctx, calls, SANDBOX_COUNT(calls));
	/* Backend channels (SOCK_SEQPACKET) and syslog's socket (SOCK_DGRAM,
	 * made again by glibc if syslogd restarted); no network socket. */
	if (rc == 0)
		rc = SANDBOX_ALLOW(ctx, socket, 2,
		    SCMP_A0(SCMP_CMP_EQ, AF_UNIX),
		    SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, SOCK_SEQPACKET));
	if (rc == 0)
		rc = SANDBOX_ALLOW(ctx, socket, 2,
		    SCMP_A0(SCMP_CMP_EQ, AF_UNIX),
		    SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, SOCK_DGRAM));
	/* SO_PEERCRED of a backend, SO_ERROR: socket-level options only */
	if (rc == 0)
		rc = SANDBOX_ALLOW(ctx, getsockopt, 1,
		    SCMP_A1(SCMP_CMP_EQ, SOL_SOCKET));
	return rc;
}

/*
 * sandbox_process_calls - time, signals, memory and ending: what libc
 * does for the loop
 */
static int
sandbox_process_calls(scmp_filter_ctx ctx)
{
	static const int calls[] = {
		/* the vDSO answers these; a clock it cannot read falls back */
		SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday), SCMP_SYS(time),
		/* SIGTERM's handler, the mask epoll_pwait swaps */
		SCMP_SYS(rt_sigaction), SCMP_SYS(rt_sigprocmask),
		SCMP_SYS(rt_sigreturn), SCMP_SYS(restart_syscall),
		/* malloc (syslog formats through a memstream), free */
		SCMP_SYS(brk), SCMP_SYS(munmap), SCMP_SYS(mremap),
		/* syslog's LOG_PID; abort()'s own pid and thread */
		SCMP_SYS(getpid), SCMP_SYS(gettid),
		SCMP_SYS(exit_group), SCMP_SYS(exit),
	};
	int	rc;

	rc = sandbox_allow(ctx, calls, SANDBOX_COUNT(calls));
	if (rc == 0)
		rc = SANDBOX_ALLOW(ctx, mmap, 1,
		    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	/* abort() on an impossible state: SIGABRT to this process only */
	if (rc == 0)
		rc = SANDBOX_ALLOW(ctx, tgkill, 2,
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
 * sandbox_san_calls - the sanitizers' runtime, in the SAN=1 build only:
 * the allocator maps, protects and unmaps shadow and quarantine memory;
 * a report opens and reads /proc/self/maps and the binaries to
 * symbolize, and asks isatty (ioctl) about stderr; the leak check at
 * exit clones a tracer task that lists /proc/self/task (open,
 * getdents) and stops the threads with ptrace and wait4, while the
 * worker yields.  Found with the kernel's seccomp audit lines of a
 * worker made to leak and to overflow on purpose.  None of it is in a
 * release build.  (In a chroot there is no /proc: the leak check says
 * it cannot run.)
 */
static int
sandbox_san_calls(scmp_filter_ctx ctx)
{
	static const int calls[] = {
		/* memory */
		SCMP_SYS(mmap), SCMP_SYS(mprotect), SCMP_SYS(madvise),
		SCMP_SYS(sigaltstack), SCMP_SYS(prlimit64), SCMP_SYS(getrlimit),
		/* reports: maps, binaries, symbols, the terminal */
		SCMP_SYS(open), SCMP_SYS(openat), SCMP_SYS(read),
		SCMP_SYS(pread64), SCMP_SYS(lseek), SCMP_SYS(stat),
		SCMP_SYS(lstat), SCMP_SYS(readlink), SCMP_SYS(readlinkat),
		SCMP_SYS(ioctl), SCMP_SYS(uname), SCMP_SYS(fcntl),
		SCMP_SYS(pipe2), SCMP_SYS(dup), SCMP_SYS(dup2),
		/* the leak check's tracer */
		SCMP_SYS(clone), SCMP_SYS(ptrace), SCMP_SYS(wait4),
		SCMP_SYS(prctl), SCMP_SYS(getppid), SCMP_SYS(getdents),
		SCMP_SYS(getdents64), SCMP_SYS(sched_yield), SCMP_SYS(futex),
		SCMP_SYS(nanosleep), SCMP_SYS(clock_nanosleep), SCMP_SYS(kill),
		SCMP_SYS(tgkill), SCMP_SYS(sched_getaffinity),
		SCMP_SYS(set_robust_list), SCMP_SYS(rseq),
		SCMP_SYS(set_tid_address),
	};
	return sandbox_allow(ctx, calls, SANDBOX_COUNT(calls));
}
#endif

/* sandbox_filter - load the system call allow-list; fatal on failure */
static void
sandbox_filter(void)
{
	scmp_filter_ctx	ctx;
	int		rc;

	if ((ctx = seccomp_init(SCMP_ACT_KILL_PROCESS)) == NULL)
		fatalx("%s: seccomp_init failed", __func__);
	/* A call through another ABI (int 0x80, x32) ends it the same way. */
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
	    SCMP_ACT_KILL_PROCESS);
	if (rc == 0)
		rc = sandbox_io_calls(ctx);
	if (rc == 0)
		rc = sandbox_process_calls(ctx);
#if defined(__SANITIZE_ADDRESS__)
	if (rc == 0)
		rc = sandbox_san_calls(ctx);
#endif
	if (rc == 0)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc != 0) {
		errno = -rc;
		fatal("%s: cannot load the system call filter", __func__);
	}
}

/* sandbox_limit - set a resource limit to 0, soft and hard */
static void
sandbox_limit(int resource, const char *name)
{
	struct rlimit	rl = { 0, 0 };

	if (setrlimit(resource, &rl) == -1)
		fatal("%s: setrlimit %s 0", __func__, name);
}

/* sandbox_enter - no new privileges, no fork, no core, the filter */
void
sandbox_enter(const struct wconf *wc)
{
	if (!wc->wc_sandbox) {
		log_warnx("SANDBOX OFF: this worker runs without its system "
		    "call filter, process and core limits (sandbox = off, for "
		    "debugging only); a worker taken over by a client could "
		    "do anything its user can");
		return;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("%s: PR_SET_NO_NEW_PRIVS", __func__);
	sandbox_limit(RLIMIT_CORE, "RLIMIT_CORE");
#if !defined(__SANITIZE_ADDRESS__)
	sandbox_limit(RLIMIT_NPROC, "RLIMIT_NPROC");
	/* The kernel does not count root's processes against it. */
	if (getuid() == 0 || geteuid() == 0)
		log_warnx("running as root: RLIMIT_NPROC 0 does not stop a "
		    "fork here; the system call filter still does");
#endif
	sandbox_filter();
	log_debug("%s: system call filter loaded", __func__);
}

#ifdef SNITCH_SANDBOX_PROBE
/*
 * sandbox_probe - a debug build's test hook: for the name
 * SANDBOX_PROBE_NAME, open a network socket, which the filter forbids;
 * with the sandbox on, the worker is killed here
 */
void
sandbox_probe(const char *name, ssize_t len)
{
	int	fd;

	if (len != (ssize_t)strlen(SANDBOX_PROBE_NAME) ||
	    memcmp(name, SANDBOX_PROBE_NAME, (size_t)len) != 0)
		return;
	log_warnx("%s: opening a TCP socket, which the sandbox forbids",
	    __func__);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) != -1)
		close(fd);
	log_warnx("%s: still alive: no sandbox stopped it", __func__);
}
#endif
