#!/usr/bin/env python3
"""capture.py - record real TLS clients' ClientHellos for the fuzz corpus.

t/fuzz/capture.sh drives it; it is not part of `make check`.

    capture.py listen PORTFILE OUT [TIMEOUT [NAME]]
        listen on 127.0.0.1 on a free port, write the port number to
        PORTFILE, read every connection until one has sent a whole
        ClientHello (by the record and handshake lengths, never by what
        one recv returned), write the raw bytes of the records it spans
        to OUT, answer each connection with a handshake_failure alert and
        close.  With NAME, only a hello carrying those bytes counts (a
        browser also opens connections of its own).  Exit 1 when nothing
        came within TIMEOUT seconds (default 30).

    capture.py reframe IN OUT SIZE...
        write IN's ClientHello again cut into records of SIZE bytes (the
        last SIZE repeating; 0: the rest in one record).

    capture.py sslv2 OUT
        write an SSL 2.0 compatible CLIENT-HELLO (RFC 5246 appendix E.2),
        which SNItch refuses as not TLS.

Only 127.0.0.1 is ever used.
"""

import os
import selectors
import socket
import sys
import time

RECORD_HDR = 5
MSG_HDR = 4
CT_HANDSHAKE = 22
CLIENT_HELLO = 1
ALERT_HANDSHAKE_FAILURE = bytes([21, 3, 3, 0, 2, 2, 40])


def capture_extent(wire):
    """capture_extent - the wire length of the hello's records, or None
    while it is not whole; raises ValueError when this is no hello."""
    off = 0
    msg = b""
    while True:
        if len(wire) - off < RECORD_HDR:
            return None
        ctype, major = wire[off], wire[off + 1]
        rlen = wire[off + 3] << 8 | wire[off + 4]
        if ctype != CT_HANDSHAKE or major != 3 or rlen == 0:
            raise ValueError("not a handshake record at offset %d" % off)
        if len(wire) - off - RECORD_HDR < rlen:
            return None
        msg += wire[off + RECORD_HDR:off + RECORD_HDR + rlen]
        off += RECORD_HDR + rlen
        if len(msg) >= MSG_HDR:
            if msg[0] != CLIENT_HELLO:
                raise ValueError("handshake type %d" % msg[0])
            total = MSG_HDR + int.from_bytes(msg[1:4], "big")
            if len(msg) >= total:
                return off


def capture_message(wire):
    """capture_message - the handshake message in wire's records"""
    end = capture_extent(wire)
    if end is None:
        raise ValueError("incomplete hello")
    off = 0
    msg = b""
    while off < end:
        rlen = wire[off + 3] << 8 | wire[off + 4]
        msg += wire[off + RECORD_HDR:off + RECORD_HDR + rlen]
        off += RECORD_HDR + rlen
    total = MSG_HDR + int.from_bytes(msg[1:4], "big")
    return msg[:total]


def capture_listen(portfile, out, timeout, name):
    """capture_listen - the first complete ClientHello into out

    Clients may open more than one connection (Chromium preconnects a
    socket it may never use), so every accepted connection is read and
    the first whole hello on any of them (carrying name, unless None)
    wins."""
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(8)
    lsock.setblocking(False)
    with open(portfile + ".tmp", "w") as f:
        f.write("%d\n" % lsock.getsockname()[1])
    # rename: the driver never reads a half-written port
    os.rename(portfile + ".tmp", portfile)
    sel = selectors.DefaultSelector()
    sel.register(lsock, selectors.EVENT_READ)
    wires = {}
    hello = None
    deadline = time.monotonic() + timeout
    while hello is None:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        for key, _ in sel.select(left):
            if key.fileobj is lsock:
                conn, _ = lsock.accept()
                conn.setblocking(False)
                sel.register(conn, selectors.EVENT_READ)
                wires[conn] = b""
                continue
            conn = key.fileobj
            try:
                chunk = conn.recv(65536)
            except OSError:
                chunk = b""
            wires[conn] += chunk
            try:
                end = capture_extent(wires[conn]) if chunk else None
            except ValueError as e:
                print("capture.py: %s after %d bytes" % (e, len(wires[conn])),
                      file=sys.stderr)
                end = None
                chunk = b""
            if end is not None:
                if name is None or name in wires[conn][:end]:
                    hello = wires[conn][:end]
                    break
                chunk = b""
            if not chunk:
                sel.unregister(conn)
                conn.close()
                del wires[conn]
    for conn in wires:
        try:
            conn.setblocking(True)
            conn.sendall(ALERT_HANDSHAKE_FAILURE)
            conn.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        conn.close()
    lsock.close()
    if hello is None:
        print("capture.py: no complete ClientHello within %gs" % timeout,
              file=sys.stderr)
        return 1
    with open(out, "wb") as f:
        f.write(hello)
    print("capture.py: %s: %d bytes" % (out, len(hello)))
    return 0


def capture_reframe(src, out, sizes):
    """capture_reframe - src's hello cut into records of the given sizes"""
    with open(src, "rb") as f:
        msg = capture_message(f.read())
    wire = b""
    off = 0
    i = 0
    while off < len(msg):
        size = sizes[min(i, len(sizes) - 1)]
        if size == 0 or size > len(msg) - off:
            size = len(msg) - off
        wire += bytes([CT_HANDSHAKE, 3, 1, size >> 8, size & 0xff])
        wire += msg[off:off + size]
        off += size
        i += 1
    with open(out, "wb") as f:
        f.write(wire)
    print("capture.py: %s: %d bytes in %d records" % (out, len(wire), i))
    return 0


def capture_sslv2(out):
    """capture_sslv2 - an SSL 2.0 compatible CLIENT-HELLO offering TLS 1.0"""
    ciphers = bytes.fromhex("000039 000038 000035 000016 000013 00000a"
                            " 0000ff".replace(" ", ""))
    challenge = bytes(range(0xa0, 0xb0))
    body = bytes([1, 3, 1]) + len(ciphers).to_bytes(2, "big") + \
        (0).to_bytes(2, "big") + len(challenge).to_bytes(2, "big") + \
        ciphers + challenge
    wire = bytes([0x80 | len(body) >> 8, len(body) & 0xff]) + body
    with open(out, "wb") as f:
        f.write(wire)
    print("capture.py: %s: %d bytes" % (out, len(wire)))
    return 0


def capture_main(argv):
    """capture_main - dispatch the subcommand"""
    if len(argv) >= 4 and argv[1] == "listen":
        timeout = float(argv[4]) if len(argv) > 4 else 30.0
        name = argv[5].encode() if len(argv) > 5 else None
        return capture_listen(argv[2], argv[3], timeout, name)
    if len(argv) >= 5 and argv[1] == "reframe":
        return capture_reframe(argv[2], argv[3], [int(s) for s in argv[4:]])
    if len(argv) == 3 and argv[1] == "sslv2":
        return capture_sslv2(argv[2])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(capture_main(sys.argv))
