#!/usr/bin/python3
"""busy.py - a backend that never receives, and a crowd of clients for it.

  busy.py stuck PATH [PATH...]
      listen on each AF_UNIX SOCK_SEQPACKET socket PATH (mode 0666), accept
      every channel SNItch's workers open, and never receive from any:
      their queues fill, as with a hung backend.
  busy.py turn PATH [PATH...]
      like stuck, but receive every handoff (and close it) until SIGUSR1,
      then print "stopped" and never receive again: channels that were
      idle become busy at the backend's will.
  busy.py stuck2 PATH
      stuck, speaking handoff protocol version 2: a HELLO on each channel
      it accepts, then nothing (it never receives, so never acknowledges).
  busy.py grab2 PATH
      stuck2, but it receives every handoff, sets its socket non-blocking
      (as Go's runtime and asyncio do, on the open file description the
      worker shares) and never acknowledges it; prints "grabbed N".
  busy.py garbage PATH
      send 8 bytes of no protocol on each channel it accepts, then
      receive and keep whatever comes.
  busy.py slow PATH SECONDS
      like stuck, but after SECONDS receive every handoff and keep its
      socket open; print "received N" each time the count grows.
  busy.py pin PATH [PATH...]
      the descriptor-pinning attack: like stuck on each PATH, and each
      channel it accepts is shut down for writing 0.3 s later but kept
      open: a worker that took that for a closed channel would connect
      again and queue more sockets that nobody will ever receive.
  busy.py dribble HOST PORT NAME SECONDS
      one connection after another, each sending a ClientHello for NAME
      one byte at a time, a byte a millisecond, for SECONDS: a worker
      woken a thousand times a second.
  busy.py crowd HOST PORT NAME[,NAME...] COUNT SECONDS
      open COUNT connections for each NAME, send each a real ClientHello
      for its NAME, and
      keep them open up to SECONDS; print how many got a TLS alert
      (and which), and how many got nothing: "alert80=N other=N silent=N".
      BUSY_ALPN=P1,P2,... in the environment: the hellos offer that ALPN
      list (a long one makes each handoff take more of a channel).
"""
import os
import selectors
import signal
import socket
import sys
import time

import tlshello


def listener(path):
    """A backend's socket at path, as SNItch's workers connect to it."""
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    srv.bind(path)
    os.chmod(path, 0o666)
    srv.listen(64)
    return srv


def stuck(paths):
    turn(paths, False)


def turn(paths, receiving):
    """Channels on every path, whose handoffs are received and closed
    while receiving, until SIGUSR1 turns that off."""
    state = {"receiving": receiving, "said": False}

    def stop(signum, frame):
        state["receiving"] = False
    signal.signal(signal.SIGUSR1, stop)
    sel = selectors.DefaultSelector()
    for path in paths:
        srv = listener(path)
        srv.setblocking(False)
        sel.register(srv, selectors.EVENT_READ, "listener")
    held = []
    while True:
        if not state["receiving"] and not state["said"]:
            print("stopped", flush=True)
            state["said"] = True
        for key, _ in sel.select(timeout=0.05):
            if key.data == "listener":
                try:
                    ch = key.fileobj.accept()[0]
                except BlockingIOError:
                    continue
                held.append(ch)
                ch.setblocking(False)
                sel.register(ch, selectors.EVENT_READ, "channel")
                continue
            if not state["receiving"]:
                sel.unregister(key.fileobj)
                continue
            try:
                msg, fds, _, _ = socket.recv_fds(key.fileobj, 512, 4)
            except BlockingIOError:
                continue
            except ConnectionResetError:
                msg, fds = b"", []
            for fd in fds:
                os.close(fd)
            if not msg and not fds:
                sel.unregister(key.fileobj)


HELLO = b"SNCH\x01\x02\x00\x00"   # PROTOCOL, version 2


def stuck2(path):
    srv = listener(path)
    held = []
    while True:
        conn, _ = srv.accept()
        conn.send(HELLO)
        held.append(conn)


def greet_and_hold(path, greeting, take):
    """Channels on path, each sent greeting first, whose handoffs are
    received and given to take(fd), never acknowledged"""
    srv = listener(path)
    srv.setblocking(False)
    channels = []
    while True:
        try:
            ch = srv.accept()[0]
            ch.send(greeting)
            ch.setblocking(False)
            channels.append(ch)
        except BlockingIOError:
            pass
        for ch in channels:
            try:
                _, fds, _, _ = socket.recv_fds(ch, 512, 4)
            except (BlockingIOError, ConnectionResetError):
                continue
            for fd in fds:
                take(fd)
        time.sleep(0.01)


def grab2(path):
    """stuck2, but receive every handoff, set its socket non-blocking
    (as Go's runtime and asyncio do) and never acknowledge it"""
    held = []

    def take(fd):
        os.set_blocking(fd, False)
        held.append(fd)
        print(f"grabbed {len(held)}", flush=True)
    greet_and_hold(path, HELLO, take)


def pin(paths):
    sel = selectors.DefaultSelector()
    for path in paths:
        srv = listener(path)
        srv.setblocking(False)
        sel.register(srv, selectors.EVENT_READ)
    held, fresh = [], []
    while True:
        for key, _ in sel.select(timeout=0.05):
            try:
                fresh.append((key.fileobj.accept()[0], time.monotonic()))
            except BlockingIOError:
                pass
        while fresh and time.monotonic() - fresh[0][1] >= 0.3:
            ch = fresh.pop(0)[0]
            ch.shutdown(socket.SHUT_WR)
            held.append(ch)


def garbage(path):
    held = []
    greet_and_hold(path, b"NOTSNCH!", held.append)


def slow(path, seconds):
    srv = listener(path)
    srv.setblocking(False)
    held, channels = [], []
    wake = time.monotonic() + seconds
    while True:
        try:
            channels.append(srv.accept()[0])
        except BlockingIOError:
            pass
        if time.monotonic() < wake:
            time.sleep(0.01)
            continue
        before = len(held)
        for ch in channels:
            ch.setblocking(False)
            while True:
                try:
                    _, fds, _, _ = socket.recv_fds(ch, 512, 4)
                except (BlockingIOError, ConnectionResetError):
                    break
                if not fds:
                    break
                held.extend(fds)
        if len(held) != before:
            print(f"received {len(held)}", flush=True)
        time.sleep(0.01)


def dribble(host, port, name, seconds):
    _, data = tlshello.first_flight(tlshello.make_context(), name)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        s = socket.create_connection((host, port), timeout=5)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(len(data)):
            if time.monotonic() >= deadline:
                break
            s.send(data[i:i + 1])
            time.sleep(0.001)
        s.close()


def crowd(host, port, names, count, seconds):
    sel = selectors.DefaultSelector()
    got = {}
    for name in names.split(","):
        _, data = tlshello.first_flight(
            tlshello.make_context(os.environ.get("BUSY_ALPN")), name)
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
        stuck(sys.argv[2:])
    elif sys.argv[1] == "turn":
        turn(sys.argv[2:], True)
    elif sys.argv[1] == "stuck2":
        stuck2(sys.argv[2])
    elif sys.argv[1] == "grab2":
        grab2(sys.argv[2])
    elif sys.argv[1] == "pin":
        pin(sys.argv[2:])
    elif sys.argv[1] == "garbage":
        garbage(sys.argv[2])
    elif sys.argv[1] == "slow":
        slow(sys.argv[2], float(sys.argv[3]))
    elif sys.argv[1] == "dribble":
        dribble(sys.argv[2], int(sys.argv[3]), sys.argv[4],
                float(sys.argv[5]))
    else:
        crowd(sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]),
              float(sys.argv[6]))
