#!/usr/bin/env python3
"""hostile.py - a TLS client that sends ClientHellos no polite client would.

Run by t/hostile.bats and t/idle.bats as whatever user runs them; needs
only the Python 3 standard library, and talks to 127.0.0.1 or ::1 only.
It builds a ClientHello byte by byte (record header, handshake header,
body, extensions), each part overridable from the command line, frames
it into records as told, writes it as told, and prints what came back,
so that each test case is one readable line.

The hand-built hello is a real TLS 1.3 offer (TLS_AES_*, x25519 key
share, ecdsa_secp256r1_sha256), so a backend that gets it answers with
its ServerHello: "server-hello" below means the switch routed the hello
and the backend read it from its first byte.  It cannot go further (the
key share is a fixed public value), so which backend it was is read from
snitch's log line.  --real builds the hello with ssl.SSLObject instead
(t/tlshello.py), frames it the same way, completes the handshake, sends
a GET and prints the backend's HTTP body.

What a case prints, and how a single run exits (codes as in t/tls.py):

  server-hello             exit 0: the first record back is a handshake
                           record holding a ServerHello (type 2)
  the HTTP body            exit 0: --real, status 200
  alert N                  exit 3: a TLS alert, then a FIN
  alert N / reset          exit 5: a TLS alert, then a RST
  closed                   exit 4: EOF before any byte came back
  reset                    exit 5: ECONNRESET before any byte came back
  timeout                  exit 6: nothing within --timeout
  data LEN HEX             exit 7: bytes that are none of the above
  sent N | sent all        exit 0: --then reset: the first N bytes (with
                           --stop-after) or all of them, then a RST
  error: ...               exit 1: bad arguments, a failed handshake

--print-local prints "from=IP:PORT" first: the client's own address,
which is how a test finds the connection's line in snitch's log.

Names (--name, --sni-entry, --alpn) take \\xHH escapes (and \\\\ for a
backslash), so any byte can be written on a bats line:
--name 'a\\x00b.localhost'.  Raw bytes (--ext data, --ext-raw,
--trailing, --before, --after, --raw) are hex, spaces allowed.

--batch runs many cases in one process (a Python start costs more than
a case): each line of stdin holds one case's options, shell-quoted; for
each, one line comes out: "IP:PORT OUTCOME", the outcome's lines joined
with "; ".  --host, --port and --timeout of the command line apply to
every case.

--idle N is the load test's mode: open N connections that send nothing
(or, with --idle-partial, the first 9 bytes of a hello), run --clients
normal clients meanwhile, and report what the server did; see idle_main.
"""

import argparse
import collections
import resource
import selectors
import shlex
import socket
import sys
import time

import tlshello
from tlshello import CT_ALERT, CT_HANDSHAKE, RECORD_HDR, Outcome, recv
from tlshello import EXIT_OK, EXIT_ERROR, EXIT_STATUS
from tlshello import EXIT_ALERT, EXIT_CLOSED, EXIT_TIMEOUT

HS_CLIENT_HELLO = 1
HS_SERVER_HELLO = 2

EXT_SERVER_NAME = 0
EXT_SUPPORTED_GROUPS = 10
EXT_SIGNATURE_ALGORITHMS = 13
EXT_ALPN = 16
EXT_PADDING = 21
EXT_SUPPORTED_VERSIONS = 43
EXT_KEY_SHARE = 51

GROUP_X25519 = 0x001d
# The X25519 base point (u = 9): a valid public key, so a real server
# answers; what it derives from it does not matter, nothing is encrypted.
X25519_KEY = bytes([9]) + bytes(31)

# 0 to 6 are tls.py's codes, from tlshello; this one is hostile.py's own
EXIT_DATA = 7


# --- building a hello ------------------------------------------------------

def unescape(text):
    """unescape - text with \\xHH and \\\\ escapes as bytes (ASCII otherwise)"""
    out = bytearray()
    i = 0
    while i < len(text):
        if text[i] != "\\":
            out += text[i].encode("utf-8")
            i += 1
        elif text[i + 1:i + 2] == "\\":
            out.append(0x5c)
            i += 2
        elif text[i + 1:i + 2] == "x" and len(text) >= i + 4:
            out.append(int(text[i + 2:i + 4], 16))
            i += 4
        else:
            raise ValueError("bad escape at %r" % text[i:i + 4])
    return bytes(out)


def unhex(text):
    """unhex - hex digits, spaces allowed, as bytes"""
    return bytes.fromhex("".join(text.split()))


def u8(n):
    return n.to_bytes(1, "big")


def u16(n):
    return n.to_bytes(2, "big")


def u24(n):
    return n.to_bytes(3, "big")


def vec8(body):
    """vec8 - a TLS vector with a one-byte length (RFC 8446 3.4)"""
    return u8(len(body)) + body


def vec16(body):
    """vec16 - a TLS vector with a two-byte length"""
    return u16(len(body)) + body


def extension(etype, data):
    """extension - Extension: uint16 type, opaque data<0..2^16-1>"""
    return u16(etype) + vec16(data)


def sni_data(entries):
    """sni_data - ServerNameList of (name_type, name bytes) entries (RFC 6066 3)"""
    return vec16(b"".join(u8(t) + vec16(n) for t, n in entries))


def alpn_data(protocols):
    """alpn_data - ProtocolNameList of byte strings (RFC 7301 3.1)"""
    return vec16(b"".join(vec8(p) for p in protocols))


def tls13_extensions():
    """tls13_extensions - what a TLS 1.3 server needs to answer a hello"""
    return [
        extension(EXT_SUPPORTED_GROUPS, vec16(u16(GROUP_X25519))),
        extension(EXT_SIGNATURE_ALGORITHMS,
                  vec16(u16(0x0403) + u16(0x0804) + u16(0x0401))),
        extension(EXT_SUPPORTED_VERSIONS, vec8(u16(0x0304))),
        extension(EXT_KEY_SHARE,
                  vec16(u16(GROUP_X25519) + vec16(X25519_KEY))),
    ]


def build_hello(a):
    """build_hello - the handshake message (header included) the options say

    Layout (RFC 8446 4.1.2), each part overridable:

      01 LLLLLL                   msg_type (--msg-type), length (--msg-len)
      0303 <32 bytes random>      legacy_version, random
      00                          legacy_session_id: empty
      0006 1301 1302 1303         cipher_suites
      01 00                       compression: null
      LLLL <extensions>           block length (--ext-block-len); the
                                  block: server_name (--name, --sni-entry,
                                  --sni-twice), the TLS 1.3
                                  offer, ALPN (--alpn), --ext ones,
                                  --ext-raw bytes, padding (--pad-to)
      <--trailing bytes>
    """
    exts = []
    entries = [(0, unescape(a.name))] if a.name is not None else []
    for spec in a.sni_entry:
        t, _, n = spec.partition(":")
        entries.append((int(t, 0), unescape(n)))
    if entries:
        exts.append(extension(EXT_SERVER_NAME, sni_data(entries)))
        if a.sni_twice:
            exts.append(extension(EXT_SERVER_NAME, sni_data(entries)))
    exts += tls13_extensions()
    if a.alpn is not None:
        exts.append(extension(EXT_ALPN, alpn_data(
            [unescape(p) for p in a.alpn.split(",")])))
    for spec in a.ext:
        t, _, data = spec.partition(":")
        exts.append(extension(int(t, 0), unhex(data)))
    block = b"".join(exts) + unhex(a.ext_raw)

    head = u16(0x0303) + bytes(range(32)) + vec8(b"") + \
        vec16(u16(0x1301) + u16(0x1302) + u16(0x1303)) + vec8(b"\x00")
    trailing = unhex(a.trailing)

    def message(block):
        if a.no_extensions:
            body = head + trailing
        else:
            blen = len(block) if a.ext_block_len is None else a.ext_block_len
            body = head + u16(blen) + block + trailing
        mlen = len(body) if a.msg_len is None else a.msg_len
        return u8(a.msg_type) + u24(mlen) + body

    if a.pad_to is not None:
        # the padding extension (RFC 7685) makes the whole message,
        # header included, exactly pad_to bytes
        fill = a.pad_to - len(message(block)) - 4
        if fill < 0:
            raise ValueError("--pad-to %d: the hello is already %d bytes"
                             % (a.pad_to, len(message(block)) + 4))
        block += extension(EXT_PADDING, bytes(fill))
    return message(block)


def real_flight(a):
    """real_flight - (the tlshello.Client, its handshake bytes) of a real
    hello, to be framed like a hand-built one"""
    client, flight = tlshello.first_flight(tlshello.make_context(a.alpn),
                                           a.name)
    return client, tlshello.handshake_bytes(flight)


def frame(a, msg):
    """frame - the message as TLS records: --records K about equal ones,
    or --record-size S bytes each, or one.  --record-type and
    --record-version are comma separated lists: record i gets item i,
    or the last one."""
    if a.records:
        sizes = [len(p) for p in tlshello.split_even(msg, a.records)]
    elif a.record_size:
        sizes = [a.record_size] * (len(msg) // a.record_size)
        if len(msg) % a.record_size:
            sizes.append(len(msg) % a.record_size)
    else:
        sizes = [len(msg)]
    types = [int(t, 0) for t in a.record_type.split(",")]
    versions = [bytes.fromhex(v) for v in a.record_version.split(",")]
    out = bytearray()
    off = 0
    for i, size in enumerate(sizes):
        out += tlshello.record(types[min(i, len(types) - 1)],
                               versions[min(i, len(versions) - 1)],
                               msg[off:off + size])
        off += size
    return bytes(out)


# --- sending and reading -----------------------------------------------------

def send_wire(a, sock, wire):
    """send_wire - write wire the way --write says; False when the peer
    refused further bytes (its answer is the outcome: go read it)"""
    try:
        if a.write == "whole":
            sock.sendall(wire)
        elif a.write == "bytes":
            for i in range(len(wire)):
                sock.sendall(wire[i:i + 1])
                if a.delay:
                    time.sleep(a.delay)
        else:
            off = 0
            while off < len(wire):
                n = RECORD_HDR + int.from_bytes(wire[off + 3:off + 5], "big")
                sock.sendall(wire[off:off + n])
                off += n
                if a.delay:
                    time.sleep(a.delay)
    except (BrokenPipeError, ConnectionResetError):
        return False
    return True


def read_answer(sock):
    """read_answer - classify the first bytes back; returns them when they
    start a handshake record, else raises the outcome

    An alert is read whole, then the connection to its end: "alert N"
    alone means it ended with a FIN; "alert N" then "reset" a RST, which
    can make a real client lose the alert.
    """
    got = recv(sock)
    if not got:
        raise Outcome("closed", EXIT_CLOSED)
    while len(got) < RECORD_HDR + 2:
        more = recv(sock)
        if not more:
            break
        got += more
    if got[0] == CT_ALERT and len(got) >= RECORD_HDR + 2:
        line = "alert %d" % got[RECORD_HDR + 1]
        rest = got[RECORD_HDR + 2:]
        try:
            while True:
                more = recv(sock)
                if not more:
                    break
                rest += more
        except Outcome as o:
            raise Outcome(line + "\n" + o.line, o.code)
        if rest:
            raise Outcome(line + "\nerror: bytes after the alert: %s" %
                          rest[:64].hex(), EXIT_ERROR)
        raise Outcome(line, EXIT_ALERT)
    if got[0] == CT_HANDSHAKE and len(got) > RECORD_HDR and \
            got[RECORD_HDR] == HS_SERVER_HELLO:
        return got
    raise Outcome("data %d %s" % (len(got), got[:64].hex()), EXIT_DATA)


def complete(client, sock, first, host):
    """complete - finish a real handshake from the server's first bytes,
    GET /; returns the HTTP status code and the body"""
    tlshello.complete_handshake(client, sock, first)
    response = tlshello.http_get(client, sock, host)
    head, _, body = response.partition(b"\r\n\r\n")
    status = head.split(b"\r\n")[0].split(b" ")
    if len(status) < 2 or not status[1].isdigit():
        raise Outcome("error: no HTTP status line in %r" % response[:80],
                      EXIT_ERROR)
    return int(status[1]), body


def linger_reset(sock):
    """linger_reset - close with SO_LINGER 0: the kernel sends a RST"""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                    (1).to_bytes(4, sys.byteorder) + (0).to_bytes(4, sys.byteorder))
    sock.close()


def hello_wire(a):
    """hello_wire - (the bytes to send, --real's tlshello.Client or None)"""
    client = None
    if a.raw is not None:
        wire = unhex(a.raw)
    else:
        if a.real:
            client, msg = real_flight(a)
        else:
            msg = build_hello(a)
        wire = unhex(a.before) + frame(a, msg) + unhex(a.after)
    if a.stop_after is not None:
        wire = wire[:a.stop_after]
    return wire, client


def run_one(a):
    """run_one - connect, send one hello, get the answer: (client address
    or None, the outcome's lines, exit code)"""
    wire, client = hello_wire(a)
    family = socket.AF_INET6 if ":" in a.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.settimeout(a.timeout)
    local = None
    try:
        sock.connect((a.host, a.port))
        local = ("[%s]:%d" if family == socket.AF_INET6 else "%s:%d") % \
            sock.getsockname()[:2]
        if a.write != "whole":
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sent = send_wire(a, sock, wire)
        if a.then == "reset":
            if a.pause:
                time.sleep(a.pause)
            linger_reset(sock)
            raise Outcome("sent all" if a.stop_after is None else
                          "sent %d" % len(wire), EXIT_OK)
        if a.then == "shut" and sent:
            sock.shutdown(socket.SHUT_WR)
        first = read_answer(sock)
        if client is None:
            raise Outcome("server-hello", EXIT_OK)
        status, body = complete(client, sock, first, a.name or a.host)
        lines = body.decode("ascii", "backslashreplace").splitlines()
        if status != 200:
            return local, lines + ["error: HTTP status %d" % status], \
                EXIT_STATUS
        return local, lines, EXIT_OK
    except Outcome as o:
        return local, o.line.split("\n"), o.code
    except socket.timeout:
        return local, ["timeout"], EXIT_TIMEOUT
    except OSError as e:  # ssl.SSLError included
        return local, ["error: %s" % e], EXIT_ERROR
    finally:
        if sock.fileno() != -1:
            sock.close()


def single_main(a):
    """single_main - one case: its lines on stdout, its exit code"""
    local, lines, code = run_one(a)
    if a.print_local and local is not None:
        print("from=" + local)
    for line in lines:
        print(line)
    return code


def batch_main(p, a):
    """batch_main - a case per line of stdin, a line of outcome for each"""
    common = ["--host", a.host, "--port", str(a.port),
              "--timeout", str(a.timeout)]
    for line in sys.stdin:
        if not line.strip():
            continue
        case = p.parse_args(common + shlex.split(line))
        try:
            local, lines, _ = run_one(case)
        except ValueError as e:
            local, lines = None, ["error: %s" % e]
        print("%s %s" % (local or "-", "; ".join(lines)), flush=True)
    return EXIT_OK


# --- the idle crowd ------------------------------------------------------------

def normal_client(a):
    """normal_client - one real client for --name: its backend=... line,
    or what went wrong"""
    client, msg = real_flight(a)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(5)
    try:
        sock.connect((a.host, a.port))
        sock.sendall(frame(a, msg))
        status, body = complete(client, sock, read_answer(sock), a.name)
        for line in body.decode("ascii", "replace").split("\n"):
            if line.startswith("backend=") and status == 200:
                return line
        return "status-%d" % status
    except Outcome as o:
        return o.line.replace("\n", "+")
    except OSError as e:  # ssl.SSLError included
        return "error:%s" % type(e).__name__
    finally:
        sock.close()


def idle_main(a):
    """idle_main - hold a.idle connections that never finish a hello

    Raises its own RLIMIT_NOFILE soft limit to the hard one and opens the
    connections; with --idle-partial every other one sends the first 9
    bytes of a hello and stalls.  Prints "open N".  With --clients K, K
    normal clients for --name then run (10 at a time) while the idle ones
    are held, and it prints "clients" with each distinct result and its
    count ("clients backend=alpha:50"), then "held N": the idle
    connections the server had not closed when the last client finished,
    and how long the clients took ("took S s, from S s after the first
    connect").
    Then it waits until the server has closed all of them, or --timeout
    seconds after it began, and prints "closed N reset N data N open N"
    (a FIN, a RST, bytes, still open at the end) and "slowest S", the
    seconds from the first connect to the last close.
    """
    import concurrent.futures

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < a.idle + 64:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    partial = frame(a, build_hello(a))[:RECORD_HDR + 4]
    sel = selectors.DefaultSelector()
    start = time.monotonic()
    for i in range(a.idle):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(5)
        s.connect((a.host, a.port))
        if a.idle_partial and i % 2:
            s.sendall(partial)
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
    print("open %d" % a.idle, flush=True)

    if a.clients:
        begin = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(max_workers=10) as pool:
            results = collections.Counter(
                pool.map(lambda _: normal_client(a), range(a.clients)))
        print("clients " + " ".join("%s:%d" % kv for kv in
                                    sorted(results.items())), flush=True)
        print("held %d" % (a.idle - len(sel.select(timeout=0))), flush=True)
        print("took %.1f s, from %.1f s after the first connect" % (
            time.monotonic() - begin, begin - start), flush=True)

    counts = {"closed": 0, "reset": 0, "data": 0}
    left = a.idle
    last = start
    deadline = start + a.timeout
    while left > 0 and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=0.1):
            s = key.fileobj
            try:
                what = "data" if s.recv(4096) else "closed"
            except (ConnectionResetError, BrokenPipeError):
                what = "reset"
            except BlockingIOError:
                continue
            counts[what] += 1
            left -= 1
            last = time.monotonic()
            sel.unregister(s)
            s.close()
    print("closed %d reset %d data %d open %d" % (
        counts["closed"], counts["reset"], counts["data"], left), flush=True)
    print("slowest %.1f" % (last - start), flush=True)
    return EXIT_OK if left == 0 else EXIT_TIMEOUT


def make_parser():
    """make_parser - the command line (see the module comment)"""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--timeout", type=float, default=5.0,
                   help="seconds for each step (--idle: in all)")
    g = p.add_argument_group("the hello")
    g.add_argument("--name", help="host_name (\\xHH escapes)")
    g.add_argument("--sni-entry", action="append", default=[],
                   metavar="TYPE:NAME", help="a further ServerName entry")
    g.add_argument("--sni-twice", action="store_true",
                   help="send the server_name extension twice")
    g.add_argument("--alpn", help="comma separated protocols")
    g.add_argument("--ext", action="append", default=[], metavar="TYPE:DATA",
                   help="one more extension (DATA in hex)")
    g.add_argument("--ext-raw", default="", metavar="BYTES",
                   help="hex bytes at the end of the extensions block")
    g.add_argument("--ext-block-len", type=int,
                   help="extensions block length field")
    g.add_argument("--no-extensions", action="store_true")
    g.add_argument("--trailing", default="", metavar="BYTES",
                   help="hex bytes after the extensions block")
    g.add_argument("--pad-to", type=int, metavar="N",
                   help="padding extension: the message is N bytes")
    g.add_argument("--msg-type", type=int, default=HS_CLIENT_HELLO)
    g.add_argument("--msg-len", type=int, help="handshake length field")
    g.add_argument("--real", action="store_true",
                   help="a real hello from ssl; completes, prints the body")
    g.add_argument("--raw", metavar="HEX",
                   help="send these bytes (hex) instead of a hello")
    g = p.add_argument_group("framing and writing")
    g.add_argument("--records", type=int, default=0, metavar="K")
    g.add_argument("--record-size", type=int, default=0, metavar="S")
    g.add_argument("--record-type", default=str(CT_HANDSHAKE),
                   metavar="T,...", help="content type of each record (22)")
    g.add_argument("--record-version", default="0301", metavar="HEX,...",
                   help="version of each record (0301)")
    g.add_argument("--before", default="", metavar="BYTES",
                   help="hex bytes before the first record")
    g.add_argument("--after", default="", metavar="BYTES",
                   help="hex bytes after the last record")
    g.add_argument("--write", choices=("whole", "bytes", "records"),
                   default="whole")
    g.add_argument("--delay", type=float, default=0.001,
                   help="seconds between writes")
    g.add_argument("--stop-after", type=int, metavar="N",
                   help="send only the first N bytes, then wait")
    g.add_argument("--then", choices=("read", "shut", "reset"),
                   default="read", help="after sending: read the answer, "
                   "half-close first, or reset (SO_LINGER 0) and exit")
    g.add_argument("--pause", type=float, default=0.0,
                   help="--then reset: seconds to wait before the reset")
    g.add_argument("--print-local", action="store_true",
                   help='print "from=IP:PORT", this client\'s address, first')
    g.add_argument("--batch", action="store_true",
                   help="run the cases on stdin, one a line")
    g = p.add_argument_group("the idle crowd")
    g.add_argument("--idle", type=int, metavar="N")
    g.add_argument("--idle-partial", action="store_true",
                   help="every other idle connection sends 9 hello bytes")
    g.add_argument("--clients", type=int, default=0, metavar="K",
                   help="normal clients for --name while the idle are held")
    return p


def main():
    p = make_parser()
    a = p.parse_args()
    if a.host not in ("127.0.0.1", "::1", "localhost"):
        p.error("--host: loopback only")
    try:
        if a.idle is not None:
            return idle_main(a)
        if a.batch:
            return batch_main(p, a)
        return single_main(a)
    except ValueError as e:
        print("error: %s" % e)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
