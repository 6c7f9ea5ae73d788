#!/usr/bin/env python3
"""flood.py - a flood of stalled connections, as an attacker holds them.

Run by t/flood.bats as whatever user runs it; needs only the Python 3
standard library, and talks to loopback only.

  flood.py --port P --count N [--host H] [--sources FIRST-LAST]
           [--mode half|silent] [--hold S] [--ready FILE] [--status FILE]

opens N connections to H:P (127.0.0.1 by default), one after the other,
each bound first to the next source address of FIRST-LAST, round robin
(e.g. 127.0.2.1-127.0.2.40: Linux lets any 127.x.y.z be used on lo; a
single address is a range of one).  With --mode half (the default) each
sends the first 40 bytes of a TLS ClientHello, a handshake record whose
header claims 500 bytes, and stalls; with --mode silent it sends
nothing.  It keeps every connection open and watches how each ends:

  eof      the server closed it with a FIN and sent nothing
  reset    ECONNRESET
  data     the server sent bytes (an alert, say): counted once, then
           read to its end

Once all N are connected it writes "open N" to --ready FILE and prints
the same line.  Each time a tally changes it rewrites --status FILE with
one line, and it prints the same line when it ends, at SIGTERM or after
--hold seconds (default 60), whichever comes first:

    open=N eof=N reset=N data=N still=N

(still: connections the server has not ended).  Exit status 0, or 1 when
a connect failed (then "error: ..." on stderr).
"""

import argparse
import ipaddress
import os
import resource
import selectors
import signal
import socket
import struct
import sys
import time

CONNECT_TIMEOUT = 5.0


def half_hello():
    """The first 40 bytes of a ClientHello whose record claims 500.

    record header: 0x16 (handshake), version 3.1, length 500
    handshake header: 0x01 (client_hello), length 496
    client_version 3.3, then the first 29 of the 32 random bytes
    """
    record = struct.pack("!BHH", 0x16, 0x0301, 500)
    handshake = struct.pack("!B", 0x01) + (496).to_bytes(3, "big")
    body = b"\x03\x03" + bytes(range(29))
    out = record + handshake + body
    assert len(out) == 40
    return out


def sources(spec):
    """The addresses of FIRST-LAST (or of one address), in order."""
    first, _, last = spec.partition("-")
    lo = ipaddress.ip_address(first)
    hi = ipaddress.ip_address(last or first)
    if hi < lo:
        raise ValueError("empty range %s" % spec)
    return [str(lo + i) for i in range(int(hi) - int(lo) + 1)]


def raise_nofile(need):
    """Raise the soft descriptor limit to hold need, if the hard allows."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < need:
        want = need if hard == resource.RLIM_INFINITY else min(need, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def connect(host, port, source):
    """One connection from source to host:port, blocking up to a bound."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(CONNECT_TIMEOUT)
    s.bind((source, 0))
    s.connect((host, port))
    return s


def write_atomic(path, line):
    """path holds line, whole, for any reader at any time."""
    with open(path + ".tmp", "w") as f:
        f.write(line + "\n")
    os.rename(path + ".tmp", path)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--sources", default="127.0.0.1")
    p.add_argument("--mode", choices=("half", "silent"), default="half")
    p.add_argument("--hold", type=float, default=60.0)
    p.add_argument("--ready")
    p.add_argument("--status")
    a = p.parse_args()

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    deadline = time.monotonic() + a.hold
    raise_nofile(a.count + 64)
    addrs = sources(a.sources)
    first = half_hello() if a.mode == "half" else b""
    socks = []
    try:
        for i in range(a.count):
            s = connect(a.host, a.port, addrs[i % len(addrs)])
            if first:
                s.sendall(first)
            s.setblocking(False)
            socks.append(s)
            if stop or time.monotonic() >= deadline:
                break
    except OSError as e:
        print("error: connection %d: %s" % (len(socks) + 1, e),
              file=sys.stderr)
        return 1

    tally = {"eof": 0, "reset": 0, "data": 0}
    sel = selectors.DefaultSelector()
    for s in socks:
        sel.register(s, selectors.EVENT_READ)

    def line():
        return "open=%d eof=%d reset=%d data=%d still=%d" % (
            len(socks), tally["eof"], tally["reset"], tally["data"],
            len(sel.get_map()))

    if a.status:
        write_atomic(a.status, line())
    if a.ready:
        write_atomic(a.ready, "open %d" % len(socks))
    print("open %d" % len(socks), flush=True)

    spoke = set()
    while not stop and time.monotonic() < deadline:
        changed = False
        for key, _ in sel.select(timeout=0.1):
            s = key.fileobj
            try:
                got = s.recv(65536)
            except BlockingIOError:
                continue
            except ConnectionResetError:
                if s not in spoke:
                    tally["reset"] += 1
                sel.unregister(s)
                changed = True
                continue
            if got:
                if s not in spoke:
                    spoke.add(s)
                    tally["data"] += 1
                    changed = True
                continue
            if s not in spoke:
                tally["eof"] += 1
            sel.unregister(s)
            changed = True
        if changed and a.status:
            write_atomic(a.status, line())
    print(line(), flush=True)
    for s in socks:
        s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
