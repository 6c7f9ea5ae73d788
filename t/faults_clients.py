#!/usr/bin/python3
"""faults_clients.py - client drivers and probes for the fault tests.

Run by t/faults_*.bats and t/soak.bats as whatever user runs them; needs
only the Python 3 standard library, and talks to 127.0.0.1 only.  Every
socket operation has a timeout, and every command ends within a bound
given on its command line.

  clients  --port P --name N --count K [--kind good|slow|unknown]
           [--chunks C --delay S] [--timeout S] [--stagger S]
      K clients at once, each a real TLS client (t/tlshello.py): it
      sends its ClientHello (at once, or cut into C pieces sent S seconds
      apart), completes the handshake, sends a GET and reads the demo
      backend's answer.  One line per client, in the order they ended:
          answer BACKEND SERVER_NAME   the backend's answer
          alert N                      an alert, then a FIN
          alert N reset                an alert, then a RST
          closed | reset | timeout     before any byte came back, or
                                       during the handshake
          error TEXT                   anything else
      then "done K".  --stagger: seconds between the connects.
  load     --port P --names NAME=BACKEND,... --concurrency C --seconds S
           [--until FILE]
      C threads run good clients one after the other for S seconds (or
      until FILE exists, if sooner), the names taken in turn; a client counts as ok only with the answer of
      NAME's backend for NAME.  Prints "clients N ok N failed N resets N"
      then one "failed NAME OUTCOME" line per failure.
  idle     --port P --count K --hold S [--ready FILE]
      K connections that never send a byte, opened at once (this process
      raises its own descriptor limit), held until the server closes them
      or S seconds pass.  Writes "open K" to FILE once all are connected,
      and prints "open=K closed=N reset=N still=N" at the end.
  soak     --port P --seconds S --good NAME=BACKEND,... --unknown NAME
           [--peek-timeout S]
      mixed clients for S seconds: good ones (threads looping over the
      names), unknown names, slow hellos, idle connections and clients
      that reset mid-hello.  Prints "connections N" (TCP connections made)
      then "KIND EXPECTED OUTCOME COUNT" lines, OUTCOME as above with
      "answer" followed by the backend ("answer-alpha").
  hello    NAME
      write the ClientHello a client for NAME sends (its first flight) to
      stdout, for a test to send it by other means.
  fds      PID
      classify the process' open descriptors: "tcp_listen=N tcp_conn=N
      unix=N other_socket=N other=N total=N" (tcp_conn: TCP sockets not
      listening, in any state; other_socket: sockets in no table, such as
      a TCP socket closed by a reset).
"""

import argparse
import os
import resource
import selectors
import socket
import ssl
import sys
import threading
import time

import tlshello
from tlshello import CT_ALERT, RECORD_HDR, Outcome, recv

HOST = "127.0.0.1"

# made once: every client of every thread shares it (an SSLContext may be
# shared between threads), and all they differ in is the server name
CONTEXT = tlshello.make_context()


def read_alert(sock, got):
    """read_alert - got starts an alert record: read it whole, then to EOF"""
    while len(got) < RECORD_HDR + 2:
        more = recv(sock)
        if not more:
            raise Outcome("error alert-cut-short")
        got += more
    line = "alert %d" % got[RECORD_HDR + 1]
    try:
        while True:
            more = sock.recv(65536)
            if not more:
                break
    except (ConnectionResetError, BrokenPipeError):
        raise Outcome(line + " reset")
    except socket.timeout:
        raise Outcome(line + " timeout")
    raise Outcome(line)


def send_flight(sock, flight, chunks, delay):
    """send_flight - the ClientHello, at once or in pieces; stop on refusal"""
    try:
        if chunks <= 1:
            sock.sendall(flight)
            return
        for i, piece in enumerate(tlshello.split_even(flight, chunks)):
            sock.sendall(piece)
            if i < chunks - 1:
                time.sleep(delay)
    except (BrokenPipeError, ConnectionResetError):
        pass


def answer_of(body):
    """answer_of - "answer BACKEND SERVER_NAME" from a demo body"""
    keys = {}
    for line in body.decode("ascii", "replace").splitlines():
        k, sep, v = line.partition("=")
        if sep:
            keys.setdefault(k, v)
    return "answer %s %s" % (keys.get("backend", "?"),
                             keys.get("server_name", "?"))


def connect_counted(port, timeout, stats):
    """connect_counted - a TCP connection to the port, counted in stats
    (a dict with "connections" and its "lock", or None) once made; the
    socket, or the outcome line when the connect failed"""
    try:
        sock = socket.create_connection((HOST, port), timeout=timeout)
    except OSError as e:
        return "error connect-%s" % (e.strerror or "timeout").replace(" ", "-")
    if stats is not None:
        with stats["lock"]:
            stats["connections"] += 1
    return sock


def run_client(port, name, chunks=1, delay=0.0, timeout=5.0, stats=None):
    """run_client - one TLS client; its outcome line

    stats, when given, is a dict whose "connections" entry is increased
    (under its "lock") once the TCP connection is made.
    """
    client, flight = tlshello.first_flight(CONTEXT, name)
    sock = connect_counted(port, timeout, stats)
    if isinstance(sock, str):
        return sock
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        send_flight(sock, flight, chunks, delay)
        got = recv(sock)
        if not got:
            raise Outcome("closed")
        if got[0] == CT_ALERT:
            read_alert(sock, got)
        tlshello.complete_handshake(client, sock, got)
        response = tlshello.http_get(client, sock, name or HOST)
        head, sep, body = response.partition(b"\r\n\r\n")
        if not sep or not head.startswith(b"HTTP/1.1 200"):
            raise Outcome("error bad-response")
        return answer_of(body)
    except Outcome as o:
        return str(o)
    except ssl.SSLError as e:
        return "error ssl-%s" % (e.reason or "error")
    except (ConnectionResetError, BrokenPipeError):
        return "reset"
    except socket.timeout:
        return "timeout"
    except OSError as e:
        return "error %s" % (e.strerror or "oserror").replace(" ", "-")
    finally:
        sock.close()


def run_idle(port, timeout, stats):
    """run_idle - connect, send nothing, wait for the server to close"""
    sock = connect_counted(port, timeout, stats)
    if isinstance(sock, str):
        return sock
    try:
        got = recv(sock)
        return "closed" if not got else "error data"
    except Outcome as o:
        return str(o)
    finally:
        sock.close()


def run_resetting(port, timeout, stats):
    """run_resetting - send half a ClientHello, then reset the connection"""
    _, flight = tlshello.first_flight(CONTEXT, "alpha.localhost")
    sock = connect_counted(port, timeout, stats)
    if isinstance(sock, str):
        return sock
    try:
        sock.sendall(flight[:len(flight) // 2])
        time.sleep(0.05)
        # SO_LINGER with a zero timeout: close() sends a RST
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                        (1).to_bytes(4, sys.byteorder) +
                        (0).to_bytes(4, sys.byteorder))
        return "reset-sent"
    except OSError:
        return "reset-sent"
    finally:
        sock.close()


def parse_names(text):
    """parse_names - "a=x,b=y" as [(a, x), (b, y)]"""
    out = []
    for item in text.split(","):
        name, _, backend = item.partition("=")
        out.append((name, backend))
    return out


def cmd_clients(a):
    """cmd_clients - K clients at once, one outcome line each"""
    lock = threading.Lock()
    threads = []

    def one():
        name = a.name if a.name != "-" else None
        line = run_client(a.port, name, a.chunks, a.delay, a.timeout)
        with lock:
            print(line, flush=True)

    for _ in range(a.count):
        t = threading.Thread(target=one, daemon=True)
        t.start()
        threads.append(t)
        if a.stagger:
            time.sleep(a.stagger)
    deadline = time.monotonic() + a.timeout * 4 + a.chunks * a.delay + 5
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    alive = sum(1 for t in threads if t.is_alive())
    if alive:
        print("error %d clients still running" % alive, flush=True)
    print("done %d" % a.count, flush=True)
    return 0


def cmd_load(a):
    """cmd_load - concurrent good clients in a bounded loop"""
    names = parse_names(a.names)
    lock = threading.Lock()
    result = {"clients": 0, "ok": 0, "resets": 0, "failed": []}
    end = time.monotonic() + a.seconds

    def loop(first):
        i = first
        while time.monotonic() < end and not (
                a.until and os.path.exists(a.until)):
            name, backend = names[i % len(names)]
            i += 1
            line = run_client(a.port, name, timeout=a.timeout)
            with lock:
                result["clients"] += 1
                if line == "answer %s %s" % (backend, name):
                    result["ok"] += 1
                else:
                    result["failed"].append((name, line))
                    if "reset" in line:
                        result["resets"] += 1

    threads = [threading.Thread(target=loop, args=(i,), daemon=True)
               for i in range(a.concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(a.seconds + a.timeout * 4 + 5)
    print("clients %d ok %d failed %d resets %d" % (
        result["clients"], result["ok"], len(result["failed"]),
        result["resets"]), flush=True)
    for name, line in result["failed"]:
        print("failed %s %s" % (name, line))
    if any(t.is_alive() for t in threads):
        print("error clients still running")
    return 0


def raise_nofile(need):
    """raise_nofile - room for need descriptors, as far as the hard limit"""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < need:
        new = need if hard == resource.RLIM_INFINITY else min(need, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))


def cmd_idle(a):
    """cmd_idle - K idle connections held until closed or --hold passes"""
    raise_nofile(a.count + 64)
    socks = []
    for _ in range(a.count):
        # The accept queue holds what the workers do not take yet:
        # connect() completes anyway.
        s = socket.create_connection((HOST, a.port), timeout=5)
        s.setblocking(False)
        socks.append(s)
    if a.ready:
        with open(a.ready + ".tmp", "w") as f:
            f.write("open %d\n" % len(socks))
        os.rename(a.ready + ".tmp", a.ready)
    sel = selectors.DefaultSelector()
    for s in socks:
        sel.register(s, selectors.EVENT_READ)
    closed = reset = 0
    deadline = time.monotonic() + a.hold
    while sel.get_map() and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=0.1):
            s = key.fileobj
            try:
                data = s.recv(64)
            except BlockingIOError:
                continue
            except ConnectionResetError:
                reset += 1
                sel.unregister(s)
                continue
            if data:
                continue  # the tests expect nothing: counted as still open
            closed += 1
            sel.unregister(s)
    still = len(sel.get_map())
    print("open=%d closed=%d reset=%d still=%d" % (len(socks), closed, reset,
                                                    still), flush=True)
    for s in socks:
        s.close()
    return 0


def cmd_soak(a):
    """cmd_soak - mixed clients for a bounded time; counts of outcomes"""
    good = parse_names(a.good)
    stats = {"lock": threading.Lock(), "connections": 0}
    counts = {}
    end = time.monotonic() + a.seconds
    # a client's own bound: peek_timeout for idle ones, plus room
    timeout = max(5.0, a.peek_timeout + 3.0)

    def record(kind, backend, name, line):
        words = line.split()
        if words[0] == "answer":
            outcome = "answer-" + words[1]
            if name is not None and words[2] != name:
                outcome += "-wrong-name"
        else:
            outcome = "-".join(words)
        with stats["lock"]:
            key = (kind, backend, outcome)
            counts[key] = counts.get(key, 0) + 1

    def good_loop(first, kind, chunks, delay):
        i = first
        while time.monotonic() < end:
            name, backend = good[i % len(good)]
            i += 1
            line = run_client(a.port, name, chunks, delay, timeout, stats)
            record(kind, backend, name, line)

    def unknown_loop():
        while time.monotonic() < end:
            line = run_client(a.port, a.unknown, 1, 0, timeout, stats)
            record("unknown", "-", None, line)
            time.sleep(0.02)

    def idle_loop():
        while time.monotonic() < end:
            record("idle", "-", None, run_idle(a.port, timeout, stats))

    def reset_loop():
        while time.monotonic() < end:
            record("reset", "-", None, run_resetting(a.port, timeout, stats))
            time.sleep(0.02)

    threads = [threading.Thread(target=good_loop, args=(i, "good", 1, 0))
               for i in range(4)]
    threads += [threading.Thread(target=good_loop,
                                 args=(i, "slow", 10, 0.05))
                for i in range(2)]
    threads += [threading.Thread(target=unknown_loop),
                threading.Thread(target=reset_loop)]
    threads += [threading.Thread(target=idle_loop) for _ in range(2)]
    for t in threads:
        t.daemon = True
        t.start()
    for t in threads:
        t.join(max(0.0, end + timeout * 3 - time.monotonic()))
    print("connections %d" % stats["connections"])
    for key in sorted(counts):
        print("%s %s %s %d" % (key + (counts[key],)))
    if any(t.is_alive() for t in threads):
        print("error clients still running")
    return 0


def socket_table(pid, names):
    """socket_table - {inode: state} of the TCP or unix sockets of names"""
    out = {}
    for table in names:
        try:
            with open("/proc/%d/net/%s" % (pid, table)) as f:
                lines = f.read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            w = line.split()
            if table == "unix":
                out[w[6]] = w[5]        # inode, st
            else:
                out[w[9]] = w[3]        # inode, st (0A: LISTEN)
    return out


def cmd_fds(a):
    """cmd_fds - the process' descriptors, by kind"""
    tcp = socket_table(a.pid, ("tcp", "tcp6"))
    unix = socket_table(a.pid, ("unix",))
    counts = {"tcp_listen": 0, "tcp_conn": 0, "unix": 0, "other_socket": 0,
              "other": 0}
    base = "/proc/%d/fd" % a.pid
    fds = os.listdir(base)
    for fd in fds:
        try:
            link = os.readlink(os.path.join(base, fd))
        except OSError:
            continue
        if not link.startswith("socket:["):
            counts["other"] += 1
            continue
        inode = link[len("socket:["):-1]
        if inode in tcp:
            counts["tcp_listen" if tcp[inode] == "0A" else "tcp_conn"] += 1
        elif inode in unix:
            counts["unix"] += 1
        else:
            counts["other_socket"] += 1
    print(" ".join("%s=%d" % (k, counts[k]) for k in
                   ("tcp_listen", "tcp_conn", "unix", "other_socket",
                    "other")) + " total=%d" % len(fds))
    return 0


def cmd_hello(a):
    """cmd_hello - a real ClientHello for a name, on stdout"""
    _, flight = tlshello.first_flight(CONTEXT, a.name)
    sys.stdout.buffer.write(flight)
    return 0


def main():
    """main - one command"""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("clients")
    c.add_argument("--port", type=int, required=True)
    c.add_argument("--name", required=True, help="server name, - for none")
    c.add_argument("--count", type=int, default=1)
    c.add_argument("--chunks", type=int, default=1)
    c.add_argument("--delay", type=float, default=0.0)
    c.add_argument("--timeout", type=float, default=5.0)
    c.add_argument("--stagger", type=float, default=0.0)
    c = sub.add_parser("load")
    c.add_argument("--port", type=int, required=True)
    c.add_argument("--names", required=True)
    c.add_argument("--concurrency", type=int, default=20)
    c.add_argument("--until")
    c.add_argument("--seconds", type=float, default=3.0)
    c.add_argument("--timeout", type=float, default=5.0)
    c = sub.add_parser("idle")
    c.add_argument("--port", type=int, required=True)
    c.add_argument("--count", type=int, required=True)
    c.add_argument("--hold", type=float, required=True)
    c.add_argument("--ready")
    c = sub.add_parser("soak")
    c.add_argument("--port", type=int, required=True)
    c.add_argument("--seconds", type=float, default=20.0)
    c.add_argument("--good", required=True)
    c.add_argument("--unknown", required=True)
    c.add_argument("--peek-timeout", type=float, default=2.0)
    c = sub.add_parser("hello")
    c.add_argument("name")
    c = sub.add_parser("fds")
    c.add_argument("pid", type=int)
    a = p.parse_args()
    return {"clients": cmd_clients, "load": cmd_load, "idle": cmd_idle,
            "soak": cmd_soak, "hello": cmd_hello, "fds": cmd_fds}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
