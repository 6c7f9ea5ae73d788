#!/usr/bin/python3
"""busy.py - a backend that never receives, and a crowd of clients for it.

  busy.py stuck PATH
      listen on the AF_UNIX SOCK_SEQPACKET socket PATH (mode 0666), accept
      every channel SNItch's workers open, and never receive from any:
      their queues fill, as with a hung backend.
  busy.py crowd HOST PORT NAME COUNT SECONDS
      open COUNT connections, send each a real ClientHello for NAME, and
      keep them open up to SECONDS; print how many got a TLS alert
      (and which), and how many got nothing: "alert80=N other=N silent=N".
"""
import os
import selectors
import socket
import sys
import time

import tlshello


def stuck(path):
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    srv.bind(path)
    os.chmod(path, 0o666)
    srv.listen(64)
    held = []
    while True:
        conn, _ = srv.accept()
        held.append(conn)


def crowd(host, port, name, count, seconds):
    _, data = tlshello.first_flight(tlshello.make_context(), name)
    sel = selectors.DefaultSelector()
    got = {}
    for _ in range(count):
        s = socket.create_connection((host, port), timeout=5)
        s.sendall(data)
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
        got[s] = b""
    deadline = time.monotonic() + seconds
    while sel.get_map() and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=0.1):
            s = key.fileobj
            try:
                chunk = s.recv(64)
            except (ConnectionResetError, BlockingIOError):
                chunk = b""
            got[s] += chunk
            if not chunk or len(got[s]) >= 7:
                sel.unregister(s)
    alert80 = sum(1 for b in got.values() if b[:7] == bytes.fromhex("15030300020250"))
    other = sum(1 for b in got.values() if b and b[:7] != bytes.fromhex("15030300020250"))
    silent = sum(1 for b in got.values() if not b)
    print(f"alert80={alert80} other={other} silent={silent}")
    for s in got:
        s.close()


if __name__ == "__main__":
    if sys.argv[1] == "stuck":
        stuck(sys.argv[2])
    else:
        crowd(sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]),
              float(sys.argv[6]))
