#!/usr/bin/env python3
"""multihost.py - a bounded loop of HTTPS clients for t/multihost.bats.

Run by t/multihost.bats inside the client's network namespace (ip netns
exec); needs only the Python 3 standard library and talks only to the
address it is given, a documentation address inside the test's own
namespaces.

  multihost.py --connect ADDR:PORT --name NAME --source IP [--source IP]
               [--clients N] [--count N] [--seconds S] [--hold S]
               [--timeout S] [--until FILE]

runs --clients threads (default 4) that each connect, one connection
after the other, from the next --source address (round robin, so the
source addresses and the kernel's ephemeral ports both vary), do a TLS
handshake with SNI NAME (no certificate check: the test certificate),
wait --hold seconds (default 0) on the open connection, send a GET and
read the answer to its end.  The hold keeps connections established
while the test changes routes under them: a route withdrawn too early
moves such a connection to a host that does not know it.

It stops after --count connections in all (default 100), after
--seconds (default 60), or once FILE (--until) exists, whichever comes
first; each operation has --timeout seconds (default 20: long enough
for SYN retransmits while a host drains, which take 1, then 2, then 4
seconds).  One line per connection, as each ends:

  ok backend=NAME client=IP:PORT self=IP:PORT seconds=S
  fail self=IP:PORT error=WHAT seconds=S

(backend= and client= from snitch-demo's answer: which host's backend
served it and the client address it was told; self= the address and
port the client itself used), and at the end:

  done ok=N fail=N

Exit status 0 (the lines say what happened), 1 for bad arguments.
"""

import argparse
import os
import socket
import ssl
import sys
import threading
import time


def parse_args():
    """The command line, checked."""
    p = argparse.ArgumentParser(description="a bounded loop of HTTPS clients")
    p.add_argument("--connect", required=True, help="ADDR:PORT")
    p.add_argument("--name", required=True, help="SNI and Host")
    p.add_argument("--source", action="append", required=True,
                   help="a source address (repeat for more)")
    p.add_argument("--clients", type=int, default=4)
    p.add_argument("--count", type=int, default=100)
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--hold", type=float, default=0.0)
    p.add_argument("--timeout", type=float, default=20.0)
    p.add_argument("--until", help="stop once this file exists")
    args = p.parse_args()
    host, _, port = args.connect.rpartition(":")
    if not host or not port.isdigit():
        p.error("--connect wants ADDR:PORT")
    args.target = (host, int(port))
    return args


class Loop:
    """The shared state of the client threads: what is left to do."""

    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.started = 0
        self.ok = 0
        self.fail = 0
        self.deadline = time.monotonic() + args.seconds
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        self.ctx.check_hostname = False
        self.ctx.verify_mode = ssl.CERT_NONE

    def next_source(self):
        """The source address of the next connection, or None to stop."""
        a = self.args
        with self.lock:
            if (self.started >= a.count or time.monotonic() >= self.deadline
                    or (a.until and os.path.exists(a.until))):
                return None
            self.started += 1
            return a.source[self.started % len(a.source)]

    def report(self, ok, line):
        """Print one connection's line and count it."""
        with self.lock:
            if ok:
                self.ok += 1
            else:
                self.fail += 1
            print(line, flush=True)

    def one(self, source):
        """One connection from source: its outcome line."""
        a = self.args
        began = time.monotonic()
        me = source + ":-"
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.settimeout(a.timeout)
            sock.bind((source, 0))
            me = "%s:%d" % sock.getsockname()
            sock.connect(a.target)
            with self.ctx.wrap_socket(sock, server_hostname=a.name) as tls:
                if a.hold > 0:
                    time.sleep(a.hold)
                tls.sendall(("GET / HTTP/1.1\r\nHost: %s\r\n"
                             "Connection: close\r\n\r\n" % a.name).encode())
                answer = b""
                while True:
                    chunk = tls.recv(65536)
                    if not chunk:
                        break
                    answer += chunk
        except (OSError, ssl.SSLError) as e:
            sock.close()
            return False, "fail self=%s error=%s seconds=%.2f" % (
                me, type(e).__name__ + ":" + str(e).replace(" ", "_"),
                time.monotonic() - began)
        fields = {}
        for line in answer.decode("ascii", "replace").splitlines():
            key, eq, value = line.partition("=")
            if eq and key not in fields:
                fields[key] = value
        if "backend" not in fields or "client" not in fields:
            return False, "fail self=%s error=no_demo_answer seconds=%.2f" % (
                me, time.monotonic() - began)
        return True, "ok backend=%s client=%s self=%s seconds=%.2f" % (
            fields["backend"], fields["client"], me,
            time.monotonic() - began)

    def run(self):
        """One thread: connections until the loop says stop."""
        while (source := self.next_source()) is not None:
            self.report(*self.one(source))


def main():
    args = parse_args()
    loop = Loop(args)
    threads = [threading.Thread(target=loop.run)
               for _ in range(max(1, args.clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("done ok=%d fail=%d" % (loop.ok, loop.fail), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
