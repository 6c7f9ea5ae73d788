// channel.go - one worker's channel: who may open one (SO_PEERCRED),
// what the backend says on it (handoff protocol version 2: HELLO, then
// ACKs), and the checks on every message received (PROTOCOL, "Receiver
// checks"), the same as libsnitch/channel.c's.
//
// Anyone who can connect to the socket can send messages, so each is
// untrusted input.  Every descriptor that arrives with a message either
// reaches the caller inside a *Conn or is closed here, whatever else is
// wrong with the message: a backend that leaked one per bad message
// would run out of descriptors under a buggy sender.

package snitch

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"unsafe"
)

const (
	// recvFDs is room for more descriptors than a valid message
	// carries: a message with a few arrives whole and is refused for
	// what it is, all of them closed; with more, the kernel drops those
	// that do not fit and sets MSG_CTRUNC, refused too.
	recvFDs = 8
	// ackBatch bounds the handoffs one ACK covers, as libsnitch's.
	ackBatch = 32

	ackMsgLen    = 8
	ackTypeHello = 1
	ackTypeAck   = 2
	ackVersion   = 2
)

// ErrRefused is what a refused message's error wraps: the message broke
// a rule of PROTOCOL and every descriptor it carried was closed.
var ErrRefused = errors.New("snitch: handoff refused")

// ackMsg - a version-2 message of typ with count (common/ack.c):
// "SNCH", type, version 2, count big-endian (0 meaning 65536).
func ackMsg(typ byte, count uint32) []byte {
	return []byte{'S', 'N', 'C', 'H', typ, ackVersion,
		byte(count >> 8), byte(count)}
}

// handoffV2 - whether to speak version 2: yes, unless
// SNITCH_HANDOFF_VERSION=1 is in the environment (as libsnitch).
func handoffV2() bool {
	return os.Getenv("SNITCH_HANDOFF_VERSION") != "1"
}

// channel is one accepted channel and what it received unacknowledged.
type channel struct {
	conn *net.UnixConn
	raw  syscall.RawConn
	v2   bool

	mu      sync.Mutex // unacked, between the reader and Close/Drain
	unacked uint32
}

// newChannel - take c as a channel: check its peer (wantUID -1: anyone),
// then say HELLO; c is closed on refusal.
func newChannel(c *net.UnixConn, wantUID int64) (*channel, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		c.Close()
		return nil, err
	}
	ch := &channel{conn: c, raw: raw, v2: handoffV2()}
	if wantUID >= 0 {
		uid, err := ch.peerUID()
		if err != nil || int64(uid) != wantUID {
			c.Close()
			if err == nil {
				err = fmt.Errorf("%w: a channel from uid %d, not %d",
					syscall.EACCES, uid, wantUID)
			}
			return nil, err
		}
	}
	if ch.v2 {
		ch.say(ackMsg(ackTypeHello, 0))
	}
	return ch, nil
}

// peerUID - the uid of the channel's other end (SO_PEERCRED).
func (ch *channel) peerUID() (uint32, error) {
	var cred *syscall.Ucred
	var serr error
	err := ch.raw.Control(func(fd uintptr) {
		cred, serr = syscall.GetsockoptUcred(int(fd),
			syscall.SOL_SOCKET, syscall.SO_PEERCRED)
	})
	if err == nil {
		err = serr
	}
	if err != nil {
		return 0, err
	}
	return cred.Uid, nil
}

// say - send one version-2 message, never blocking: a worker of version
// 1 never reads them, and one whose channel is full of them will not
// miss one more.
func (ch *channel) say(msg []byte) {
	_ = ch.raw.Control(func(fd uintptr) {
		_, _ = syscall.SendmsgN(int(fd), msg, nil, nil,
			syscall.MSG_DONTWAIT|syscall.MSG_NOSIGNAL)
	})
}

// ack - acknowledge in one ACK what was received and not acknowledged.
func (ch *channel) ack() {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	ch.ackLocked()
}

// ackLocked - ack, ch.mu held.
func (ch *channel) ackLocked() {
	if ch.unacked > 0 && ch.v2 {
		ch.say(ackMsg(ackTypeAck, ch.unacked))
	}
	ch.unacked = 0
}

// queued - whether another message waits on the channel (FIONREAD).
func (ch *channel) queued() bool {
	n := 0
	var serr syscall.Errno
	_ = ch.raw.Control(func(fd uintptr) {
		_, _, serr = syscall.Syscall(syscall.SYS_IOCTL, fd,
			syscall.TIOCINQ, uintptr(unsafe.Pointer(&n)))
	})
	return serr == 0 && n > 0
}

// quiesce - say "no more": acknowledge what was received, then shut the
// channel for reading.  What the worker sent before is still received,
// then EOF; its next send fails (EPIPE) and it connects to the socket
// path again, to a new instance if one has taken it over.
func (ch *channel) quiesce() {
	ch.ack()
	_ = ch.conn.CloseRead()
}

// close - acknowledge what was received, then close the channel.
func (ch *channel) close() {
	ch.ack()
	ch.conn.Close()
}

// recv - receive one handed-off connection: the conn; io.EOF when the
// worker closed the channel (or, after quiesce, sent all it had); an
// error wrapping ErrRefused for a refused message (the channel stays
// usable); any other error is the channel's failure.  batch lets the ACK
// wait while more is queued, for at most ackBatch messages.
//
// One message: the PROXY v2 header as payload, exactly one SCM_RIGHTS
// control message carrying exactly one descriptor, a TCP socket.  The
// control checks are nginx's ngx_read_channel's: level, type, length,
// and MSG_CTRUNC, which means the kernel dropped descriptors.
func (ch *channel) recv(batch bool) (*Conn, error) {
	payload := make([]byte, proxyMax+1)
	oob := make([]byte, syscall.CmsgSpace(recvFDs*4))
	// The net package asks for MSG_CMSG_CLOEXEC on Linux.
	n, oobn, flags, _, err := ch.conn.ReadMsgUnix(payload, oob)
	fds, ncmsg, odd := controlFDs(oob[:oobn])
	if err != nil {
		// A zero-length record is EOF to the net package: without
		// descriptors or flags it is the worker closing the channel
		// (no worker sends an empty message); with them, a message,
		// refused below.
		if errors.Is(err, io.EOF) && ncmsg == 0 && oobn == 0 &&
			flags&(syscall.MSG_TRUNC|syscall.MSG_CTRUNC) == 0 {
			ch.ack()
			return nil, io.EOF
		}
		// A worker that closed with our ACKs unread resets the
		// channel: gone all the same.
		if errors.Is(err, syscall.ECONNRESET) {
			closeFDs(fds)
			return nil, io.EOF
		}
		if !errors.Is(err, io.EOF) {
			closeFDs(fds)
			return nil, err
		}
	}

	// Received: acknowledged, good or bad, so that the worker's count
	// of what it sent stays in step; a bad one's descriptor is closed
	// below, and the worker lets go of its copy.
	ch.mu.Lock()
	ch.unacked++
	if !batch || ch.unacked >= ackBatch || !ch.queued() {
		ch.ackLocked()
	}
	ch.mu.Unlock()

	refuse := func(why string) (*Conn, error) {
		closeFDs(fds)
		return nil, fmt.Errorf("%w: %s", ErrRefused, why)
	}
	if flags&(syscall.MSG_TRUNC|syscall.MSG_CTRUNC) != 0 || n > proxyMax {
		return refuse("truncated")
	}
	if odd || ncmsg != 1 || len(fds) != 1 {
		return refuse(fmt.Sprintf("%d control messages, %d descriptors",
			ncmsg, len(fds)))
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(fds[0], &st); err != nil ||
		st.Mode&syscall.S_IFMT != syscall.S_IFSOCK {
		return refuse("the descriptor is not a socket")
	}
	h, err := decodeHandoff(payload[:n])
	if err != nil {
		return refuse(err.Error())
	}
	return tcpConn(fds[0], h)
}

// tcpConn - the client's socket fd as a *Conn; fd is closed in any case
// (net.FileConn works on a duplicate).
func tcpConn(fd int, h *Handoff) (*Conn, error) {
	f := os.NewFile(uintptr(fd), "snitch-client")
	c, err := net.FileConn(f)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRefused, err)
	}
	tc, ok := c.(*net.TCPConn)
	if !ok {
		// A socket, but not TCP: libsnitch checks S_ISSOCK only;
		// a net.Conn of another kind is no use to a TLS server.
		c.Close()
		return nil, fmt.Errorf("%w: not a TCP socket", ErrRefused)
	}
	return &Conn{TCPConn: tc, handoff: h}, nil
}

// controlFDs - every descriptor in the control messages of oob, how many
// control messages there were, and whether one was not SCM_RIGHTS or
// not of a length that is a whole number of descriptors.  The walk is
// by hand, not syscall.ParseSocketControlMessage, which stops at the
// first odd header and would leave the descriptors after it open.
func controlFDs(oob []byte) (fds []int, ncmsg int, odd bool) {
	hdrLen := syscall.CmsgLen(0)
	for off := 0; off+syscall.SizeofCmsghdr <= len(oob); {
		h := (*syscall.Cmsghdr)(unsafe.Pointer(&oob[off]))
		ncmsg++
		clen := int(h.Len)
		if clen < hdrLen || h.Level != syscall.SOL_SOCKET ||
			h.Type != syscall.SCM_RIGHTS {
			odd = true
			if clen < hdrLen {
				break
			}
		} else {
			data := oob[off+hdrLen:]
			nin := (clen - hdrLen) / 4
			if nin > len(data)/4 {
				nin = len(data) / 4
			}
			if clen != syscall.CmsgLen(nin*4) {
				odd = true
			}
			for i := 0; i < nin && len(fds) < recvFDs; i++ {
				fds = append(fds, int(*(*int32)(unsafe.Pointer(&data[4*i]))))
			}
		}
		off += syscall.CmsgSpace(clen - hdrLen)
	}
	return fds, ncmsg, odd
}

// closeFDs - close every descriptor of a refused message.
func closeFDs(fds []int) {
	for _, fd := range fds {
		syscall.Close(fd)
	}
}
