// listener_test.go - Listen, Accept, Drain and Close against a fake
// worker (this test, connecting to the socket path): the socket file's
// rules (temporary name renamed over the path, mode, no second live
// instance, never a symlink or a regular file replaced, Replace, removed
// only while ours), a handoff accepted through tls.Conn's NetConn, the
// peer check, and a drain that loses nothing.

package snitch

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// worker - a fake worker's channel to path: its raw fd, HELLO read.
func worker(t *testing.T, path string) int {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_UNIX,
		syscall.SOCK_SEQPACKET|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Connect(fd, &syscall.SockaddrUnix{Name: path}); err != nil {
		t.Fatal(err)
	}
	return fd
}

// listen - Listen at dir/NAME with opts, closed at cleanup.
func listen(t *testing.T, path string, opts *Options) *Listener {
	t.Helper()
	l, err := Listen(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// acceptSoon - Accept within 5 s.
func acceptSoon(t *testing.T, l *Listener) (*Conn, error) {
	t.Helper()
	type result struct {
		c   *Conn
		err error
	}
	got := make(chan result, 1)
	go func() {
		c, err := l.AcceptHandoff()
		got <- result{c, err}
	}()
	select {
	case r := <-got:
		return r.c, r.err
	case <-time.After(5 * time.Second):
		t.Fatal("Accept: nothing after 5 s")
	}
	return nil, nil
}

// noTemporary - no temporary name is left in dir.
func noTemporary(t *testing.T, dir string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if e.Name()[0] == '.' {
			t.Fatalf("left behind: %s", e.Name())
		}
	}
}

func TestListenFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "alpha.sock")
	l := listen(t, path, &Options{Mode: 0620})
	st, err := os.Lstat(path)
	if err != nil || st.Mode()&os.ModeSocket == 0 || st.Mode().Perm() != 0620 {
		t.Fatalf("socket file: %v %v", st.Mode(), err)
	}
	noTemporary(t, dir)
	if _, err := Listen(path, nil); !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("second instance: %v", err)
	}
	// Replace takes over; the old one's Close leaves the new file
	l2 := listen(t, path, &Options{Replace: true})
	st2, _ := os.Lstat(path)
	if os.SameFile(st, st2) {
		t.Fatal("not replaced")
	}
	l.Close()
	if st3, err := os.Lstat(path); err != nil || !os.SameFile(st2, st3) {
		t.Fatal("the old instance removed the new one's file")
	}
	l2.Close()
	if _, err := os.Lstat(path); !os.IsNotExist(err) {
		t.Fatalf("not removed by its own Close: %v", err)
	}
	// a dead instance's file is replaced without Replace
	fd, _ := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_SEQPACKET, 0)
	syscall.Bind(fd, &syscall.SockaddrUnix{Name: path})
	syscall.Close(fd)
	listen(t, path, nil).Close()
	noTemporary(t, dir)
}

func TestListenRefusesFiles(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret")
	os.WriteFile(secret, []byte("secret"), 0600)
	link := filepath.Join(dir, "link.sock")
	os.Symlink(secret, link)
	for _, path := range []string{secret, link} {
		for _, replace := range []bool{false, true} {
			_, err := Listen(path, &Options{Mode: 0666, Replace: replace})
			if !errors.Is(err, syscall.EADDRINUSE) {
				t.Fatalf("%s replace=%v: %v", path, replace, err)
			}
		}
	}
	if st, _ := os.Lstat(link); st.Mode()&os.ModeSymlink == 0 {
		t.Fatal("symlink replaced")
	}
	if st, _ := os.Stat(secret); st.Mode().Perm() != 0600 {
		t.Fatalf("secret's mode now %v", st.Mode())
	}
	long := filepath.Join(dir, string(make([]byte, 100)))
	if _, err := Listen(long, nil); !errors.Is(err, syscall.ENAMETOOLONG) &&
		!errors.Is(err, syscall.EINVAL) {
		t.Fatalf("long path: %v", err)
	}
	if _, err := Listen("", nil); err == nil {
		t.Fatal("empty path accepted")
	}
	t.Setenv(PeerEnv, "no-such-user-here")
	if _, err := Listen(filepath.Join(dir, "x.sock"), nil); !errors.Is(err, syscall.EINVAL) {
		t.Fatalf("bad %s: %v", PeerEnv, err)
	}
	noTemporary(t, dir)
}

func TestAcceptThroughTLS(t *testing.T) {
	path := filepath.Join(t.TempDir(), "alpha.sock")
	l := listen(t, path, nil)
	w := worker(t, path)
	if msg := said(t, w); ackCount(msg) != -1 || len(msg) != ackMsgLen {
		t.Fatalf("no HELLO: % x", msg)
	}
	sock, client := tcpPair(t)
	send(t, w, header(client4, local4, tlv(tlvAuthority,
		[]byte("alpha.localhost"))), rights([]int{sock}))
	c, err := acceptSoon(t, l)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if n := ackCount(said(t, w)); n != 1 {
		t.Fatalf("ACK %d", n)
	}
	var nc net.Conn = tls.Server(c, &tls.Config{})
	if h := HandoffOf(nc); h == nil || h.ServerName != "alpha.localhost" {
		t.Fatalf("HandoffOf(tls.Conn): %+v", h)
	}
	if c.RemoteAddr().String() != client.LocalAddr().String() {
		t.Fatalf("peer %v, client %v", c.RemoteAddr(), client.LocalAddr())
	}
}

func TestListenerPeer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "alpha.sock")
	refused := make(chan error, 4)
	l := listen(t, path, &Options{
		PeerUser: strconv.Itoa(os.Getuid() + 1),
		Refused:  func(err error) { refused <- err },
	})
	w := worker(t, path)
	select {
	case err := <-refused:
		if !errors.Is(err, syscall.EACCES) {
			t.Fatalf("refused with %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("another uid's channel not refused")
	}
	buf := make([]byte, 16)
	if n, _ := syscall.Read(w, buf); n != 0 {
		t.Fatalf("said % x to another uid", buf[:n])
	}
	l.Close()
	// the environment's user, when no PeerUser is given
	t.Setenv(PeerEnv, strconv.Itoa(os.Getuid()))
	l = listen(t, path, nil)
	w = worker(t, path)
	if msg := said(t, w); len(msg) != ackMsgLen {
		t.Fatalf("own uid not greeted: % x", msg)
	}
}

func TestDrainLosesNothing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "alpha.sock")
	l := listen(t, path, nil)
	w := worker(t, path)
	said(t, w)
	sock, _ := tcpPair(t)
	for i := 0; i < 3; i++ {
		send(t, w, header(client4, local4), rights([]int{sock}))
	}
	// a channel still in the backlog, its handoff already sent (as a
	// worker of version 1 may)
	w2 := worker(t, path)
	send(t, w2, header(client4, local4), rights([]int{sock}))
	time.Sleep(50 * time.Millisecond)
	if err := l.Drain(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(path); !os.IsNotExist(err) {
		t.Fatalf("path still there: %v", err)
	}
	for i := 0; i < 4; i++ {
		c, err := acceptSoon(t, l)
		if err != nil {
			t.Fatalf("handoff %d: %v", i, err)
		}
		c.Close()
	}
	if _, err := acceptSoon(t, l); err != ErrDrained {
		t.Fatalf("after the last: %v", err)
	}
	// each worker's next send fails: it connects to the path again
	for _, fd := range []int{w, w2} {
		err := syscall.Sendmsg(fd, header(client4, local4),
			rights([]int{sock}), nil, syscall.MSG_NOSIGNAL)
		if err != syscall.EPIPE {
			t.Fatalf("send after drain: %v", err)
		}
	}
	// and everything was acknowledged: 3 on the first, 1 on the second
	total := 0
	for _, fd := range []int{w, w2} {
		for msg := said(t, fd); len(msg) > 0; msg = said(t, fd) {
			if n := ackCount(msg); n > 0 {
				total += n
			}
		}
	}
	if total != 4 {
		t.Fatalf("acknowledged %d, want 4", total)
	}
}

func TestCloseLeaksNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "alpha.sock")
	before := openFDs(t)
	l, err := Listen(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	fd, _ := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_SEQPACKET|syscall.SOCK_CLOEXEC, 0)
	syscall.Connect(fd, &syscall.SockaddrUnix{Name: path})
	said(t, fd)
	sock, _ := tcpPair(t)
	before += 3 // the worker's channel, the TCP pair
	send(t, fd, header(client4, local4), rights([]int{sock}))
	time.Sleep(50 * time.Millisecond)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Accept after Close: %v", err)
	}
	// the handoff received and never accepted was closed, acknowledged
	if n := ackCount(said(t, fd)); n != 1 {
		t.Fatalf("ACK %d", n)
	}
	buf := make([]byte, 8)
	if n, err := syscall.Read(fd, buf); n != 0 && err != io.EOF {
		t.Fatalf("channel not closed: %d %v", n, err)
	}
	syscall.Close(fd)
	before--
	if after := openFDs(t); after != before {
		t.Fatalf("descriptors: %d expected, %d open", before, after)
	}
}
