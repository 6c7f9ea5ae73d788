#!/usr/bin/env python3
"""getfd.py - copy another process's descriptor with pidfd_getfd(2), as an
attacker of the same uid would (t/dumpable.bats, t/listenflags.bats).

    getfd.py PID FD            print "copied" (exit 0) or "refused ERRNO"
                               (exit 1)
    getfd.py --block PID FD    also clear O_NONBLOCK on the copy: the flag
                               lives on the open file description, so the
                               process's own descriptor loses it too; then
                               print "cleared"

pidfd_getfd needs PTRACE_MODE_ATTACH over the process: the same uid and
a dumpable process, or CAP_SYS_PTRACE (root).  Python has pidfd_open but
not pidfd_getfd: it is called through libc's syscall(2).
"""
import ctypes
import errno
import fcntl
import os
import sys

SYS_PIDFD_GETFD = 438  # the same on every architecture since 5.6


def getfd(pid, fd):
    """A copy of pid's descriptor fd, or OSError."""
    libc = ctypes.CDLL(None, use_errno=True)
    pidfd = os.pidfd_open(pid)
    try:
        copy = libc.syscall(SYS_PIDFD_GETFD, pidfd, fd, 0)
        if copy < 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err))
        return copy
    finally:
        os.close(pidfd)


def main():
    args = sys.argv[1:]
    block = args[:1] == ["--block"]
    if block:
        args = args[1:]
    if len(args) != 2:
        sys.exit(__doc__)
    try:
        copy = getfd(int(args[0]), int(args[1]))
    except OSError as e:
        print("refused", errno.errorcode.get(e.errno, str(e.errno)))
        sys.exit(1)
    print("copied")
    if block:
        flags = fcntl.fcntl(copy, fcntl.F_GETFL)
        fcntl.fcntl(copy, fcntl.F_SETFL, flags & ~os.O_NONBLOCK)
        print("cleared")
    os.close(copy)


if __name__ == "__main__":
    main()
