#!/usr/bin/env python3
"""nontls.py - a plain TCP client for t/nontls.bats and t/ssh.bats.

Connects to 127.0.0.1:PORT (or --host), from --source ADDR if given
(any 127.0.0.0/8 address on Linux's loopback: another client address
for SNItch and its backends), then does its steps in order:

  --send TEXT     write TEXT (\\r, \\n, \\t, \\\\ and \\xHH escapes)
  --expect TEXT   read until what came so far holds TEXT (escapes too)
  --shut          shut down writing (a FIN), keep reading
  --close         close now, without waiting for the server (end=closed)

and at the end, unless it closed, reads until the server closes.  It prints "from=IP:PORT"
(its own address, to find its line in snitch's log), then every byte
that came, line by line, with \\r and bytes outside printable ASCII
escaped (\\r, \\xHH), then how the connection ended:

  end=fin         the server closed (EOF)
  end=reset       ECONNRESET
  end=timeout     nothing for --timeout seconds (default 10)
  end=closed      --close

Exit status 0, or 6 when an --expect was not met (then end=... says
why), 1 for bad arguments.  Standard library only; loopback only.
"""

import argparse
import socket
import sys


def unescape(text):
    """TEXT with its escapes as bytes."""
    out, i = bytearray(), 0
    while i < len(text):
        c = text[i]
        if c != "\\" or i + 1 == len(text):
            out += c.encode()
            i += 1
            continue
        n = text[i + 1]
        if n == "x":
            out.append(int(text[i + 2:i + 4], 16))
            i += 4
            continue
        out += {"r": b"\r", "n": b"\n", "t": b"\t", "\\": b"\\"}.get(
            n, ("\\" + n).encode())
        i += 2
    return bytes(out)


def shown(data):
    """data as printable lines: \\r and other bytes escaped."""
    out = []
    for b in data:
        if b == 10:
            out.append("\n")
        elif b == 13:
            out.append("\\r")
        elif b == 92:
            out.append("\\\\")
        elif 32 <= b < 127:
            out.append(chr(b))
        else:
            out.append("\\x%02x" % b)
    return "".join(out)


def read_more(sock):
    """One recv: the bytes, or an end word."""
    try:
        chunk = sock.recv(65536)
    except ConnectionResetError:
        return "reset"
    except socket.timeout:
        return "timeout"
    return chunk if chunk else "fin"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--source", help="local address to connect from")
    p.add_argument("--timeout", type=float, default=10.0)
    p.add_argument("--send", action="append", dest="steps",
                   type=lambda t: ("send", unescape(t)))
    p.add_argument("--expect", action="append", dest="steps",
                   type=lambda t: ("expect", unescape(t)))
    p.add_argument("--shut", action="append_const", dest="steps",
                   const=("shut", None))
    p.add_argument("--close", action="append_const", dest="steps",
                   const=("close", None))
    args = p.parse_args()

    source = (args.source, 0) if args.source else None
    sock = socket.create_connection((args.host, args.port),
                                    timeout=args.timeout,
                                    source_address=source)
    print("from=%s:%d" % sock.getsockname()[:2], flush=True)
    got, end, status = b"", None, 0
    for what, arg in args.steps or []:
        if what == "send":
            sock.sendall(arg)
        elif what == "shut":
            sock.shutdown(socket.SHUT_WR)
        elif what == "close":
            end = "closed"
            break
        else:
            while arg not in got:
                chunk = read_more(sock)
                if isinstance(chunk, str):
                    end, status = chunk, 6
                    break
                got += chunk
            if end is not None:
                break
    while end is None:
        chunk = read_more(sock)
        if isinstance(chunk, str):
            end = chunk
        else:
            got += chunk
    text = shown(got)
    if text:
        print(text if text.endswith("\n") else text + "\n", end="")
    print("end=" + end)
    sock.close()
    return status


if __name__ == "__main__":
    sys.exit(main())
