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
 * listeners, counters, access log, control and broker sockets are
 * inherited; only backend channels and clients come later): no_new_privs, RLIMIT_NPROC 0
 * (no fork; the kernel exempts root, so it is said when it does not
 * hold), RLIMIT_CORE 0 (a dump would hold client bytes), and a seccomp
 * filter that allows exactly the system calls of the event loop: its
 * own I/O (sandbox_io_calls) and what libc does for any event loop of
 * SNItch's (common/confine.c, shared with snitch-stats, with the
 * sanitizer build's additions).
 * Anything else kills the worker (SCMP_ACT_KILL_PROCESS, SIGSYS); the
 * master logs that and restarts it.  The list was taken with strace -f
 * of workers across the test suite; arguments are checked where that
 * is cheap and closes a door: mmap never executable, tgkill only to
 * abort itself.
 *
 * A worker a client took over must not be able to give its descriptors
 * (the shared listeners, the access log) to another process, which
 * would keep them after the worker is killed.  So it makes no socket
 * and connects nothing: the master connects its channels
 * (master/broker.c); connect(2) is allowed on syslog's socket alone,
 * which was made before.  And sendmsg(2), the one way a descriptor
 * leaves (SCM_RIGHTS), is allowed only above the fixed descriptors:
 * stdio (which may be the journal's socket), the control and broker
 * sockets, the access log, the listeners, syslog's socket, the epoll
 * and inotify descriptors.  Every number up to the highest of them is
 * taken and stays taken (common/fdslot.c), so a channel or a client is
 * always above, and a fixed descriptor never is.  dup3(2) is allowed
 * onto fixed numbers only (a fixed descriptor replaced in place), no
 * other dup, and fcntl only to read and set file status flags (guard.c's
 * O_NONBLOCK), never F_DUPFD.  openat fails with EACCES instead of
 * killing: glibc opens files lazily (a time zone file, locale data)
 * and must fail softly, but the worker can open no file either way.
 *
 * `sandbox = off` skips sandbox_enter, for debugging (strace, core
 * dumps), and says so loudly; capabilities are dropped all the same.
 * For the same debugging it makes the worker dumpable again (main made
 * it not, common/dumpable.c): a core is written, and its own user may
 * strace it, but may also copy its listeners with pidfd_getfd.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/sockios.h>
#include <seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <bsd/string.h>

#include "confine.h"
#include "dumpable.h"
#include "fdslot.h"
#include "log.h"
#include "sandbox.h"

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
	confine_drop_caps();
}

#define SANDBOX_ALLOW(ctx, call, ...)					\
	seccomp_rule_add((ctx), SCMP_ACT_ALLOW, SCMP_SYS(call),		\
	    __VA_ARGS__)

static int	sandbox_watch_fd = -1;	/* inotify's (watch.c), or -1 */
static int	sandbox_fixed_top = -1;	/* the highest fixed descriptor */
static int	sandbox_syslog_fd = -1;	/* syslog's socket, or -1 */

/*
 * sandbox_allow_range - allow call when its descriptor argument arg is
 * in [from, to].  The kernel reads a descriptor as an int, so a value
 * with any of the high 33 bits set must not pass for one in range (it
 * would mean another descriptor); libseccomp takes one comparison per
 * argument and rule, so the range is cut into aligned blocks, one
 * masked comparison each (at most 62).
 */
static int
sandbox_allow_range(scmp_filter_ctx ctx, int call, unsigned int arg,
    uint64_t from, uint64_t to)
{
	struct scmp_arg_cmp	cmp;
	uint64_t		size;
	int			rc = 0;

	while (rc == 0 && from <= to) {
		/* the largest aligned block at from that ends in range */
		for (size = 1; (from & size) == 0 &&
		    from + size * 2 - 1 <= to; size *= 2)
			continue;
		cmp = SCMP_CMP(arg, SCMP_CMP_MASKED_EQ, ~(size - 1), from);
		rc = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, call, 1, &cmp);
		from += size;
	}
	return rc;
}

/* sandbox_allow_above - allow call when its descriptor (argument 0) is
 * above top */
static int
sandbox_allow_above(scmp_filter_ctx ctx, int call, int top)
{
	return sandbox_allow_range(ctx, call, 0, (uint64_t)top + 1, INT_MAX);
}

/*
 * sandbox_allow_but_syslog - close(2) and dup3(2) (onto a fixed number)
 * never free or replace syslog's socket: connect(2) is allowed on its
 * number, and a TCP client put there could be disconnected (AF_UNSPEC)
 * and connected anywhere
 */
static int
sandbox_allow_but_syslog(scmp_filter_ctx ctx)
{
	uint64_t	syslog = (uint64_t)sandbox_syslog_fd;
	uint64_t	top = (uint64_t)sandbox_fixed_top;
	int		rc;

	if (sandbox_syslog_fd == -1) {
		rc = SANDBOX_ALLOW(ctx, close, 0);
		if (rc == 0)
			rc = SANDBOX_ALLOW(ctx, dup3, 1,
			    SCMP_A1(SCMP_CMP_LE, top));
		return rc;
	}
	rc = sandbox_allow_range(ctx, SCMP_SYS(close), 0, 0, syslog - 1);
	if (rc == 0)
		rc = sandbox_allow_range(ctx, SCMP_SYS(close), 0, syslog + 1,
		    INT_MAX);
	if (rc == 0)
		rc = sandbox_allow_range(ctx, SCMP_SYS(dup3), 1, 0,
		    syslog - 1);
	if (rc == 0)
		rc = sandbox_allow_range(ctx, SCMP_SYS(dup3), 1, syslog + 1,
		    top);
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
		SCMP_SYS(recvmsg), SCMP_SYS(recvmmsg),
		SCMP_SYS(shutdown),
		SCMP_SYS(getsockname), SCMP_SYS(write), SCMP_SYS(writev),
		/* a log line to a pipe, never waiting (common/logsink.c) */
		SCMP_SYS(pwritev2),
		/* a tenant's socket: stat its path, check its listener */
		SCMP_SYS(newfstatat), SCMP_SYS(fstat), SCMP_SYS(statx),
	};
	int	rc;

	rc = confine_allow(ctx, calls, CONFINE_COUNT(calls));
	/*
	 * No socket(2): the master connects the channels (master/broker.c)
	 * and syslog's socket is made before.  No descriptor leaves but on
	 * a channel: sendmsg(2) only above the fixed descriptors (every
	 * number up to sandbox_fixed_top is one, and stays one: fdslot.c),
	 * where the only sockets are channels.
	 */
	if (rc == 0)
		rc = sandbox_allow_above(ctx, SCMP_SYS(sendmsg),
		    sandbox_fixed_top);
	/* send(2): bytes only, and only to a connected peer, never by
	 * address to any datagram socket */
	if (rc == 0)
		rc = SANDBOX_ALLOW(ctx, sendto, 1, SCMP_A4(SCMP_CMP_EQ, 0));
	/* syslogd restarted: its socket connected again, in place; it is a
	 * fixed one, so it carries no descriptor wherever it points */
	if (rc == 0 && sandbox_syslog_fd != -1)
		rc = SANDBOX_ALLOW(ctx, connect, 1,
		    SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)sandbox_syslog_fd));
	/* A fixed descriptor given up (a listener at the stop, the access
	 * log reopened) is replaced in place, onto fixed numbers only;
	 * syslog's socket is never closed nor replaced. */
	if (rc == 0)
		rc = sandbox_allow_but_syslog(ctx);
	/* SO_PEERCRED of a backend, SO_ERROR: socket-level options only */
	if (rc == 0)
		rc = SANDBOX_ALLOW(ctx, getsockopt, 1,
		    SCMP_A1(SCMP_CMP_EQ, SOL_SOCKET));
	/* A channel's send buffer: its bound on what a backend holds */
	if (rc == 0)
		rc = SANDBOX_ALLOW(ctx, setsockopt, 2,
		    SCMP_A1(SCMP_CMP_EQ, SOL_SOCKET),
		    SCMP_A2(SCMP_CMP_EQ, SO_SNDBUF));
	/* A client's low-water mark: woken once its hello may be whole */
	if (rc == 0)
		rc = SANDBOX_ALLOW(ctx, setsockopt, 2,
		    SCMP_A1(SCMP_CMP_EQ, SOL_SOCKET),
		    SCMP_A2(SCMP_CMP_EQ, SO_RCVLOWAT));
	/* SIOCOUTQ: what a backend has not received yet; SIOCINQ: what a
	 * client sent, counted without a peek; no other ioctl */
	if (rc == 0)
		rc = SANDBOX_ALLOW(ctx, ioctl, 1,
		    SCMP_A1(SCMP_CMP_EQ, SIOCOUTQ));
	if (rc == 0)
		rc = SANDBOX_ALLOW(ctx, ioctl, 1,
		    SCMP_A1(SCMP_CMP_EQ, SIOCINQ));
	/* guard.c: its interval timer, and a listener's O_NONBLOCK read
	 * and set again (F_GETFL, F_SETFL); no other fcntl */
	if (rc == 0)
		rc = SANDBOX_ALLOW(ctx, setitimer, 1,
		    SCMP_A0(SCMP_CMP_EQ, ITIMER_REAL));
	if (rc == 0)
		rc = SANDBOX_ALLOW(ctx, fcntl, 1,
		    SCMP_A1(SCMP_CMP_EQ, F_GETFL));
	if (rc == 0)
		rc = SANDBOX_ALLOW(ctx, fcntl, 1,
		    SCMP_A1(SCMP_CMP_EQ, F_SETFL));
	/* inotify's events, and no other descriptor read(2) */
	if (rc == 0 && sandbox_watch_fd != -1)
		rc = SANDBOX_ALLOW(ctx, read, 1,
		    SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)sandbox_watch_fd));
	return rc;
}

/*
 * sandbox_enter - no new privileges, no fork, no core, the filter;
 * watch_fd: the one descriptor read(2) may read, or -1
 */
void
sandbox_enter(const struct wconf *wc, int watch_fd)
{
	if (!wc->wc_sandbox) {
		if (dumpable_set(1) == -1)
			fatal("PR_SET_DUMPABLE");
		log_warnx("SANDBOX OFF: this worker runs without its system "
		    "call filter, process and core limits, and dumpable "
		    "(sandbox = off, for debugging only); a worker taken over "
		    "by a client could do anything its user can, and so can "
		    "any process of its user to it");
		return;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("%s: PR_SET_NO_NEW_PRIVS", __func__);
	confine_limit(RLIMIT_CORE, "RLIMIT_CORE");
#if !defined(__SANITIZE_ADDRESS__)
	confine_limit(RLIMIT_NPROC, "RLIMIT_NPROC");
	/* The kernel does not count root's processes against it. */
	if (getuid() == 0 || geteuid() == 0)
		log_warnx("running as root: RLIMIT_NPROC 0 does not stop a "
		    "fork here; the system call filter still does");
#endif
	sandbox_watch_fd = watch_fd;
	sandbox_syslog_fd = log_syslog_fd();
	if ((sandbox_fixed_top = fdslot_fix()) == -1)
		fatal("%s: cannot keep the fixed descriptors' numbers",
		    __func__);
	confine_filter(sandbox_io_calls);
	log_debug("%s: system call filter loaded", __func__);
}

#ifdef SNITCH_SANDBOX_PROBE
/*
 * sandbox_give - what a worker a client took over would do with its
 * descriptors: send the first listener and the access log (SCM_RIGHTS)
 * to the Unix datagram socket SANDBOX_GIVE_ENV names, over fd (then
 * addressed to it), or over a socket of its own connected to it (fd -1)
 */
static void
sandbox_give(int fd, const char *to)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(2 * sizeof(int))];
	}		 cm;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int		 fds[2] = { WCONF_LISTEN_FD, WCONF_ACCESS_FD };
	char		 byte = 'x';
	struct iovec	 iov = { &byte, 1 };
	struct msghdr	 msg;
	struct cmsghdr	*cmsg;

	strlcpy(sun.sun_path, to, sizeof(sun.sun_path));
	memset(&msg, 0, sizeof(msg));
	memset(&cm, 0, sizeof(cm));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cm.buf;
	msg.msg_controllen = sizeof(cm.buf);
	cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(cmsg), fds, sizeof(fds));
	if (fd == -1) {
		log_warnx("%s: connecting a socket of our own to %s", __func__,
		    to);
		if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1 ||
		    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
			log_warn("%s: cannot", __func__);
			return;
		}
	} else {
		log_warnx("%s: sending over fd %d to %s", __func__, fd, to);
		msg.msg_name = &sun;
		msg.msg_namelen = sizeof(sun);
	}
	if (sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL) == -1)
		log_warn("%s: sendmsg on fd %d", __func__, fd);
	else
		log_warnx("%s: still alive: gave the listener away on fd %d",
		    __func__, fd);
}

/*
 * sandbox_probe - a debug build's test hook: for the name
 * SANDBOX_PROBE_NAME, open a network socket, which the filter forbids
 * (with the sandbox on, the worker is killed here); for
 * SANDBOX_GIVE_NAME, give the listener away (sandbox_give) over a socket
 * of its own, and for fdN.SANDBOX_GIVE_NAME over its descriptor N
 * (N: 0 to 99; "syslog" for syslog's socket)
 */
void
sandbox_probe(const char *name, ssize_t len)
{
	const char	*to = getenv(SANDBOX_GIVE_ENV);
	size_t		 glen = strlen(SANDBOX_GIVE_NAME);
	int		 fd;

	if (to != NULL && len >= (ssize_t)glen &&
	    memcmp(name + len - glen, SANDBOX_GIVE_NAME, glen) == 0) {
		if (len == (ssize_t)glen)
			sandbox_give(-1, to);
		else if (strncmp(name, "syslog.", 7) == 0)
			sandbox_give(log_syslog_fd(), to);
		else if (strncmp(name, "fd", 2) == 0 && isdigit(name[2]))
			sandbox_give(atoi(name + 2), to);
		return;
	}
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
