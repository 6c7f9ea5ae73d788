/*
 * dumpable.c - every SNItch process makes itself non-dumpable, first
 * thing in main: the master (snitch), each snitch-worker, snitch-stats,
 * and the backend programs snitch-demo, snitch-exec and snitch-relay.
 *
 * Why: a process of the same uid may ptrace a dumpable process, read
 * its memory (/proc/PID/mem) and copy any of its descriptors with
 * pidfd_getfd(2).  A worker holds the shared :443 listeners: a copy
 * accepts SNItch's clients, and can clear O_NONBLOCK on them (the flag
 * lives on the open file description every holder shares).  Run-as
 * users are often shared (nobody), so "same uid" is not "SNItch".
 * Non-dumpable, the kernel asks for CAP_SYS_PTRACE instead, and the
 * process's /proc/PID files (fd/, environ, maps, mem) belong to root.
 *
 * execve(2) makes a process dumpable again (unless it changes ids), so
 * each program sets this itself; the dynamic loader's few moments
 * before main cannot be closed from here.  A uid change also resets it,
 * to fs.suid_dumpable: the master sets it again after its privilege
 * drop (master/privdrop.c).  Programs snitch-exec runs get their own
 * dumpability back at their exec.  A worker with `sandbox = off` turns
 * it back on, for strace and core dumps (worker/sandbox.c).
 *
 * No dependency: snitch-demo links this and libsnitch alone.
 */
#include <sys/prctl.h>

#include "dumpable.h"

/* dumpable_set - make this process dumpable or not; 0, or -1 with errno */
int
dumpable_set(int dumpable)
{
	return prctl(PR_SET_DUMPABLE, dumpable ? 1 : 0, 0, 0, 0) == -1 ?
	    -1 : 0;
}
