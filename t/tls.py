#!/usr/bin/env python3
"""tls.py - a TLS test client that controls how its ClientHello is written.

Run by the bats tests (t/*.bats) as whatever user runs them; needs only
the Python 3 standard library.  It builds a real ClientHello with
ssl.SSLContext over memory BIOs (t/tlshello.py), writes that first
flight to the TCP socket the way it is told (one byte per send,
re-framed over K records, or both), completes the handshake for real,
sends a GET and prints the HTTP body.

What it prints and how it exits, so a test can assert exact outcomes:

  the HTTP body            exit 0 (status 200), 2 (other status)
  alert N                  exit 3: the first record received was a TLS
                           alert (content type 21); N is its description
                           and the connection then ended with a FIN
  closed                   exit 4: EOF before any byte was received
  reset                    exit 5: ECONNRESET, also right after an alert
                           (then "alert N" comes first, then "reset")
  timeout                  exit 6: nothing happened within --timeout
  data LEN HEX             exit 0: --raw-hex only, the server answered
                           with bytes that are not an alert
  error: ...               exit 1: anything else (bad arguments, a TLS
                           error after the server started its handshake)

--raw-hex sends the given bytes instead of a hello and reports what came
back.  --print-local prints "from=IP:PORT" (this client's own address)
as the first line, so a test can check the backend saw it.
--print-hello prints "hello_bytes=N records=K" before sending: the
ClientHello's size on the wire, record headers included, and the number
of records it went in, so a test can check what SNItch logged.
"""

import argparse
import binascii
import socket
import ssl
import sys
import time

import tlshello
from tlshello import CT_ALERT, CT_HANDSHAKE, RECORD_HDR, Outcome, recv
from tlshello import EXIT_OK, EXIT_ERROR, EXIT_STATUS
from tlshello import EXIT_ALERT, EXIT_CLOSED, EXIT_RESET, EXIT_TIMEOUT

SPLIT_DELAY = 0.002


def parse_args():
    """parse_args - the command line"""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--name", help="server name (SNI); omit for none")
    p.add_argument("--alpn", help="comma separated ALPN list, e.g. h2,http/1.1")
    p.add_argument("--split-bytes", action="store_true",
                   help="send the first flight one byte per send()")
    p.add_argument("--split-delay", type=float, default=SPLIT_DELAY,
                   metavar="S", help="seconds between those sends (0.002)")
    p.add_argument("--records", type=int, default=0, metavar="K",
                   help="re-frame the ClientHello into K TLS records")
    p.add_argument("--raw-hex", metavar="HEX",
                   help="send these bytes instead of a hello")
    p.add_argument("--timeout", type=float, default=10.0)
    p.add_argument("--print-local", action="store_true",
                   help='print "from=IP:PORT", this client\'s address, first')
    p.add_argument("--print-hello", action="store_true",
                   help='print "hello_bytes=N records=K" of the hello sent')
    a = p.parse_args()
    if a.records < 0:
        p.error("--records must be at least 1")
    return a


def reframe(flight, k):
    """reframe - the handshake bytes of flight as k records of about equal size

    Every handshake record's body is concatenated (a ClientHello may
    already span records) and cut into k pieces, each with its own header:
    content type 22 and the first record's version.  Records of any other
    type are kept, after the handshake records.
    """
    recs = tlshello.records_split(flight)
    hs = tlshello.handshake_bytes(flight)
    others = [r for r in recs if r[0] != CT_HANDSHAKE]
    version = next(v for ctype, v, _ in recs if ctype == CT_HANDSHAKE)
    if k > len(hs):
        raise ValueError("cannot cut %d bytes into %d records" % (len(hs), k))
    out = bytearray()
    for piece in tlshello.split_even(hs, k):
        out += tlshello.record(CT_HANDSHAKE, version, piece)
    for ctype, v, body in others:
        out += tlshello.record(ctype, v, body)
    return bytes(out)


def send_flight(sock, data, split, delay):
    """send_flight - write data, one byte per send() every delay s when split

    A server that refuses early (an alert, a close) makes later sends fail;
    that is not the outcome, what it sent back is: stop and go read it.
    """
    try:
        if not split:
            sock.sendall(data)
            return
        for i in range(len(data)):
            sock.sendall(data[i:i + 1])
            time.sleep(delay)
    except (BrokenPipeError, ConnectionResetError):
        pass


def first_bytes(sock):
    """first_bytes - the first bytes the server sent, classified

    Returns the bytes when they are not an alert.  An alert is read whole
    (7 bytes), then the connection is read to its end: "alert N" alone
    means it ended with a FIN, "alert N" then "reset" means a RST, which
    can make a real client lose the alert.
    """
    got = recv(sock)
    if not got:
        raise Outcome("closed", EXIT_CLOSED)
    if got[0] != CT_ALERT:
        return got
    while len(got) < RECORD_HDR + 2:
        more = recv(sock)
        if not more:
            raise Outcome("error: alert record cut short: %s" % got.hex(),
                          EXIT_ERROR)
        got += more
    line = "alert %d" % got[RECORD_HDR + 1]
    print(line, flush=True)
    rest = b""
    try:
        while True:
            more = sock.recv(65536)
            if not more:
                break
            rest += more
    except (ConnectionResetError, BrokenPipeError):
        raise Outcome("reset", EXIT_RESET)
    except socket.timeout:
        raise Outcome("timeout", EXIT_TIMEOUT)
    if rest or len(got) > RECORD_HDR + 2:
        raise Outcome("error: bytes after the alert: %s" %
                      (got[RECORD_HDR + 2:] + rest).hex(), EXIT_ERROR)
    raise Outcome(None, EXIT_ALERT)


def http_body(response):
    """http_body - status code and body of an HTTP/1.1 response"""
    head, sep, body = response.partition(b"\r\n\r\n")
    if not sep:
        raise Outcome("error: no end of HTTP header in %r" % response[:200],
                      EXIT_ERROR)
    lines = head.split(b"\r\n")
    try:
        status = int(lines[0].split()[1])
    except (IndexError, ValueError):
        raise Outcome("error: bad status line %r" % lines[0], EXIT_ERROR)
    headers = {}
    for h in lines[1:]:
        k, _, v = h.partition(b":")
        headers[k.strip().lower()] = v.strip()
    if headers.get(b"transfer-encoding", b"").lower() == b"chunked":
        out = b""
        while True:
            size_line, _, body = body.partition(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            if size == 0:
                break
            out += body[:size]
            body = body[size + 2:]
        body = out
    elif b"content-length" in headers:
        body = body[:int(headers[b"content-length"])]
    return status, body


def run_hello(a, sock):
    """run_hello - a real handshake, a GET, the body printed"""
    client, flight = tlshello.first_flight(tlshello.make_context(a.alpn),
                                           a.name)
    if a.records:
        flight = reframe(flight, a.records)
    if a.print_hello:
        recs = [r for r in tlshello.records_split(flight)
                if r[0] == CT_HANDSHAKE]
        print("hello_bytes=%d records=%d" % (
            sum(RECORD_HDR + len(body) for _, _, body in recs), len(recs)),
            flush=True)
    send_flight(sock, flight, a.split_bytes, a.split_delay)

    first = first_bytes(sock)
    try:
        tlshello.complete_handshake(client, sock, first)
    except ssl.SSLError as e:
        # the client wrote its alert: send it, as a real client would
        tlshello.pump_out(client, sock)
        raise Outcome("error: handshake: %s" % e, EXIT_ERROR)

    host = a.name if a.name else a.host
    status, body = http_body(tlshello.http_get(client, sock, host))
    sys.stdout.buffer.write(body)
    sys.stdout.flush()
    if status != 200:
        print("error: HTTP status %d" % status, file=sys.stderr)
        return EXIT_STATUS
    return EXIT_OK


def run_raw(a, sock):
    """run_raw - send raw bytes, report what came back"""
    try:
        raw = binascii.unhexlify("".join(a.raw_hex.split()))
    except binascii.Error as e:
        raise Outcome("error: --raw-hex: %s" % e, EXIT_ERROR)
    send_flight(sock, raw, a.split_bytes, a.split_delay)
    got = first_bytes(sock)
    while True:
        try:
            more = sock.recv(65536)
        except (ConnectionResetError, BrokenPipeError, socket.timeout):
            break
        if not more:
            break
        got += more
    raise Outcome("data %d %s" % (len(got), got[:64].hex()), EXIT_OK)


def main():
    """main - connect, run, print one outcome"""
    a = parse_args()
    try:
        sock = socket.create_connection((a.host, a.port), timeout=a.timeout)
    except socket.timeout:
        print("timeout")
        return EXIT_TIMEOUT
    except OSError as e:
        print("error: connect: %s" % e.strerror)
        return EXIT_ERROR
    try:
        if a.split_bytes:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if a.print_local:
            local = sock.getsockname()
            fmt = "from=[%s]:%d" if sock.family == socket.AF_INET6 \
                else "from=%s:%d"
            print(fmt % local[:2], flush=True)
        if a.raw_hex is not None:
            return run_raw(a, sock)
        return run_hello(a, sock)
    except Outcome as o:
        if o.line is not None:
            print(o.line, flush=True)
        return o.code
    except ConnectionResetError:
        print("reset")
        return EXIT_RESET
    except BrokenPipeError:
        print("error: broken pipe while sending")
        return EXIT_ERROR
    except (ValueError, ssl.SSLError, OSError) as e:
        print("error: %s" % e)
        return EXIT_ERROR
    finally:
        sock.close()


if __name__ == "__main__":
    sys.exit(main())
