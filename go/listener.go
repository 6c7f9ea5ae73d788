// listener.go - a net.Listener over an SNItch handoff socket: it
// listens (listen.go), keeps every worker's channel (channel.go), one
// goroutine each, and gives Accept one client connection at a time,
// with what the worker said about it (Handoff).
//
// A library in someone else's server: it prints nothing, never exits,
// touches no signal.  A refused message or a refused channel is skipped
// (Options.Refused hears of it); what fails is returned.

package snitch

import (
	"errors"
	"net"
	"os"
	"os/user"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// acceptPause is the rest after accept fails for want of descriptors or
// memory: the channel stays in the backlog and the listener readable,
// and without a rest the loop would spin (sniproxy issue #89).
const acceptPause = 100 * time.Millisecond

// PeerEnv names the environment variable that, set to a user (a name or
// a number), makes a Listener refuse every channel not from that uid.
const PeerEnv = "SNITCH_PEER_UID"

// ErrDrained is what Accept returns once Drain was called and every
// connection the workers had sent was accepted.
var ErrDrained = errors.New("snitch: drained")

// Options are a Listener's settings; the zero value is libsnitch's
// snitch_open(path, 0).
type Options struct {
	// Mode is the socket file's mode (& 0777); 0: as the umask gives.
	Mode os.FileMode
	// Replace takes the path over from a live listener: a new instance
	// taking over from the old one, which then calls Drain.  Without
	// it, a live listener or a file that is not a socket at the path
	// is EADDRINUSE.
	Replace bool
	// PeerUser keeps only channels from this user (SNItch's user), a
	// name in the user database or else a decimal uid; "" means the
	// PeerEnv variable's, or anyone when it is unset.
	PeerUser string
	// Refused, unless nil, is told of each message or channel refused
	// (the Listener carries on).  It runs on a channel's goroutine, or
	// the accepting one: it must not call Close, which waits for them.
	Refused func(error)
}

// Conn is one client's TCP connection, handed off by SNItch: nothing has
// been read from it, the first byte is the first of its ClientHello.
type Conn struct {
	*net.TCPConn
	handoff *Handoff
}

// Handoff - what the worker said about c.
func (c *Conn) Handoff() *Handoff { return c.handoff }

// HandoffOf - the Handoff of a connection a Listener accepted, through
// any wrapper that gives its inner connection with NetConn (*tls.Conn
// does); nil when c did not come from a Listener.
func HandoffOf(c net.Conn) *Handoff {
	for c != nil {
		switch v := c.(type) {
		case *Conn:
			return v.handoff
		case interface{ NetConn() net.Conn }:
			c = v.NetConn()
		default:
			return nil
		}
	}
	return nil
}

// Listener receives client connections from SNItch's workers.
type Listener struct {
	path    string
	bound   bound
	ln      *net.UnixListener
	peer    int64 // -1: anyone
	refused func(error)

	conns   chan *Conn    // a channel's goroutine hands one to Accept
	closed  chan struct{} // Close was called
	drained chan struct{} // drain done: nothing more will come

	mu       sync.Mutex
	channels map[*channel]struct{}
	draining bool
	isClosed bool
	readers  sync.WaitGroup // the accept loop and channel goroutines
}

// PeerUID - the uid of user: a name in the user database, else a
// decimal number (the rule of SNItch's configuration and libsnitch).
func PeerUID(name string) (uint32, error) {
	if name == "" {
		return 0, syscall.EINVAL
	}
	if u, err := user.Lookup(name); err == nil {
		if id, err := strconv.ParseUint(u.Uid, 10, 32); err == nil {
			return uint32(id), nil
		}
	}
	for _, c := range name {
		if c < '0' || c > '9' {
			return 0, syscall.EINVAL
		}
	}
	// (uid_t)-1 is never an id: the kernel reads it as "no change".
	id, err := strconv.ParseUint(name, 10, 32)
	if err != nil || id == 0xffffffff {
		return 0, syscall.EINVAL
	}
	return uint32(id), nil
}

// peerWanted - the uid channels must come from, or -1 for anyone.
func peerWanted(name string) (int64, error) {
	if name == "" {
		name = os.Getenv(PeerEnv)
	}
	if name == "" {
		return -1, nil
	}
	uid, err := PeerUID(name)
	if err != nil {
		return -1, err
	}
	return int64(uid), nil
}

// Listen - listen at path (an AF_UNIX SOCK_SEQPACKET socket, the
// backend's socket in snitch.ini) and keep the channels of the workers
// that connect.  The file is bound at a temporary name beside path and
// renamed over it.  opts may be nil.
func Listen(path string, opts *Options) (*Listener, error) {
	if opts == nil {
		opts = &Options{}
	}
	// A bad user would refuse every channel later: say so now.
	peer, err := peerWanted(opts.PeerUser)
	if err != nil {
		return nil, &net.OpError{Op: "listen", Net: "unixpacket",
			Addr: &net.UnixAddr{Name: path, Net: "unixpacket"},
			Err:  os.NewSyscallError("peer uid", syscall.EINVAL)}
	}
	fd, b, err := listenPath(path, opts.Mode, opts.Replace)
	if err != nil {
		return nil, &net.OpError{Op: "listen", Net: "unixpacket",
			Addr: &net.UnixAddr{Name: path, Net: "unixpacket"},
			Err:  os.NewSyscallError("listen", err)}
	}
	f := os.NewFile(uintptr(fd), path)
	fl, err := net.FileListener(f)
	f.Close()
	if err != nil {
		unlinkIfOurs(path, b)
		return nil, err
	}
	l := &Listener{
		path:     path,
		bound:    b,
		ln:       fl.(*net.UnixListener),
		peer:     peer,
		refused:  opts.Refused,
		conns:    make(chan *Conn),
		closed:   make(chan struct{}),
		drained:  make(chan struct{}),
		channels: make(map[*channel]struct{}),
	}
	l.readers.Add(1)
	go l.acceptLoop()
	return l, nil
}

// report - tell Options.Refused of err.
func (l *Listener) report(err error) {
	if l.refused != nil {
		l.refused(err)
	}
}

// acceptLoop - accept the workers' channels until the listener closes.
func (l *Listener) acceptLoop() {
	defer l.readers.Done()
	for {
		c, err := l.ln.AcceptUnix()
		if err == nil {
			l.addChannel(c)
			continue
		}
		if errors.Is(err, net.ErrClosed) {
			return
		}
		var errno syscall.Errno
		if errors.As(err, &errno) && (errno == syscall.EMFILE ||
			errno == syscall.ENFILE || errno == syscall.ENOBUFS ||
			errno == syscall.ENOMEM) {
			select {
			case <-time.After(acceptPause):
			case <-l.closed:
				return
			}
		}
	}
}

// addChannel - check and keep a channel, and read it; one accepted while
// draining is told "no more" at once.
func (l *Listener) addChannel(c *net.UnixConn) {
	ch, err := newChannel(c, l.peer)
	if err != nil {
		l.report(err)
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.isClosed {
		ch.close()
		return
	}
	l.channels[ch] = struct{}{}
	if l.draining {
		ch.quiesce()
	}
	l.readers.Add(1)
	go l.serveChannel(ch)
}

// serveChannel - receive from one channel until it ends, handing each
// connection to Accept; the channel is acknowledged and closed after.
func (l *Listener) serveChannel(ch *channel) {
	defer l.readers.Done()
	defer func() {
		l.mu.Lock()
		delete(l.channels, ch)
		l.mu.Unlock()
		ch.close()
	}()
	for {
		c, err := ch.recv(true)
		if err != nil {
			if errors.Is(err, ErrRefused) {
				l.report(err)
				continue
			}
			return
		}
		select {
		case l.conns <- c:
			continue
		default:
		}
		// Accept is not waiting: acknowledge before waiting for it,
		// as libsnitch acknowledges everything before it waits.
		ch.ack()
		select {
		case l.conns <- c:
		case <-l.closed:
			c.Close()
			return
		}
	}
}

// Accept - the next client connection, a *Conn; it blocks until one
// comes.  After Drain, ErrDrained once everything sent was accepted;
// after Close, net.ErrClosed.
func (l *Listener) Accept() (net.Conn, error) {
	c, err := l.AcceptHandoff()
	if err != nil {
		return nil, err
	}
	return c, nil
}

// AcceptHandoff - Accept, as a *Conn.
func (l *Listener) AcceptHandoff() (*Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	case <-l.drained:
		// A goroutine may have had one in hand as the last ended.
		select {
		case c := <-l.conns:
			return c, nil
		default:
		}
		return nil, ErrDrained
	}
}

// Addr - the socket path, as a unixpacket address.
func (l *Listener) Addr() net.Addr {
	return &net.UnixAddr{Name: l.path, Net: "unixpacket"}
}

// Drain - stop taking handoffs, losing none: remove the socket file if
// it is still ours, accept the channels waiting in the backlog, close
// the listener, and say "no more" on every channel.  Accept then gives
// what the workers had sent, then ErrDrained.  The order is PROTOCOL's
// ("Stopping, and handing over to a new instance").
func (l *Listener) Drain() error {
	l.mu.Lock()
	if l.draining || l.isClosed {
		l.mu.Unlock()
		return nil
	}
	l.draining = true
	l.mu.Unlock()

	// The name first, so that no worker connects here again; then the
	// channels still in the backlog: closing the listener would close
	// them with whatever a worker of version 1 queued in them already.
	_, _ = unlinkIfOurs(l.path, l.bound)
	for _, c := range l.backlog() {
		l.addChannel(c)
	}
	l.ln.Close()
	l.mu.Lock()
	for ch := range l.channels {
		ch.quiesce()
	}
	l.mu.Unlock()
	go func() {
		l.readers.Wait()
		close(l.drained)
	}()
	return nil
}

// backlog - accept, without waiting, every channel in the listener's
// backlog.
func (l *Listener) backlog() []*net.UnixConn {
	var got []*net.UnixConn
	raw, err := l.ln.SyscallConn()
	if err != nil {
		return nil
	}
	_ = raw.Control(func(lfd uintptr) {
		for {
			fd, _, err := syscall.Accept4(int(lfd),
				syscall.SOCK_CLOEXEC|syscall.SOCK_NONBLOCK)
			if err == syscall.EINTR || err == syscall.ECONNABORTED {
				continue
			}
			if err != nil {
				return
			}
			f := os.NewFile(uintptr(fd), "snitch-channel")
			c, err := net.FileConn(f)
			f.Close()
			if uc, ok := c.(*net.UnixConn); err == nil && ok {
				got = append(got, uc)
			} else if err == nil {
				c.Close()
			}
		}
	})
	return got
}

// Close - stop taking handoffs at once: close the listener and every
// channel (acknowledging what they received) and remove the socket file
// if it is still ours.  A connection received and not yet accepted is
// closed: Drain is the way to lose none.
func (l *Listener) Close() error {
	l.mu.Lock()
	if l.isClosed {
		l.mu.Unlock()
		return nil
	}
	l.isClosed = true
	close(l.closed)
	draining := l.draining
	chans := make([]*channel, 0, len(l.channels))
	for ch := range l.channels {
		chans = append(chans, ch)
	}
	l.mu.Unlock()
	if !draining {
		_, _ = unlinkIfOurs(l.path, l.bound)
	}
	err := l.ln.Close()
	for _, ch := range chans {
		ch.close()
	}
	l.readers.Wait()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}
