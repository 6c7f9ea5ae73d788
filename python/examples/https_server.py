#!/usr/bin/python3
"""https_server.py - an HTTPS backend behind SNItch, on the snitch module.

    https_server.py -s SOCKET -n NAME -c CERT -k KEY [-m MODE] [-u USER]
                    [-r] [--asyncio]

Receives the clients SNItch hands off on SOCKET, runs the TLS handshake
on each (Python's ssl, from the first byte of the ClientHello) and
answers one HTTP/1.1 request with what it knows, one key=value a line:

    backend=NAME            -n
    server_name=NAME        from the handoff, - when none
    client=ADDR:PORT        from the handoff
    peer=ADDR:PORT          getpeername() on the received socket
    local=ADDR:PORT         from the handoff
    alpn=P1,P2              the client's ALPN offer, - when none
    ech=0|1
    unique_id=HEX           a load balancer's connection id, - when none

--asyncio serves with snitch.start_server, otherwise with
snitch.HandoffServer and socketserver.ThreadingMixIn.  -r takes SOCKET
over from a running instance; SIGTERM or SIGINT drains (no new handoff,
every one already sent served) and exits, logging "stopped".  Runs as
any user that may create SOCKET; needs no privilege.  Every line it logs
is one write to stderr.
"""

import argparse
import asyncio
import os
import signal
import socketserver
import ssl
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))
import snitch  # noqa: E402

IO_TIMEOUT = 10         # seconds per read and write, per client
REQUEST_MAX = 8192      # request line and headers


def log(name, text):
    """log - one line "https_server NAME: TEXT" on stderr"""
    os.write(2, ("https_server %s: %s\n" % (name, text)).encode())


def addr(a):
    """addr - "192.0.2.1:443" or "[2001:db8::1]:443" """
    return ("[%s]:%d" if ":" in a[0] else "%s:%d") % (a[0], a[1])


def body(name, handoff, peer):
    """body - the answer for one client, bytes"""
    # the ALPN names are the client's bytes: only printable ones shown
    alpn = ",".join(p.decode("ascii", "replace") for p in handoff.alpn
                    if p.isascii() and p.decode().isprintable()
                    and b"," not in p)
    unique = handoff.tlv(snitch.TLV_UNIQUE_ID)
    return ("backend=%s\nserver_name=%s\nclient=%s\npeer=%s\nlocal=%s\n"
            "alpn=%s\nech=%d\nunique_id=%s\n" % (
                name, handoff.server_name or "-", addr(handoff.client),
                addr(peer), addr(handoff.local), alpn or "-",
                handoff.ech, unique.hex() if unique else "-")).encode()


def response(text):
    """response - an HTTP/1.1 200 response carrying text"""
    return (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
            b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(text)
            + text)


def make_handler(name, context):
    """make_handler - the socketserver handler class for NAME"""

    class Handler(socketserver.BaseRequestHandler):
        """Handler - TLS, one request, one answer"""

        def handle(self):
            handoff = self.client_address
            self.request.settimeout(IO_TIMEOUT)
            peer = self.request.getpeername()
            try:
                with context.wrap_socket(self.request,
                                         server_side=True) as tls:
                    head = b""
                    while b"\r\n\r\n" not in head and \
                            len(head) < REQUEST_MAX:
                        chunk = tls.recv(REQUEST_MAX)
                        if not chunk:
                            return
                        head += chunk
                    tls.sendall(response(body(name, handoff, peer)))
            except (OSError, ssl.SSLError) as e:
                log(name, "client %s: %s" % (addr(peer), e))

    return Handler


class ThreadingHandoffServer(socketserver.ThreadingMixIn,
                             snitch.HandoffServer):
    """ThreadingHandoffServer - a thread per client; server_close waits
    for them"""


def serve_sync(args, context):
    """serve_sync - socketserver until drained; exit status"""
    server = ThreadingHandoffServer(args.socket,
                                    make_handler(args.name, context),
                                    mode=args.mode, uid=args.uid,
                                    replace=args.replace)

    def on_signal(signo, frame):
        log(args.name, "stopping: draining the channels")
        server.drain()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    log(args.name, "listening on %s" % args.socket)
    server.serve_forever()
    server.server_close()
    return 0


async def serve_async(args, context):
    """serve_async - asyncio until drained; exit status"""

    async def client(reader, writer, handoff):
        peer = writer.get_extra_info("peername")
        try:
            await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"),
                                   IO_TIMEOUT)
            writer.write(response(body(args.name, handoff, peer)))
            await asyncio.wait_for(writer.drain(), IO_TIMEOUT)
        except (OSError, asyncio.TimeoutError,
                asyncio.IncompleteReadError,
                asyncio.LimitOverrunError) as e:
            log(args.name, "client %s: %r" % (addr(peer), e))
        finally:
            writer.close()

    server = await snitch.start_server(client, args.socket, ssl=context,
                                       mode=args.mode, uid=args.uid,
                                       replace=args.replace,
                                       ssl_handshake_timeout=IO_TIMEOUT)
    loop = asyncio.get_running_loop()

    def on_signal():
        log(args.name, "stopping: draining the channels")
        server.drain()

    loop.add_signal_handler(signal.SIGTERM, on_signal)
    loop.add_signal_handler(signal.SIGINT, on_signal)
    log(args.name, "listening on %s (asyncio)" % args.socket)
    await server.serve_forever()
    server.close()
    # the clients' tasks, so that no answer is cut off at exit
    pending = [t for t in asyncio.all_tasks()
               if t is not asyncio.current_task()]
    await asyncio.wait(pending, timeout=2 * IO_TIMEOUT) if pending else None
    return 0


def main():
    """main - parse the arguments, serve, exit"""
    p = argparse.ArgumentParser(description="an HTTPS backend behind SNItch")
    p.add_argument("-s", "--socket", required=True)
    p.add_argument("-n", "--name", required=True)
    p.add_argument("-c", "--cert", required=True)
    p.add_argument("-k", "--key", required=True)
    p.add_argument("-m", "--mode", type=lambda m: int(m, 8), default=0)
    p.add_argument("-u", "--user", help="keep only channels from USER")
    p.add_argument("-r", "--replace", action="store_true")
    p.add_argument("--asyncio", action="store_true")
    args = p.parse_args()
    try:
        args.uid = snitch.peer_uid(args.user) if args.user else None
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.cert, args.key)
        context.set_alpn_protocols(["http/1.1"])
        if args.asyncio:
            status = asyncio.run(serve_async(args, context))
        else:
            status = serve_sync(args, context)
    except (OSError, ValueError) as e:
        log(args.name, str(e))
        return 1
    log(args.name, "stopped")
    return status


if __name__ == "__main__":
    sys.exit(main())
