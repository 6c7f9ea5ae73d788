"""snitch - receive client connections handed off by SNItch, in Python.

The receiving side of SNItch's handoff protocol (PROTOCOL in the source,
snitch-handoff(7)), message for message as libsnitch (libsnitch(3)) does
it, with the Python 3 standard library only.  A backend listens on an
AF_UNIX SOCK_SEQPACKET socket; each SNItch worker connects one channel
to it and sends one message per client: a PROXY v2 header as payload and
the client's TCP socket as the only SCM_RIGHTS descriptor.  The socket
is in blocking mode and nothing has been read from it: the backend runs
the TLS handshake from the first byte of the ClientHello.

Three ways to use it:
  - Listener(path).accept() in a loop: blocks, gives (sock, handoff);
  - HandoffServer, a socketserver.BaseServer (with ThreadingMixIn etc.);
  - start_server(cb, path, ssl=ctx) for asyncio, or Listener.accept_async.
The fd-level pieces (listen, accept_channel, Channel.recv) are there for
a daemon with its own event loop.

Runs inside other people's backends with whatever privilege they have:
no global state, no output, no exit, no signal disposition touched.  A
received descriptor either reaches the caller as a socket.socket or is
closed here, whatever else is wrong with the message: a backend that
leaked one per bad message would run out of descriptors under a buggy
sender.  Messages are checked as untrusted input even from SNItch's uid.
"""

import array
import asyncio
import errno
import fcntl
import ipaddress
import os
import pwd
import select
import socket
import socketserver
import stat
import struct
import termios
import time
from dataclasses import dataclass, field

__all__ = [
    "BadMessage", "Drained", "Handoff", "Bound", "Channel", "Listener",
    "HandoffServer", "SnitchServer", "start_server", "listen", "unlink",
    "accept_channel", "peer_uid", "decode", "normalize_hostname",
    "hello_message", "ack_message", "PEER_ENV", "NAME_MAX", "ALPN_MAX",
    "TLVS_MAX", "PROXY_MAX", "TLV_ALPN", "TLV_UNIQUE_ID", "TLV_NETNS",
    "TLV_AWS", "TLV_AZURE",
]

NAME_MAX = 253          # RFC 1035 2.3.4, without the root dot
LABEL_MAX = 63
ALPN_MAX = 16384
TLVS_MAX = 1024         # upstream TLVs kept, in wire form (as libsnitch)
HELLO_MSG_MAX = 16384   # a ClientHello handshake message, at most
# the largest header a worker sends: IPv6, authority, ALPN, ECH
PROXY_MAX = 16 + 36 + 3 + NAME_MAX + 3 + HELLO_MSG_MAX + 3 + 1

PROXY_SIG = b"\r\n\r\n\0\r\nQUIT\n"
PROXY_HDR_LEN = 16
PROXY_VER_CMD = 0x21    # version 2 << 4 | PROXY (LOCAL is never sent)
PROXY_FAM_TCP4 = 0x11
PROXY_FAM_TCP6 = 0x21
TLV_AUTHORITY = 0x02
TLV_SNITCH_ALPN = 0xE0
TLV_SNITCH_ECH = 0xE1
# TLV types a load balancer's PROXY header may carry (Handoff.tlv)
TLV_ALPN = 0x01         # the protocol the balancer chose
TLV_UNIQUE_ID = 0x05    # the balancer's connection id
TLV_NETNS = 0x30        # the balancer's network namespace
TLV_AWS = 0xEA          # AWS VPC endpoint id, after subtype 0x01
TLV_AZURE = 0xEE        # Azure link id, after subtype 0x01

PEER_ENV = "SNITCH_PEER_UID"
VERSION_ENV = "SNITCH_HANDOFF_VERSION"

ACK_MAGIC = b"SNCH"
ACK_TYPE_HELLO = 1
ACK_TYPE_ACK = 2
ACK_VERSION = 2
ACK_BATCH = 32          # handoffs one ACK covers, at most

# Room for more fds than a valid message carries: a message with a few
# arrives whole and is refused for what it is, all of them closed.  With
# more, the kernel drops those that do not fit and sets MSG_CTRUNC.
RECV_FDS = 8
TMP_TRIES = 8           # temporary names tried by a listen
SUN_PATH_MAX = 108      # sizeof(sun_path) on Linux
ACCEPT_BURST = 64       # channels accepted per wakeup
ACCEPT_PAUSE = 0.1      # seconds of rest after EMFILE


class BadMessage(OSError):
    """BadMessage - a refused handoff (EBADMSG); its descriptors are
    closed and the channel stays usable"""

    def __init__(self, reason):
        super().__init__(errno.EBADMSG, "refused handoff: " + reason)
        self.reason = reason


class Drained(Exception):
    """Drained - Listener.drain was called and everything the workers
    had sent was received: nothing more will come (libsnitch's
    ESHUTDOWN)"""


def _oserror(code, what=None):
    """_oserror - an OSError of errno code"""
    return OSError(code, os.strerror(code) if what is None else
                   "%s: %s" % (what, os.strerror(code)))


# --- the wire format ------------------------------------------------------


def hello_message():
    """hello_message - HELLO, sent first on a channel (version 2)"""
    return ACK_MAGIC + bytes([ACK_TYPE_HELLO, ACK_VERSION, 0, 0])


def ack_message(count):
    """ack_message - an ACK of count (1..65536) handoffs; 65536 is 0"""
    return ACK_MAGIC + bytes([ACK_TYPE_ACK, ACK_VERSION]) + \
        (count & 0xffff).to_bytes(2, "big")


def normalize_hostname(raw):
    """normalize_hostname - raw (bytes) as SNItch's one definition of a
    host name (common/hostname.c): lowercased, one trailing dot dropped;
    None when it is not a host name.

    Labels are 1..63 letters, digits and hyphens, no hyphen at either
    end (RFC 1035 2.3.1, RFC 1123 2.1); an all-digit last label is
    refused, since that is what an IPv4 literal looks like, which RFC
    6066 forbids in SNI."""
    if raw.endswith(b"."):
        raw = raw[:-1]
    if not 0 < len(raw) <= NAME_MAX:
        return None
    labels = raw.split(b".")
    for label in labels:
        if not 0 < len(label) <= LABEL_MAX or label[:1] == b"-" or \
                label[-1:] == b"-":
            return None
        for c in label:
            if not (0x30 <= c <= 0x39 or 0x41 <= c <= 0x5a or
                    0x61 <= c <= 0x7a or c == 0x2d):
                return None
    if labels[-1].isdigit():
        return None
    return raw.decode("ascii").lower()


def alpn_protocols(body):
    """alpn_protocols - the ProtocolNames of an ALPN list body (RFC 7301
    3.1, without the outer length) as a list of bytes; None when it is
    empty, over ALPN_MAX, or not a sequence of (length 1..255, name)"""
    if not 0 < len(body) <= ALPN_MAX:
        return None
    protocols, off = [], 0
    while off < len(body):
        n = body[off]
        if n == 0 or len(body) - off - 1 < n:
            return None
        protocols.append(bytes(body[off + 1:off + 1 + n]))
        off += 1 + n
    return protocols


def _tlv_walk(tlvs):
    """_tlv_walk - (type, value) of each TLV in wire form; ValueError at
    a tail that is no whole TLV"""
    off = 0
    while off < len(tlvs):
        if len(tlvs) - off < 3:
            raise ValueError("a cut TLV")
        n = tlvs[off + 1] << 8 | tlvs[off + 2]
        if len(tlvs) - off - 3 < n:
            raise ValueError("a TLV overruns the header")
        yield tlvs[off], bytes(tlvs[off + 3:off + 3 + n])
        off += 3 + n


@dataclass
class Handoff:
    """Handoff - what the worker said about one client connection"""
    client: tuple               # the client's address, as getpeername gives
    local: tuple                # the address the client connected to
    server_name: str = None     # lowercase host name; None when none
    alpn: list = field(default_factory=list)    # offered protocols (bytes)
    alpn_wire: bytes = b""      # the ProtocolNameList body as sent
    ech: bool = False           # the hello carried encrypted_client_hello
    tlvs_wire: bytes = b""      # a load balancer's TLVs, kept as libsnitch

    def tlv(self, type_):
        """tlv - the value of the first upstream TLV of type_, or None"""
        for t, value in _tlv_walk(self.tlvs_wire):
            if t == type_:
                return value
        return None

    @property
    def tlvs(self):
        """tlvs - {type: value of its first TLV} of the upstream TLVs"""
        found = {}
        for t, value in _tlv_walk(self.tlvs_wire):
            found.setdefault(t, value)
        return found


def _address(family, addr, port):
    """_address - an address as socket.getpeername gives it"""
    if family == socket.AF_INET:
        return (str(ipaddress.IPv4Address(addr)), port)
    return (str(ipaddress.IPv6Address(addr)), port, 0, 0)


def decode(payload):
    """decode - the Handoff a payload describes, as proxy_decode and
    libsnitch check it; BadMessage otherwise.

    Layout (PROXY protocol spec 2.2; PROTOCOL):
        0   12  signature 0D 0A 0D 0A 00 0D 0A 51 55 49 54 0A
        12  1   0x21: version 2, PROXY
        13  1   0x11 TCP over IPv4 (12 address bytes) or 0x21 TCP over
                IPv6 (36): src addr, dst addr, src port, dst port
        14  2   length of the rest, big-endian: exactly the rest
        16  ..  addresses, then TLVs exactly filling the rest: 0x02
                authority 1..253 bytes without NUL, a host name; 0xE0
                ALPN, a well-formed non-empty list; 0xE1 ECH, one byte
                0 or 1; each at most once; other types kept, unread
    """
    if len(payload) > PROXY_MAX:
        raise BadMessage("payload over %d bytes" % PROXY_MAX)
    if len(payload) < PROXY_HDR_LEN or \
            payload[:12] != PROXY_SIG or payload[12] != PROXY_VER_CMD:
        raise BadMessage("not a PROXY v2 header")
    if payload[13] == PROXY_FAM_TCP4:
        family, alen = socket.AF_INET, 4
    elif payload[13] == PROXY_FAM_TCP6:
        family, alen = socket.AF_INET6, 16
    else:
        raise BadMessage("not TCP over IPv4 or IPv6")
    if int.from_bytes(payload[14:16], "big") != len(payload) - PROXY_HDR_LEN \
            or len(payload) - PROXY_HDR_LEN < 2 * alen + 4:
        raise BadMessage("the length is not the message's")
    off = PROXY_HDR_LEN
    src, dst = payload[off:off + alen], payload[off + alen:off + 2 * alen]
    off += 2 * alen
    sport = int.from_bytes(payload[off:off + 2], "big")
    dport = int.from_bytes(payload[off + 2:off + 4], "big")
    off += 4
    h = Handoff(client=_address(family, src, sport),
                local=_address(family, dst, dport))
    seen = set()
    kept = bytearray()
    try:
        for t, value in _tlv_walk(payload[off:]):
            if t in (TLV_AUTHORITY, TLV_SNITCH_ALPN, TLV_SNITCH_ECH):
                if t in seen:
                    raise BadMessage("TLV 0x%02x twice" % t)
                seen.add(t)
            if t == TLV_AUTHORITY:
                if not 0 < len(value) <= NAME_MAX or b"\0" in value:
                    raise BadMessage("a bad authority TLV")
                # The worker sends the name hostname_normalize made:
                # anything else did not come from a worker.
                h.server_name = normalize_hostname(value)
                if h.server_name is None:
                    raise BadMessage("the server name is not a host name")
            elif t == TLV_SNITCH_ALPN:
                h.alpn = alpn_protocols(value)
                if h.alpn is None:
                    raise BadMessage("a malformed ALPN list")
                h.alpn_wire = value
            elif t == TLV_SNITCH_ECH:
                if len(value) != 1 or value[0] > 1:
                    raise BadMessage("a bad ECH TLV")
                h.ech = value[0] == 1
            elif len(kept) + 3 + len(value) <= TLVS_MAX:
                # proxy_tlv_copy's rule: each that fits whole, in order
                kept += bytes([t]) + len(value).to_bytes(2, "big") + value
    except ValueError as e:
        raise BadMessage(str(e)) from None
    h.tlvs_wire = bytes(kept)
    return h


# --- who may open a channel -----------------------------------------------


def peer_uid(user):
    """peer_uid - the uid of user: a name in the user database, else an
    all-digits decimal number (chown(1)'s rule, as SNItch reads its
    configuration); ValueError when there is no such user"""
    if not user:
        raise ValueError("no user given")
    try:
        return pwd.getpwnam(user).pw_uid
    except KeyError:
        pass
    # (uid_t)-1 is never an id: the kernel reads it as "no change"
    if user.isascii() and user.isdigit() and int(user) < 0xffffffff:
        return int(user)
    raise ValueError("%s: no such user" % user)


def _peer_wanted(uid):
    """_peer_wanted - the uid channels must come from: uid, else
    SNITCH_PEER_UID's, else None (anyone); ValueError for a variable
    that names no user"""
    if uid is not None:
        return uid
    env = os.environ.get(PEER_ENV, "")
    return peer_uid(env) if env else None


def _speaks_v2():
    """_speaks_v2 - version 2, unless SNITCH_HANDOFF_VERSION=1"""
    return os.environ.get(VERSION_ENV) != "1"


def _peer_ok(sock, want):
    """_peer_ok - whether the channel's other end (SO_PEERCRED) is want"""
    creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                            struct.calcsize("iII"))
    return struct.unpack("iII", creds)[1] == want


class Channel:
    """Channel - one worker's channel: the HELLO and ACKs it says and
    the connections it receives.  Owns its socket."""

    def __init__(self, sock, v2=None):
        self.sock = sock
        self.unacked = 0        # received, not acknowledged yet
        self.v2 = _speaks_v2() if v2 is None else v2

    def fileno(self):
        """fileno - the channel's descriptor"""
        return self.sock.fileno()

    def _say(self, msg):
        """_say - one version-2 message, never blocking: a worker of
        version 1 never reads them, and one whose channel is full of
        them will not miss them"""
        try:
            self.sock.send(msg, socket.MSG_DONTWAIT | socket.MSG_NOSIGNAL)
        except OSError:
            pass

    def hello(self):
        """hello - say HELLO: the worker keeps each socket it sends
        until it is acknowledged"""
        if self.v2:
            self._say(hello_message())

    def ack(self):
        """ack - acknowledge what unacked counts, in one ACK"""
        if self.unacked > 0 and self.v2:
            self._say(ack_message(self.unacked))
        self.unacked = 0

    def _ack_later(self):
        """_ack_later - whether the ACK may wait for the next message:
        more is queued (the caller's next read is certain, and the read
        that empties the queue acknowledges the lot) and the batch is
        not full"""
        if self.unacked >= ACK_BATCH:
            return False
        queued = array.array("i", [0])
        try:
            fcntl.ioctl(self.sock.fileno(), termios.FIONREAD, queued)
        except OSError:
            return False
        return queued[0] > 0

    def quiesce(self):
        """quiesce - say "no more": acknowledge, then shut for reading.
        What the worker sent before is still received, then EOF; its
        next send fails (EPIPE) and it connects to the path again."""
        self.ack()
        self.sock.shutdown(socket.SHUT_RD)

    def close(self):
        """close - acknowledge what was received, close the channel"""
        self.ack()
        self.sock.close()

    def recv(self, batch=False):
        """recv - receive one connection: (sock, Handoff), the socket
        now the caller's (blocking, close on exec); None when the worker
        closed the channel; BadMessage for a refused message (its fds
        closed, the channel usable); BlockingIOError on an empty
        non-blocking channel; any other OSError is the channel's.

        Acknowledged at once, or with batch as libsnitch's
        snitch_recv_batch: later while more is queued, 32 at most.
        The control checks are nginx's ngx_read_channel's: level, type,
        length, and MSG_CTRUNC (the kernel dropped fds that did not
        fit)."""
        try:
            payload, ancdata, flags, _ = self.sock.recvmsg(
                PROXY_MAX + 1, socket.CMSG_SPACE(RECV_FDS * 4),
                socket.MSG_CMSG_CLOEXEC)
        except ConnectionResetError:
            # a worker that closed with our ACKs unread: gone all the same
            return None
        # Take every fd first: whatever is wrong below, all get closed.
        fds, odd = [], False
        for level, type_, data in ancdata:
            if level != socket.SOL_SOCKET or type_ != socket.SCM_RIGHTS:
                odd = True
                continue
            whole = len(data) - len(data) % 4
            if whole != len(data):
                odd = True
            fds.extend(array.array("i", data[:whole]))
        # A peer that closed reads as an empty message; so does an empty
        # one without fds, which no worker sends.
        if not payload and not ancdata and \
                not flags & (socket.MSG_TRUNC | socket.MSG_CTRUNC):
            self.ack()      # after our own SHUT_RD the worker listens
            return None
        # Received: acknowledged, good or bad, so that the worker's count
        # of what it sent stays in step.
        self.unacked += 1
        if not batch or not self._ack_later():
            self.ack()
        try:
            if flags & (socket.MSG_TRUNC | socket.MSG_CTRUNC):
                raise BadMessage("truncated")
            if odd or len(ancdata) != 1 or len(fds) != 1:
                raise BadMessage("not exactly one SCM_RIGHTS descriptor")
            if not stat.S_ISSOCK(os.fstat(fds[0]).st_mode):
                raise BadMessage("the descriptor is not a socket")
            handoff = decode(payload)
            # No fcntl: the worker accepts in blocking mode and peeks
            # with MSG_DONTWAIT, so the socket comes blocking.
            return socket.socket(fileno=fds[0]), handoff
        except BaseException:
            for fd in fds:
                os.close(fd)
            raise


def accept_channel(listener, uid=None):
    """accept_channel - accept one worker's channel (close on exec,
    blocking) as a Channel that said HELLO.  With uid, or SNITCH_PEER_UID
    in the environment, a channel from another uid is closed at once:
    PermissionError (accept the next one: the listener is fine)."""
    want = _peer_wanted(uid)
    sock, _ = listener.accept()
    sock.setblocking(True)
    try:
        if want is not None and not _peer_ok(sock, want):
            raise _oserror(errno.EACCES, "a channel not from uid %d" % want)
    except BaseException:
        sock.close()
        raise
    channel = Channel(sock)
    channel.hello()
    return channel


# --- the socket file ------------------------------------------------------


@dataclass(frozen=True)
class Bound:
    """Bound - the identity of the socket file listen made"""
    dev: int
    ino: int


def _live(path):
    """_live - whether a process listens at the socket path (a full
    backlog or a listener of another type is live too)"""
    probe = socket.socket(socket.AF_UNIX,
                          socket.SOCK_SEQPACKET | socket.SOCK_NONBLOCK)
    try:
        probe.connect(path)
        return True
    except (BlockingIOError, InterruptedError):
        return True
    except OSError as e:
        if e.errno == errno.EPROTOTYPE:
            return True
        if e.errno in (errno.ECONNREFUSED, errno.ENOENT):
            return False
        raise
    finally:
        probe.close()


def _path_free(path, replace):
    """_path_free - raise unless path may be taken: nothing there, a
    socket nobody listens on, or (replace) a live one.  A regular file
    or a symlink is never replaced (EADDRINUSE)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(st.st_mode):
        raise _oserror(errno.EADDRINUSE, path)
    # Without replace a second instance started by mistake is told so,
    # rather than taking the name from the first one.
    if not replace and _live(path):
        raise _oserror(errno.EADDRINUSE, path)


def _tmpname(path):
    """_tmpname - a temporary name beside path, ".NAME.PID.RANDOM": random
    so nobody can plant it first (bind fails on one planted anyway)"""
    head, base = os.path.split(path)
    name = os.path.join(head, ".%s.%d.%08x" % (
        base, os.getpid(), int.from_bytes(os.urandom(4), "big")))
    if len(os.fsencode(name)) >= SUN_PATH_MAX:
        raise _oserror(errno.ENAMETOOLONG, path)
    return name


def _bind_tmp(sock, path, mode):
    """_bind_tmp - bind sock at a fresh temporary name beside path, born
    with mode (0: as the umask gives); (name, Bound)"""
    for _ in range(TMP_TRIES):
        tmp = _tmpname(path)
        # bind creates the file as 0777 less the umask: with this umask
        # it is born with mode, and no path is ever chmod'ed by name (a
        # chmod could follow a symlink swapped in).  The umask is the
        # process's, changed for this one call.
        old = os.umask(~mode & 0o777) if mode else None
        try:
            sock.bind(tmp)
        except OSError as e:
            if e.errno != errno.EADDRINUSE:
                raise
            continue
        finally:
            if old is not None:
                os.umask(old)
        try:
            st = os.lstat(tmp)
        except BaseException:
            os.unlink(tmp)
            raise
        return tmp, Bound(st.st_dev, st.st_ino)
    raise _oserror(errno.EADDRINUSE, path)


def listen(path, mode=0, replace=False):
    """listen - listen on an AF_UNIX SOCK_SEQPACKET socket at path (close
    on exec), of mode (& 0o777; 0: as the umask gives); (socket, Bound).

    It binds a temporary name beside path, listens, then renames it over
    path: path is never missing, nor a socket not listening yet.  A
    socket file left by a dead backend is replaced; EADDRINUSE when a
    process still listens there (unless replace: a new instance taking
    over, the old one then drains) or path is not a socket;
    ENAMETOOLONG when path or the temporary name does not fit sun_path;
    ValueError when SNITCH_PEER_UID names no user (it would refuse every
    channel later).  The file is not removed on close."""
    if not path:
        # an empty name would autobind to an abstract address
        raise _oserror(errno.EINVAL, "no path")
    _peer_wanted(None)
    if len(os.fsencode(path)) >= SUN_PATH_MAX:
        raise _oserror(errno.ENAMETOOLONG, path)
    _path_free(path, replace)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    tmp = None
    try:
        tmp, bound = _bind_tmp(sock, path, mode & 0o777)
        sock.listen(socket.SOMAXCONN)
        # Checked again just before: what is in the way is still a
        # socket.  rename replaces a name, never follows it.
        _path_free(path, True)
        os.rename(tmp, path)
        return sock, bound
    except BaseException:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
        sock.close()
        raise


def unlink(path, bound):
    """unlink - remove path if it is still the socket file bound (a new
    instance may have renamed its own over it: that one is left); True
    when removed"""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return False
    if (st.st_dev, st.st_ino) != (bound.dev, bound.ino):
        return False
    try:
        os.unlink(path)
    except FileNotFoundError:
        return False
    return True


# --- one object: listener, channels, fairness, drain ----------------------


class Listener:
    """Listener - listen at path and keep every worker's channel; accept
    gives one connection at a time, acknowledged in batches (libsnitch's
    snitch_open, snitch_next, snitch_drain, snitch_close).

    fileno() is an epoll descriptor that is readable whenever accept_nowait
    has something to do: wait on it with select, selectors or asyncio.
    uid (or SNITCH_PEER_UID) keeps only channels from that uid; others
    are closed before anything is read and counted in refused_channels.
    Refused messages are skipped and counted in refused_messages.  Not
    shared between threads; drain may be called from a signal handler."""

    def __init__(self, path, mode=0, uid=None, replace=False):
        self.path = path
        self.peer = _peer_wanted(uid)
        self.refused_channels = 0
        self.refused_messages = 0
        self._pid = os.getpid()
        self._channels = {}         # fd -> Channel
        self._ready = []            # fds to serve this round
        self._paused_until = None
        self._draining = False
        self._drain_wanted = False
        self._busy = False
        self._ep = select.epoll()
        self._wake = None
        self._listen = None
        try:
            self._wake = os.eventfd(0, os.EFD_CLOEXEC | os.EFD_NONBLOCK)
            self._listen, self.bound = listen(path, mode, replace)
            # accept until EAGAIN: a channel may go between poll and accept
            self._listen.setblocking(False)
            self._ep.register(self._listen.fileno(), select.EPOLLIN)
            self._ep.register(self._wake, select.EPOLLIN)
        except BaseException:
            self._close_fds()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def fileno(self):
        """fileno - readable when accept_nowait has work"""
        return self._ep.fileno()

    @property
    def drained(self):
        """drained - drain was done and every channel has ended"""
        return self._draining and not self._channels

    @property
    def channels(self):
        """channels - how many workers' channels are open"""
        return len(self._channels)

    def _pause(self):
        """_pause - take the listener out of the poll set for a while:
        accept failing for want of fds leaves the channel in the backlog
        and the listener readable, so without a rest the loop would spin
        (sniproxy issue #89).  Channels still get served."""
        try:
            self._ep.unregister(self._listen.fileno())
        except OSError:
            pass                    # resting already
        self._paused_until = time.monotonic() + ACCEPT_PAUSE

    def _resume(self):
        """_resume - put the listener back once its rest is over; the
        seconds still to rest, or None"""
        if self._paused_until is None:
            return None
        left = self._paused_until - time.monotonic()
        if left > 0:
            return left
        self._paused_until = None
        if self._listen is not None:
            self._ep.register(self._listen.fileno(), select.EPOLLIN)
        return None

    def _accept_one(self):
        """_accept_one - accept one waiting channel: True, or False when
        none is left (or accepting must rest)"""
        try:
            sock, _ = self._listen.accept()
        except (BlockingIOError, InterruptedError, ConnectionAbortedError):
            return False
        except OSError as e:
            if e.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS,
                           errno.ENOMEM):
                self._pause()
                return False
            raise
        sock.setblocking(False)     # one channel must not hold the rest
        try:
            refused = self.peer is not None and not _peer_ok(sock, self.peer)
        except OSError:
            refused = True
        if refused:
            sock.close()
            self.refused_channels += 1
            return True
        channel = Channel(sock)
        self._channels[channel.fileno()] = channel
        self._ep.register(channel.fileno(), select.EPOLLIN)
        channel.hello()
        return True

    def _drop(self, fd):
        """_drop - forget a channel, acknowledging what it received"""
        channel = self._channels.pop(fd)
        self._ep.unregister(fd)
        channel.close()

    def _flush(self):
        """_flush - acknowledge everything received: about to wait"""
        for channel in self._channels.values():
            channel.ack()

    def accept_nowait(self):
        """accept_nowait - the next connection ready on any channel,
        accepting new channels and dropping closed ones meanwhile:
        (sock, Handoff); BlockingIOError when nothing is ready (what was
        received is then acknowledged); Drained once drained and empty.

        One poll serves every ready channel once, one message each,
        before the next poll: a busy worker cannot starve the others."""
        return self._guarded(self._next)

    def _guarded(self, work):
        """_guarded - work(), with a drain asked meanwhile (by a signal
        handler) done after it rather than in the middle of it"""
        if self._busy:
            raise RuntimeError("Listener used by two callers at once")
        self._busy = True
        try:
            return work()
        finally:
            self._busy = False
            if self._drain_wanted and not self._draining:
                self._drain_now()

    def _pause_left(self):
        """_pause_left - seconds the listener still rests, or None"""
        if self._paused_until is None:
            return None
        return max(0.0, self._paused_until - time.monotonic())

    def tick(self):
        """tick - take the listener back after a rest (accept_nowait
        does it too): for a caller that waits on fileno() itself, at
        least every 100 ms while it rests"""
        self._guarded(self._resume)

    def _next(self):
        """_next - accept_nowait's work"""
        polled = False
        while True:
            while self._ready:
                fd = self._ready.pop(0)
                if fd == self._wake:
                    try:
                        os.eventfd_read(self._wake)
                    except BlockingIOError:
                        pass
                    continue
                if self._listen is not None and \
                        fd == self._listen.fileno():
                    for _ in range(ACCEPT_BURST):
                        if not self._accept_one():
                            break
                    continue
                channel = self._channels.get(fd)
                if channel is None:
                    continue
                try:
                    got = channel.recv(batch=True)
                except BadMessage:
                    self.refused_messages += 1
                    continue
                except BlockingIOError:
                    continue
                except OSError:
                    got = None
                if got is None:
                    self._drop(fd)
                    continue
                return got
            if self.drained:
                raise Drained()
            if polled:
                self._flush()
                raise BlockingIOError(errno.EAGAIN, "no handoff ready")
            self._resume()
            self._ready = [fd for fd, _ in self._ep.poll(0)]
            polled = True

    def accept(self, timeout=None):
        """accept - block until a connection arrives: (sock, Handoff);
        TimeoutError after timeout seconds; Drained once drained and
        everything received"""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                return self.accept_nowait()
            except BlockingIOError:
                pass
            wait = self._pause_left()
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("no handoff within %s s" % timeout)
                wait = left if wait is None else min(wait, left)
            select.select([self], [], [], wait)

    async def accept_async(self):
        """accept_async - accept, for asyncio: waits on the running loop"""
        loop = asyncio.get_running_loop()
        while True:
            try:
                return self.accept_nowait()
            except BlockingIOError:
                pass
            ready = loop.create_future()
            fd = self.fileno()
            loop.add_reader(fd, ready.set_result, None)
            try:
                await asyncio.wait_for(ready, self._pause_left())
            except asyncio.TimeoutError:
                pass
            finally:
                loop.remove_reader(fd)

    def drain(self):
        """drain - stop taking handoffs, losing none: remove the socket
        file if it is still ours, accept the channels waiting in the
        backlog (closing the listener would close them with what a
        worker of version 1 queued in them already), close the
        listener, quiesce every channel.  accept then gives what the
        workers had sent, then raises Drained.  Safe in a signal handler:
        during an accept it is done when that accept returns."""
        if os.getpid() != self._pid:
            raise _oserror(errno.EINVAL, "drain in a forked child")
        self._drain_wanted = True
        if self._wake is not None:
            os.eventfd_write(self._wake, 1)
        if not self._busy and not self._draining:
            self._drain_now()

    def _drain_now(self):
        """_drain_now - drain's work, outside any accept"""
        self._draining = True
        unlink(self.path, self.bound)
        try:
            self._ep.unregister(self._listen.fileno())
        except OSError:
            pass                    # resting: not in the set
        self._paused_until = None
        while self._accept_one():
            pass
        self._listen.close()
        self._listen = None
        for channel in self._channels.values():
            try:
                channel.quiesce()
            except OSError:
                pass

    def _close_fds(self):
        """_close_fds - close the listener, the wakeup and the epoll"""
        if self._listen is not None:
            self._listen.close()
            self._listen = None
        if self._wake is not None:
            os.close(self._wake)
            self._wake = None
        self._ep.close()

    def close(self):
        """close - close the listener and every channel.  The socket
        file stays (a forked child may call this); in the process that
        opened it, what was received is acknowledged first (in a child
        the parent does it: twice would be more than was sent)."""
        mine = os.getpid() == self._pid
        for channel in self._channels.values():
            if mine:
                channel.ack()
            channel.sock.close()
        self._channels.clear()
        self._close_fds()


# --- socketserver ---------------------------------------------------------


class HandoffServer(socketserver.BaseServer):
    """HandoffServer - a socketserver server whose requests are handed
    off connections: a handler's self.request is the client's TCP socket
    and self.client_address the Handoff.  Mix in ThreadingMixIn or
    ForkingMixIn as with TCPServer.  serve_forever returns once drain()
    was called and everything sent was served."""

    def __init__(self, path, RequestHandlerClass, mode=0, uid=None,
                 replace=False):
        super().__init__(path, RequestHandlerClass)
        self.listener = Listener(path, mode=mode, uid=uid, replace=replace)

    def fileno(self):
        """fileno - the Listener's: readable when there is work"""
        return self.listener.fileno()

    def get_request(self):
        """get_request - (socket, Handoff); OSError when nothing is ready
        (socketserver then waits again)"""
        return self.listener.accept_nowait()

    def service_actions(self):
        """service_actions - end serve_forever once drained and empty,
        and take the listener back after a rest"""
        self.listener.tick()
        if self.listener.drained:
            raise Drained()

    def serve_forever(self, poll_interval=0.5):
        """serve_forever - until shutdown(), or drained and served"""
        try:
            super().serve_forever(poll_interval)
        except Drained:
            pass

    def drain(self):
        """drain - take no new handoff; serve those already sent"""
        self.listener.drain()

    def handle_request(self):
        """handle_request - one request, waiting at most self.timeout
        (BaseServer's asks self.socket, which this server has not)"""
        if not select.select([self], [], [], self.timeout)[0]:
            self.handle_timeout()
            return
        self._handle_request_noblock()

    def finish_request(self, request, client_address):
        """finish_request - handle one; a forked child (ForkingMixIn)
        first lets go of the listener and the channels: a child holding
        them keeps the socket answering, and the workers' channels open,
        after the parent is gone"""
        if os.getpid() != self.listener._pid:
            self.listener.close()
        super().finish_request(request, client_address)

    def shutdown_request(self, request):
        """shutdown_request - end the client's connection (as TCPServer)"""
        try:
            request.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        self.close_request(request)

    def close_request(self, request):
        """close_request - close the client's socket"""
        request.close()

    def server_close(self):
        """server_close - close the listener and the channels"""
        self.listener.close()


# --- asyncio --------------------------------------------------------------


class SnitchServer:
    """SnitchServer - what start_server returns: serves until closed, or
    drained and everything sent was handed to the callback"""

    def __init__(self, listener, client_connected_cb, ssl, limit,
                 ssl_handshake_timeout):
        self.listener = listener
        self._cb = client_connected_cb
        self._ssl = ssl
        self._limit = limit
        self._timeout = ssl_handshake_timeout
        self._conns = set()
        self._task = asyncio.get_running_loop().create_task(self._loop())

    async def _loop(self):
        """_loop - accept until drained, one task per connection (a slow
        TLS handshake must not hold the others)"""
        while True:
            try:
                sock, handoff = await self.listener.accept_async()
            except Drained:
                return
            task = asyncio.get_running_loop().create_task(
                self._connect(sock, handoff))
            self._conns.add(task)
            task.add_done_callback(self._conns.discard)

    async def _connect(self, sock, handoff):
        """_connect - streams on a received socket (TLS when ssl), then
        client_connected_cb(reader, writer, handoff)"""
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=self._limit, loop=loop)

        def connected(r, w):
            return self._cb(r, w, handoff)

        protocol = asyncio.StreamReaderProtocol(reader, connected, loop=loop)
        try:
            await loop.connect_accepted_socket(
                lambda: protocol, sock, ssl=self._ssl,
                ssl_handshake_timeout=self._timeout if self._ssl else None)
        except (OSError, asyncio.TimeoutError):
            sock.close()    # a failed handshake is that client's

    def drain(self):
        """drain - take no new handoff; serve those already sent"""
        self.listener.drain()

    async def serve_forever(self):
        """serve_forever - until drained and everything was received,
        then until the connections' handshakes are done"""
        await self._task
        if self._conns:
            await asyncio.gather(*self._conns, return_exceptions=True)

    def close(self):
        """close - stop accepting, then close the listener and channels
        (once the accept loop has let go of the Listener's descriptor)"""
        self._task.cancel()
        if self._task.done():
            self.listener.close()
        else:
            self._task.add_done_callback(lambda _: self.listener.close())

    async def wait_closed(self):
        """wait_closed - until the accept loop has ended"""
        try:
            await self._task
        except asyncio.CancelledError:
            pass

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        self.close()
        await self.wait_closed()


async def start_server(client_connected_cb, path, *, ssl=None, mode=0,
                       uid=None, replace=False, limit=2 ** 16,
                       ssl_handshake_timeout=None):
    """start_server - asyncio.start_server for handed off connections:
    listen at path and call client_connected_cb(reader, writer, handoff)
    (a coroutine is scheduled as a task) for each, over TLS when ssl is
    an SSLContext; the SnitchServer, already serving"""
    listener = Listener(path, mode=mode, uid=uid, replace=replace)
    return SnitchServer(listener, client_connected_cb, ssl, limit,
                        ssl_handshake_timeout)
