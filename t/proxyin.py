#!/usr/bin/env python3
"""proxyin.py - a load balancer that misbehaves: PROXY headers, whole,
malformed, cut or stalled, sent to SNItch on loopback, each maybe
followed by a real TLS ClientHello (Python's ssl, without finishing the
handshake).

    proxyin.py --port P [--bind ADDR] [--header HEX | --v1 SRC:PORT |
        --v2 SRC:PORT | --v2-local] [--hello NAME] [--count N]
        [--hold S] [--timeout S]

Opens --count connections from --bind (default 127.0.0.1), sends on
each the header and the hello, then waits up to --timeout for the
server to end it, reading all it sends.  Prints one line per
connection:  end=fin|reset|timeout bytes=N seconds=S
(bytes: what came back; a TLS alert or a handshake is data).  With
--hold S every connection is kept open S seconds first, all at once, so
that they are pending together in SNItch.
"""
import argparse
import socket
import ssl
import struct
import sys
import time

SIG = b"\r\n\r\n\x00\r\nQUIT\n"


def hello(name):
    """The bytes of a ClientHello for name (SNI), from Python's ssl."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(incoming, outgoing, server_hostname=name)
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


def split(endpoint):
    host, port = endpoint.rsplit(":", 1)
    return host.strip("[]"), int(port)


def v1(src, dst):
    (sa, sp), (da, dp) = split(src), split(dst)
    proto = "TCP6" if ":" in sa else "TCP4"
    return ("PROXY %s %s %s %d %d\r\n" % (proto, sa, da, sp, dp)).encode()


def v2(src, dst, tlvs=b""):
    (sa, sp), (da, dp) = split(src), split(dst)
    if ":" in sa:
        fam, addrs = 0x21, (socket.inet_pton(socket.AF_INET6, sa) +
                            socket.inet_pton(socket.AF_INET6, da))
    else:
        fam, addrs = 0x11, socket.inet_aton(sa) + socket.inet_aton(da)
    body = addrs + struct.pack("!HH", sp, dp) + tlvs
    return SIG + bytes([0x21, fam]) + struct.pack("!H", len(body)) + body


def v2_local():
    return SIG + bytes([0x20, 0x00, 0x00, 0x00])


def finish(sock, deadline):
    """Read until the server ends the connection; how it did, and bytes."""
    got = 0
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return "timeout", got
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            return "timeout", got
        except ConnectionResetError:
            return "reset", got
        if not chunk:
            return "fin", got
        got += len(chunk)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--header")
    ap.add_argument("--v1")
    ap.add_argument("--v2")
    ap.add_argument("--v2-local", action="store_true")
    ap.add_argument("--hello")
    ap.add_argument("--count", type=int, default=1)
    ap.add_argument("--hold", type=float, default=0)
    ap.add_argument("--timeout", type=float, default=5)
    a = ap.parse_args()
    dst = "127.0.0.1:%d" % a.port
    data = b""
    if a.header:
        data = bytes.fromhex(a.header)
    elif a.v1:
        data = v1(a.v1, dst)
    elif a.v2:
        data = v2(a.v2, dst if ":" not in split(a.v2)[0] else "[::1]:443")
    elif a.v2_local:
        data = v2_local()
    if a.hello:
        data += hello(a.hello)
    socks = []
    for _ in range(a.count):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                     struct.pack("ii", 0, 0))
        s.bind((a.bind, 0))
        s.connect(("127.0.0.1", a.port))
        if data:
            s.sendall(data)
        socks.append((s, time.monotonic()))
    if a.hold:
        time.sleep(a.hold)
    for s, start in socks:
        end, got = finish(s, time.monotonic() + a.timeout)
        print("end=%s bytes=%d seconds=%.1f" % (
            end, got, time.monotonic() - start))
        s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
