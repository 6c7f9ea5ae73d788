#!/usr/bin/python3
"""snitch_test.py - the snitch Python module's unit tests, printing TAP.

Run by t/run as build/t/python_snitch_test (a Makefile rule writes that
wrapper), as whatever user runs the tests; a few rows need root (a
channel from another uid) and are skipped otherwise.  Every message
check is a row of a table, fed through a real socketpair as a worker
would send it; each refusal must close every descriptor it carried,
counted in /proc/self/fd.  Loopback TCP and a temporary directory only.
"""

import array
import asyncio
import errno
import os
import resource
import socket
import socketserver
import stat
import struct
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))
import snitch  # noqa: E402

RESULTS = []


def ok(cond, label):
    """ok - one TAP result, printed at the end with the plan"""
    RESULTS.append((bool(cond), label))


def nfds():
    """nfds - how many descriptors this process holds"""
    return len(os.listdir("/proc/self/fd"))


def header(src=("127.0.0.1", 40000), dst=("127.0.0.1", 443), name=None,
           alpn=None, ech=None, extra=b"", fam=None, cmd=0x21):
    """header - a PROXY v2 header as a worker sends it"""
    v6 = ":" in src[0]
    af = socket.AF_INET6 if v6 else socket.AF_INET
    body = socket.inet_pton(af, src[0]) + socket.inet_pton(af, dst[0]) + \
        struct.pack(">HH", src[1], dst[1])
    for t, v in ((0x02, name), (0xE0, alpn), (0xE1, ech)):
        if v is not None:
            body += bytes([t]) + struct.pack(">H", len(v)) + v
    body += extra
    if fam is None:
        fam = 0x21 if v6 else 0x11
    return snitch.PROXY_SIG + bytes([cmd, fam]) + \
        struct.pack(">H", len(body)) + body


def tlv(t, v):
    """tlv - one TLV in wire form"""
    return bytes([t]) + struct.pack(">H", len(v)) + v


def tcp_pair():
    """tcp_pair - (client, accepted) over loopback"""
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    c = socket.create_connection(ls.getsockname())
    a, _ = ls.accept()
    ls.close()
    return c, a


def send(worker, payload, fds=(), cmsgs=1):
    """send - one message: payload, fds split over cmsgs SCM_RIGHTS"""
    anc = []
    if cmsgs == 1:
        anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))]
    elif cmsgs > 1:
        for fd in fds:
            anc.append((socket.SOL_SOCKET, socket.SCM_RIGHTS,
                        array.array("i", [fd])))
    worker.sendmsg([payload], anc)


def acks(worker):
    """acks - the counts of the ACKs waiting on the worker's side"""
    got = []
    while True:
        try:
            m = worker.recv(64, socket.MSG_DONTWAIT)
        except BlockingIOError:
            return got
        if m == snitch.hello_message():
            got.append("hello")
        elif len(m) != 8 or m[:4] != b"SNCH" or m[4] != 2 or m[5] != 2:
            got.append("bad")
        else:
            got.append(int.from_bytes(m[6:], "big") or 65536)


def test_decode():
    """test_decode - the payload checks, from a table"""
    good = [
        ("IPv4, no TLV", header(), {"server_name": None, "alpn": []}),
        ("IPv6 addresses as getpeername gives them",
         header(("::1", 5), ("::1", 443)),
         {"client": ("::1", 5, 0, 0), "local": ("::1", 443, 0, 0)}),
        ("name lowercased, one trailing dot dropped",
         header(name=b"Alpha.Localhost."), {"server_name": "alpha.localhost"}),
        ("ALPN list", header(alpn=b"\x02h2\x08http/1.1"),
         {"alpn": [b"h2", b"http/1.1"]}),
        ("ECH 1", header(ech=b"\x01"), {"ech": True}),
        ("ECH 0", header(ech=b"\x00"), {"ech": False}),
        ("unknown TLV skipped", header(extra=tlv(0x99, b"x")), {}),
    ]
    for label, payload, want in good:
        try:
            h = snitch.decode(payload)
            ok(all(getattr(h, k) == v for k, v in want.items()),
               "decode %s" % label)
        except snitch.BadMessage as e:
            ok(False, "decode %s: %s" % (label, e))
    bad = [
        ("not a PROXY header", b"GET / HTTP/1.0\r\n\r\n"),
        ("LOCAL command", header(cmd=0x20)),
        ("UDP", header(fam=0x12)),
        ("truncated", header()[:-1]),
        ("a byte after", header() + b"\0"),
        ("shorter than 16", snitch.PROXY_SIG),
        ("over PROXY_MAX", header(extra=tlv(0x99, b"x" * snitch.PROXY_MAX))),
        ("IPv4 family, IPv6 length", header(fam=0x11)[:14] +
         header(("::1", 1), ("::1", 2))[14:]),
        ("authority twice", header(name=b"a.localhost",
                                   extra=tlv(2, b"b.localhost"))),
        ("empty authority", header(name=b"")),
        ("authority with NUL", header(name=b"a\0.localhost")),
        ("authority of 254 bytes", header(name=b"a." * 126 + b"ab")),
        ("authority not a host name", header(name=b"bad name!")),
        ("an IPv4 literal as name", header(name=b"192.0.2.1")),
        ("a label starting with -", header(name=b"-a.localhost")),
        ("empty ALPN", header(alpn=b"")),
        ("ALPN name overruns", header(alpn=b"\x05h2")),
        ("ALPN empty name", header(alpn=b"\x02h2\x00")),
        ("ALPN twice", header(alpn=b"\x02h2", extra=tlv(0xE0, b"\x02h2"))),
        ("ECH of two bytes", header(ech=b"\x01\x01")),
        ("ECH 2", header(ech=b"\x02")),
        ("a cut TLV", header(extra=b"\x99\x00")),
        ("a TLV past the end", header(extra=b"\x99\x00\x05ab")),
    ]
    for label, payload in bad:
        try:
            snitch.decode(payload)
            ok(False, "decode refuses %s" % label)
        except snitch.BadMessage as e:
            ok(e.errno == errno.EBADMSG, "decode refuses %s" % label)


def test_upstream_tlvs():
    """test_upstream_tlvs - a balancer's TLVs kept as libsnitch keeps
    them: SNItch's own left out, each that fits whole in 1024 bytes"""
    extra = tlv(0x05, b"id-1") + tlv(0xEA, b"\x01vpce") + \
        tlv(0x30, b"x" * 1100) + tlv(0x05, b"id-2")
    h = snitch.decode(header(name=b"a.localhost", extra=extra))
    ok(h.tlv(snitch.TLV_UNIQUE_ID) == b"id-1", "tlv: the first unique id")
    ok(h.tlvs == {0x05: b"id-1", 0xEA: b"\x01vpce"},
       "tlvs by type; one over 1024 bytes left out, the next kept")
    ok(h.tlvs_wire == tlv(0x05, b"id-1") + tlv(0xEA, b"\x01vpce") +
       tlv(0x05, b"id-2"), "tlvs_wire: in order, own types left out")
    ok(h.tlv(0x30) is None, "tlv of a type absent: None")


def test_bad_messages():
    """test_bad_messages - libsnitch's bad_rows through a channel: each
    refused, acknowledged, and every descriptor it carried closed"""
    worker, chan_sock = socket.socketpair(socket.AF_UNIX,
                                          socket.SOCK_SEQPACKET)
    channel = snitch.Channel(chan_sock, v2=True)
    c1, a1 = tcp_pair()
    c2, a2 = tcp_pair()
    r, w = os.pipe()
    good = header(c1.getsockname(), c1.getpeername(), name=b"a.localhost")
    rows = [
        ("two fds in one message", good, [a1.fileno(), a2.fileno()], 1),
        ("two SCM_RIGHTS cmsgs", good, [a1.fileno(), a2.fileno()], 2),
        ("ten fds (more than the control buffer)", good,
         [a1.fileno()] * 10, 1),
        ("zero fds", good, [], 1),
        ("no control data", good, [], 0),
        ("a pipe, not a socket", good, [r], 1),
        ("payload not a PROXY header", b"GET / HTTP/1.0\r\n\r\n",
         [a1.fileno()], 1),
        ("truncated header", good[:-1], [a1.fileno()], 1),
        ("a byte after the header", good + b"\0", [a1.fileno()], 1),
        ("payload over PROXY_MAX", good + b"\0" * (snitch.PROXY_MAX + 64),
         [a1.fileno()], 1),
        ("zero-length payload with an fd", b"", [a1.fileno()], 1),
        ("authority not a host name",
         header(name=b"bad name!"), [a1.fileno()], 1),
        ("malformed ALPN list", header(alpn=b"\x05h2"), [a1.fileno()], 1),
    ]
    for label, payload, fds, cmsgs in rows:
        before = nfds()
        send(worker, payload, fds, cmsgs)
        try:
            channel.recv()
            ok(False, "%s: refused" % label)
        except snitch.BadMessage:
            ok(nfds() == before, "%s: refused, no fd leaked (%d before, "
               "%d after)" % (label, before, nfds()))
        ok(acks(worker) == [1], "%s: acknowledged all the same" % label)
    before = nfds()
    send(worker, good, [a1.fileno()])
    sock, h = channel.recv()
    ok(nfds() == before + 1 and sock.getpeername() == c1.getsockname() ==
       h.client and h.server_name == "a.localhost",
       "a handoff after refusals: the client's socket, its address")
    ok(sock.getblocking() and not sock.get_inheritable() and
       sock.type == socket.SOCK_STREAM, "the socket: blocking, close on exec")
    sock.close()
    chan_sock.setblocking(False)
    try:
        channel.recv()
        ok(False, "an empty non-blocking channel: BlockingIOError")
    except BlockingIOError:
        ok(True, "an empty non-blocking channel: BlockingIOError")
    chan_sock.setblocking(True)
    worker.close()
    ok(channel.recv() is None, "a closed channel: None (EOF)")
    ok(channel.recv() is None, "a closed channel: None again")
    channel.close()
    for s in (c1, a1, c2, a2):
        s.close()
    os.close(r)
    os.close(w)


def test_acks():
    """test_acks - HELLO, ACK at once, ACKs in batches, and version 1"""
    c, a = tcp_pair()
    msg = header(c.getsockname(), c.getpeername())
    worker, chan_sock = socket.socketpair(socket.AF_UNIX,
                                          socket.SOCK_SEQPACKET)
    channel = snitch.Channel(chan_sock, v2=True)
    channel.hello()
    hello = worker.recv(64, socket.MSG_DONTWAIT)
    ok(hello == b"SNCH\x01\x02\x00\x00", "HELLO: %s" % hello.hex())
    for _ in range(3):
        send(worker, msg, [a.fileno()])
    got = [channel.recv(batch=True) for _ in range(2)]
    ok(acks(worker) == [], "batch: no ACK while more is queued")
    got.append(channel.recv(batch=True))
    ok(acks(worker) == [3], "batch: the read that empties the queue "
       "acknowledges the lot in one ACK")
    for _ in range(40):
        send(worker, msg, [a.fileno()])
    for _ in range(40):
        channel.recv(batch=True)[0].close()
    ok(acks(worker) == [32, 8], "batch: at most 32 in one ACK")
    send(worker, msg, [a.fileno()])
    channel.recv(batch=True)[0].close()
    channel.quiesce()
    ok(acks(worker) == [1], "quiesce: acknowledges first")
    ok(channel.recv() is None, "quiesced: EOF once what was sent is read")
    for s, _ in got:
        s.close()
    channel.close()
    worker.close()
    ok(snitch.ack_message(65536)[6:] == b"\0\0", "ACK of 65536 is count 0")

    worker, chan_sock = socket.socketpair(socket.AF_UNIX,
                                          socket.SOCK_SEQPACKET)
    channel = snitch.Channel(chan_sock, v2=False)
    channel.hello()
    send(worker, msg, [a.fileno()])
    channel.recv()[0].close()
    ok(acks(worker) == [], "version 1: neither HELLO nor ACK")
    channel.close()
    worker.close()
    c.close()
    a.close()


def test_names_and_users():
    """test_names_and_users - host names and SNITCH_PEER_UID's users"""
    rows = [(b"a.localhost", "a.localhost"), (b"A-1.Example.ORG.", "a-1.example.org"),
            (b"a..b", None), (b"a.", "a"), (b".", None), (b"", None),
            (b"*.a.b", None), (b"::1", None), (b"a.b-", None),
            (b"x" * 64 + b".b", None), (b"1.2.3.4", None), (b"1.2.3.b", "1.2.3.b"),
            ((b"a" * 63 + b".") * 3 + b"a" * 61, ("a" * 63 + ".") * 3 + "a" * 61),
            ((b"a" * 63 + b".") * 3 + b"a" * 62, None)]
    for raw, want in rows:
        ok(snitch.normalize_hostname(raw) == want,
           "host name %r: %r" % (raw[:20], want))
    ok(snitch.peer_uid("root") == 0, "peer_uid root: 0")
    ok(snitch.peer_uid("4242") == 4242, "peer_uid of a number: that uid")
    for bad in ("", "no-such-user-snitch", "4294967295", "-1", "12a"):
        try:
            snitch.peer_uid(bad)
            ok(False, "peer_uid %r: ValueError" % bad)
        except ValueError:
            ok(True, "peer_uid %r: ValueError" % bad)


def test_listen(tmp):
    """test_listen - the socket file: temporary name renamed over path,
    mode at birth, a live listener or a non-socket never replaced"""
    path = os.path.join(tmp, "a.sock")
    old = os.umask(0o022)
    s, bound = snitch.listen(path, 0o660)
    os.umask(old)
    st = os.lstat(path)
    ok(stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o660,
       "listen: a socket of mode 0660 (%o)" % stat.S_IMODE(st.st_mode))
    ok(os.umask(old) == old, "listen: the umask restored")
    ok(os.listdir(tmp) == ["a.sock"], "listen: no temporary name left")
    try:
        snitch.listen(path)
        ok(False, "a live listener: EADDRINUSE")
    except OSError as e:
        ok(e.errno == errno.EADDRINUSE, "a live listener: EADDRINUSE")
    s2, bound2 = snitch.listen(path, replace=True)
    ok(os.lstat(path).st_ino == bound2.ino, "replace: the path is the new one")
    ok(snitch.unlink(path, bound) is False and os.path.exists(path),
       "unlink of the old: the new instance's file left")
    s.close()
    s2.close()
    s3, bound3 = snitch.listen(path)
    ok(os.lstat(path).st_ino == bound3.ino, "a dead listener's file replaced")
    ok(snitch.unlink(path, bound3) is True and not os.path.exists(path),
       "unlink of our own: removed")
    s3.close()
    for kind in ("file", "symlink"):
        if kind == "file":
            open(path, "w").close()
        else:
            os.symlink(os.path.join(tmp, "elsewhere"), path)
        try:
            snitch.listen(path, replace=True)
            ok(False, "a %s at path: EADDRINUSE" % kind)
        except OSError as e:
            ok(e.errno == errno.EADDRINUSE and
               sorted(os.listdir(tmp)) == ["a.sock"],
               "a %s at path: EADDRINUSE, never replaced" % kind)
        os.unlink(path)
    for label, p, code in (("empty path", "", errno.EINVAL),
                           ("path too long", os.path.join(tmp, "x" * 100),
                            errno.ENAMETOOLONG),
                           ("temporary name too long",
                            os.path.join(tmp, "x" * (100 - len(tmp))),
                            errno.ENAMETOOLONG)):
        try:
            snitch.listen(p)
            ok(False, "%s: errno %d" % (label, code))
        except OSError as e:
            ok(e.errno == code, "%s: %s" % (label, e.strerror))
    os.environ[snitch.PEER_ENV] = "no-such-user-snitch"
    try:
        snitch.listen(path)
        ok(False, "SNITCH_PEER_UID naming no user: refused at listen")
    except ValueError:
        ok(not os.path.exists(path),
           "SNITCH_PEER_UID naming no user: refused at listen")
    del os.environ[snitch.PEER_ENV]


def connect_as(path, uid):
    """connect_as - a child process of uid connects to path and reports
    whether its channel was closed unread ("closed") or said HELLO"""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            os.setgid(uid)
            os.setuid(uid)
            s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            s.connect(path)
            s.settimeout(5)
            try:
                got = s.recv(64)
                out = b"closed" if got == b"" else b"hello"
            except (ConnectionResetError, socket.timeout):
                out = b"closed"
            os.write(w, out)
        finally:
            os._exit(0)
    os.close(w)
    return r, pid


def test_listener(tmp):
    """test_listener - Listener: peer uid, refused messages skipped and
    counted, drain losing nothing"""
    path = os.path.join(tmp, "l.sock")
    c, a = tcp_pair()
    msg = header(c.getsockname(), c.getpeername(), name=b"a.localhost")
    if os.getuid() == 0:
        lst = snitch.Listener(path, mode=0o666, uid=0)
        os.chmod(tmp, 0o755)
        r, pid = connect_as(path, 65534)
        try:
            lst.accept(timeout=1)
        except TimeoutError:
            pass
        got = os.read(r, 16)
        os.waitpid(pid, 0)
        os.close(r)
        ok(got == b"closed" and lst.refused_channels == 1 and
           lst.channels == 0, "another uid's channel closed unread (%s)" %
           got.decode())
        worker = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        worker.connect(path)
        send(worker, msg, [a.fileno()])
        sock, h = lst.accept(timeout=5)
        ok(h.server_name == "a.localhost" and lst.channels == 1,
           "root's channel kept, its handoff received")
        ok(worker.recv(64) == snitch.hello_message(), "its HELLO said")
        sock.close()
        worker.close()
        lst.close()
        os.unlink(path)
    else:
        for _ in range(3):
            ok(True, "# skip needs root: a channel from another uid")

    lst = snitch.Listener(path)
    worker = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    worker.connect(path)
    before = nfds()
    send(worker, b"junk", [a.fileno()])
    send(worker, msg, [a.fileno()])
    sock, h = lst.accept(timeout=5)
    ok(lst.refused_messages == 1 and h.server_name == "a.localhost",
       "a refused message skipped and counted, the next one given")
    sock.close()
    ok(nfds() == before + lst.channels,
       "no fd leaked by the Listener (its one channel aside)")
    try:
        lst.accept_nowait()
        ok(False, "nothing ready: BlockingIOError")
    except BlockingIOError:
        ok(True, "nothing ready: BlockingIOError")
    acked = acks(worker)
    ok(acked[0] == "hello" and sum(acked[1:]) == 2,
       "HELLO, then both acknowledged before waiting: %s" % acked)
    # queued before the drain, and one more worker still in the backlog
    send(worker, msg, [a.fileno()])
    late = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    late.connect(path)
    send(late, msg, [a.fileno()])
    lst.drain()
    ok(not os.path.exists(path), "drain: the path removed")
    got = []
    try:
        while True:
            s, _ = lst.accept(timeout=5)
            got.append(s)
            s.close()
    except snitch.Drained:
        pass
    ok(len(got) == 2, "drain: both handoffs sent before it received (%d), "
       "then Drained" % len(got))
    try:
        send(worker, msg, [a.fileno()])
        ok(False, "drained: the worker's next send fails")
    except OSError as e:
        ok(e.errno == errno.EPIPE, "drained: the worker's next send: EPIPE")
    lst.close()
    worker.close()
    late.close()
    c.close()
    a.close()


def test_emfile(tmp):
    """test_emfile - accept failing for want of fds rests the listener
    (no spin at 100% CPU, sniproxy issue #89), then takes it back"""
    path = os.path.join(tmp, "m.sock")
    c, a = tcp_pair()
    msg = header(c.getsockname(), c.getpeername())
    lst = snitch.Listener(path)
    worker = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    worker.connect(path)
    send(worker, msg, [a.fileno()])
    limits = resource.getrlimit(resource.RLIMIT_NOFILE)
    fds = sorted(int(f) for f in os.listdir("/proc/self/fd"))
    resource.setrlimit(resource.RLIMIT_NOFILE, (fds[-1] + 1, limits[1]))
    filler = []
    try:
        while True:                 # every lower number taken too
            filler.append(os.dup(0))
    except OSError:
        pass
    cpu = time.process_time()
    try:
        lst.accept(timeout=0.5)
        ok(False, "EMFILE: no handoff while no fd is left")
    except TimeoutError:
        used = time.process_time() - cpu
        ok(used < 0.1, "EMFILE: a rest, not a spin (%.3f s of CPU in "
           "0.5 s)" % used)
    finally:
        for fd in filler:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, limits)
    sock, _ = lst.accept(timeout=2)
    ok(sock.getpeername() == c.getsockname(),
       "EMFILE over: the channel accepted, its handoff received")
    sock.close()
    lst.close()
    worker.close()
    c.close()
    a.close()


def test_asyncio(tmp):
    """test_asyncio - start_server: the callback gets streams on the
    client's socket and the handoff; drain ends serve_forever; close
    gives back every descriptor"""
    path = os.path.join(tmp, "as.sock")
    c, a = tcp_pair()
    c.settimeout(5)
    msg = header(c.getsockname(), c.getpeername(), name=b"a.localhost")
    before = nfds()

    async def client(reader, writer, handoff):
        writer.write(b"%s %s\n" % (handoff.server_name.encode(),
                                    str(writer.get_extra_info("peername")[1])
                                    .encode()))
        await writer.drain()
        writer.close()

    async def run():
        server = await snitch.start_server(client, path)
        worker = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        worker.connect(path)
        send(worker, msg, [a.fileno()])
        got = await asyncio.get_running_loop().run_in_executor(
            None, c.recv, 64)
        server.drain()
        await asyncio.wait_for(server.serve_forever(), 5)
        server.close()
        await server.wait_closed()
        worker.close()
        return got

    got = asyncio.run(run())
    ok(got == b"a.localhost %d\n" % c.getsockname()[1],
       "asyncio: the callback's answer on the client's socket: %r" % got)
    ok(nfds() == before and not os.path.exists(path),
       "asyncio: drained and closed, every descriptor given back")
    c.close()
    a.close()


def test_fork(tmp):
    """test_fork - a forked child's close says nothing on the channels
    (the parent acknowledges; twice would be more than was sent) and
    leaves the parent's channel working; HandoffServer with ForkingMixIn
    serves from a child that holds no channel"""
    path = os.path.join(tmp, "f.sock")
    c, a = tcp_pair()
    msg = header(c.getsockname(), c.getpeername())

    class Handler(socketserver.BaseRequestHandler):
        def handle(self):
            held = 0
            for fd, ino in self.server.channel_inos.items():
                try:
                    held += os.fstat(fd).st_ino == ino
                except OSError:
                    pass
            self.request.sendall(b"held=%d\n" % held)

    class Forking(socketserver.ForkingMixIn, snitch.HandoffServer):
        pass

    server = Forking(path, Handler)
    worker = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    worker.connect(path)
    try:
        server.listener.accept(timeout=0.2)
    except TimeoutError:
        pass
    server.channel_inos = {
        fd: os.fstat(fd).st_ino for fd in
        list(server.listener._channels) + [server.listener._listen.fileno()]}
    acks(worker)
    send(worker, msg, [a.fileno()])
    server.handle_request()
    c.settimeout(5)
    got = c.recv(64)
    server.collect_children(blocking=True)
    ok(got == b"held=0\n", "ForkingMixIn: the child holds neither the "
       "listener nor a channel (%r)" % got)
    ok(acks(worker) == [1], "only the parent acknowledged")
    send(worker, msg, [a.fileno()])
    sock, _ = server.listener.accept(timeout=5)
    ok(sock.getpeername() == c.getsockname(),
       "the parent's channel still works after the child's close")
    sock.close()
    server.server_close()
    worker.close()
    c.close()
    a.close()


def main():
    """main - every test, then the plan and the results"""
    os.environ.pop(snitch.PEER_ENV, None)
    os.environ.pop("SNITCH_HANDOFF_VERSION", None)
    with tempfile.TemporaryDirectory(prefix="snitch-py.") as tmp:
        test_decode()
        test_upstream_tlvs()
        test_bad_messages()
        test_acks()
        test_names_and_users()
        test_listen(tmp)
        test_listener(tmp)
        test_emfile(tmp)
        test_asyncio(tmp)
        test_fork(tmp)
    print("1..%d" % len(RESULTS))
    for i, (good, label) in enumerate(RESULTS, 1):
        if label.startswith("# skip"):
            print("ok %d %s" % (i, label))
        else:
            print("%s %d - %s" % ("ok" if good else "not ok", i, label))
    return 0 if all(g for g, _ in RESULTS) else 1


if __name__ == "__main__":
    sys.exit(main())
