#!/usr/bin/env python3
"""httpclient.py - an HTTP/1.x client that sends its request as told:
whole, or cut into segments, with a PROXY v1 header first, or as a TLS
ClientHello.

    httpclient.py --port P [--segment N] [--gap S] [--proxy SRC:PORT]
        [--hello NAME] [--timeout S] [REQUEST]

REQUEST is the request's bytes, with Python's escapes (\\r\\n); each of
its segments of --segment bytes (default: all at once) is sent on its
own, --gap seconds apart, with TCP_NODELAY.  Then it reads all the
server sends until it ends the connection, and prints it, then one line:
end=fin|reset|timeout.
"""
import argparse
import socket
import sys
import time

from proxyin import hello  # a ClientHello's bytes, from Python's ssl


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--segment", type=int, default=0)
    ap.add_argument("--gap", type=float, default=0.0)
    ap.add_argument("--proxy")
    ap.add_argument("--hello")
    ap.add_argument("--timeout", type=float, default=5.0)
    ap.add_argument("request", nargs="?", default="")
    a = ap.parse_args()
    data = a.request.encode("latin-1").decode("unicode_escape").encode(
        "latin-1")
    if a.hello is not None:
        data = hello(a.hello)
    if a.proxy is not None:
        src, sport = a.proxy.rsplit(":", 1)
        data = ("PROXY TCP4 %s 127.0.0.1 %s %d\r\n" % (
            src, sport, a.port)).encode() + data
    s = socket.create_connection(("127.0.0.1", a.port), timeout=a.timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    step = a.segment if a.segment > 0 else max(len(data), 1)
    for i in range(0, len(data), step):
        s.sendall(data[i:i + step])
        if a.gap > 0 and i + step < len(data):
            time.sleep(a.gap)
    got, end = b"", "fin"
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
    except ConnectionResetError:
        end = "reset"
    except socket.timeout:
        end = "timeout"
    if a.hello is not None:
        sys.stdout.write(got.hex(" ") + "\n")
    else:
        sys.stdout.write(got.decode("latin-1").replace("\r\n", "\n"))
        if got and not got.endswith(b"\n"):
            sys.stdout.write("\n")
    print("end=" + end)


if __name__ == "__main__":
    main()
