#!/usr/bin/env python3
"""notify_recv.py - a fake service manager's NOTIFY_SOCKET, for t/systemd.bats.

    notify_recv.py ADDRESS OUT

Binds an AF_UNIX datagram socket at ADDRESS (a path, or @name for an
abstract socket), creates OUT once it is bound, and appends each datagram
to OUT as one line: "pid=SENDER|KEY=VALUE|KEY=VALUE...", the sender's pid
from SO_PASSCRED, the datagram's lines joined with "|".  Runs until
killed.
"""
import os
import socket
import struct
import sys


def main():
    address, out = sys.argv[1], sys.argv[2]
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
    sock.bind("\0" + address[1:] if address.startswith("@") else address)
    with open(out, "a", encoding="utf-8") as f:
        f.flush()
        creds = struct.calcsize("3i")
        while True:
            data, anc, _, _ = sock.recvmsg(4096, socket.CMSG_SPACE(creds))
            pid = "?"
            for level, kind, value in anc:
                if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                    pid = str(struct.unpack("3i", value[:creds])[0])
            text = data.decode("utf-8", "backslashreplace")
            f.write("pid=%s|%s\n" % (pid, "|".join(text.split("\n"))))
            f.flush()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
    sys.exit(0)
