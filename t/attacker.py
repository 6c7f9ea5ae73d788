#!/usr/bin/env python3
"""attacker.py - a local process a compromised worker would give its
descriptors to (t/sandbox_give.bats): a Unix datagram socket at PATH,
writable by anyone, that writes to LOG every message it receives and
every descriptor in it (SCM_RIGHTS); a listening socket it is given, it
accepts a client on, to show what it could do with it.

    attacker.py PATH LOG
"""
import array
import os
import socket
import sys


def main():
    path, log = sys.argv[1], sys.argv[2]
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    os.chmod(path, 0o666)
    say(log, "listening on %s" % path)
    while True:
        _, anc, _, _ = sock.recvmsg(64, socket.CMSG_SPACE(16 * 4))
        fds = array.array("i")
        for level, kind, data in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(data[:len(data) - len(data) % fds.itemsize])
        say(log, "received a message with %d descriptors" % len(fds))
        for fd in fds:
            use(log, fd)


def use(log, fd):
    """Say what fd is; accept a client on it if it is a listener."""
    try:
        lsock = socket.socket(fileno=fd)
        say(log, "descriptor %d: a socket on %s" % (fd, lsock.getsockname()))
        lsock.settimeout(10)
        _, peer = lsock.accept()
        say(log, "accepted a client from %s:%d on it" % peer[:2])
    except OSError as err:
        say(log, "descriptor %d: %s" % (fd, err))


def say(log, line):
    with open(log, "a") as out:
        out.write(line + "\n")


if __name__ == "__main__":
    main()
