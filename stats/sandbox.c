/*
 * sandbox.c - confine snitch-stats before its first client.
 *
 * Runs in snitch-stats, which the master exec'd after its privilege
 * drop: it starts as `user`, with no capability in effect.  It empties
 * every capability set (the master's inheritable CAP_SYS_CHROOT too,
 * with `chroot`), then confine.c's limits: no_new_privs, no core, no
 * fork (it made itself non-dumpable first thing in main, dumpable.c).  Then a seccomp filter: confine.c's process calls
 * and the ones of its loop below; anything else kills it with SIGSYS,
 * and the master logs that and restarts it.  It opens no file: the
 * snapshot and counters come as descriptors.  Unlike a worker's, this
 * sandbox has no `sandbox = off`: nothing here needs debugging with
 * strace that a log line does not show.
 */
#include <sys/socket.h>

#include "confine.h"
#include "log.h"
#include "sandbox.h"

/*
 * sandbox_io_calls - the loop: wait, take a snapshot (recvmsg, fstat,
 * mmap), accept and answer a client, log
 */
static int
sandbox_io_calls(scmp_filter_ctx ctx)
{
	static const int calls[] = {
		SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(accept4),
		SCMP_SYS(recvfrom), SCMP_SYS(recvmsg), SCMP_SYS(sendto),
		SCMP_SYS(shutdown), SCMP_SYS(close), SCMP_SYS(write),
		SCMP_SYS(writev), SCMP_SYS(fstat), SCMP_SYS(newfstatat),
		SCMP_SYS(statx), SCMP_SYS(connect),
		/* a log line to a pipe, never waiting (common/logsink.c) */
		SCMP_SYS(pwritev2),
	};
	int	rc;

	rc = confine_allow(ctx, calls, CONFINE_COUNT(calls));
	/* syslog's socket, made again by logsink.c if syslogd restarted */
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 2,
		    SCMP_A0(SCMP_CMP_EQ, AF_UNIX),
		    SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, SOCK_DGRAM));
	return rc;
}

/* sandbox_enter - no capability, no new privileges, the filter */
void
sandbox_enter(void)
{
	confine_drop_caps();
	confine_limits();
	confine_filter(sandbox_io_calls);
	log_debug("%s: system call filter loaded", __func__);
}
