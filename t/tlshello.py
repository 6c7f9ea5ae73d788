"""tlshello.py - the real TLS client that the test clients share.

Imported by t/tls.py, t/hostile.py and t/faults_clients.py (they run as
`python3 t/x.py`, so t/ is on sys.path), whatever user runs the bats
tests; needs only the Python 3 standard library.

A client here is an ssl.SSLObject over two memory BIOs, not an
SSLSocket: the script owns the TCP socket, so it can take the first
flight (the ClientHello) as bytes, re-frame it, write it the way its test
wants, classify the server's first bytes itself, and only then hand them
to the handshake.  A run goes:

    client, flight = first_flight(make_context(alpn), name)
    ... write flight (or a re-framed copy) to sock, read the answer ...
    complete_handshake(client, sock, first)
    response = http_get(client, sock, host)

Reading the socket ends a run with an Outcome: "closed", "reset" or
"timeout", with the exit codes tls.py and hostile.py document (their
headers list them; the bats files assert them).  faults_clients.py uses
only the line.  Change an outcome here and all three scripts change.
"""

import collections
import socket
import ssl

CT_ALERT = 21
CT_HANDSHAKE = 22
RECORD_HDR = 5

EXIT_OK, EXIT_ERROR, EXIT_STATUS = 0, 1, 2
EXIT_ALERT, EXIT_CLOSED, EXIT_RESET, EXIT_TIMEOUT = 3, 4, 5, 6


class Outcome(Exception):
    """end a client run: its line (lines joined by newlines), its exit code
    (None where a script reports lines only)"""

    def __init__(self, line, code=None):
        super().__init__(line)
        self.line = line
        self.code = code


# tls: the ssl.SSLObject; tls_in: the BIO it reads the server's bytes
# from; tls_out: the BIO it writes its own bytes to, for the socket
Client = collections.namedtuple("Client", "tls tls_in tls_out")


def make_context(alpn=None):
    """make_context - a client context that verifies nothing; alpn is a
    comma separated protocol list (as on the command lines) or None

    The test certificate is self-signed, and what is tested is where the
    hello goes, not who answers it.
    """
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if alpn:
        ctx.set_alpn_protocols(alpn.split(","))
    return ctx


def first_flight(ctx, name):
    """first_flight - a client for name (None: no SNI) and its first flight,
    the ClientHello as the TLS records OpenSSL framed it"""
    tls_in, tls_out = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(tls_in, tls_out, server_side=False,
                       server_hostname=name)
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass    # the hello is written; the server's answer is awaited
    return Client(tls, tls_in, tls_out), tls_out.read()


def records_split(flight):
    """records_split - split wire bytes into (type, version, body) tuples"""
    out = []
    off = 0
    while off < len(flight):
        if len(flight) - off < RECORD_HDR:
            raise ValueError("truncated record header in own flight")
        ctype = flight[off]
        version = flight[off + 1:off + 3]
        length = int.from_bytes(flight[off + 3:off + 5], "big")
        body = flight[off + RECORD_HDR:off + RECORD_HDR + length]
        if len(body) != length:
            raise ValueError("truncated record in own flight")
        out.append((ctype, version, body))
        off += RECORD_HDR + length
    return out


def handshake_bytes(flight):
    """handshake_bytes - the bodies of flight's handshake records, joined:
    the handshake message(s), whichever records they were cut into"""
    return b"".join(body for ctype, _, body in records_split(flight)
                    if ctype == CT_HANDSHAKE)


def record(ctype, version, body):
    """record - one TLS record: type, version (2 bytes, taken as given, so
    a test can write a wrong one), length, body (RFC 8446 5.1)"""
    return ctype.to_bytes(1, "big") + version + \
        len(body).to_bytes(2, "big") + body


def split_even(data, k):
    """split_even - data cut into k pieces in order, their sizes differing
    by one at most (some empty when k > len(data))"""
    return [data[len(data) * i // k:len(data) * (i + 1) // k]
            for i in range(k)]


def recv(sock):
    """recv - one recv(); a RST and a timeout become outcomes

    A RST that answers data sent after the peer's FIN reads as EPIPE.
    """
    try:
        return sock.recv(65536)
    except socket.timeout:
        raise Outcome("timeout", EXIT_TIMEOUT)
    except (ConnectionResetError, BrokenPipeError):
        raise Outcome("reset", EXIT_RESET)


def pump_out(client, sock):
    """pump_out - send whatever the TLS object wrote"""
    data = client.tls_out.read()
    if data:
        sock.sendall(data)


def complete_handshake(client, sock, first):
    """complete_handshake - finish client's handshake over sock, first
    being the bytes the server sent first

    Raises the Outcome "closed" when the server ends the connection before
    the handshake is done.  An ssl.SSLError goes to the caller as it is:
    whether to send the client's alert (pump_out) is the caller's choice.
    """
    client.tls_in.write(first)
    while True:
        try:
            client.tls.do_handshake()
            break
        except ssl.SSLWantReadError:
            pump_out(client, sock)
            data = recv(sock)
            if not data:
                raise Outcome("closed", EXIT_CLOSED)
            client.tls_in.write(data)
    pump_out(client, sock)


def http_get(client, sock, host):
    """http_get - GET / for host over client's finished handshake; the
    response as it came, read until the server ends the connection
    (Connection: close, so the end of the response is the end of input)"""
    client.tls.write(("GET / HTTP/1.1\r\nHost: %s\r\nConnection: close"
                      "\r\n\r\n" % host).encode("ascii"))
    pump_out(client, sock)
    response = b""
    while True:
        try:
            chunk = client.tls.read(65536)
            if not chunk:
                break
            response += chunk
            continue
        except ssl.SSLWantReadError:
            pass
        except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
            break
        # a post-handshake message (a KeyUpdate) may want an answer
        pump_out(client, sock)
        data = recv(sock)
        if not data:
            break
        client.tls_in.write(data)
    return response
