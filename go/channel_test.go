// channel_test.go - one channel over a socketpair, this test playing the
// worker: each refused message of libsnitch's table (t/unit/handoff_test.c
// bad_rows) is refused here too, acknowledged, and leaves no descriptor
// open (counted in /proc/self/fd); a valid one gives the client's socket
// and what the worker said; HELLO, ACK batches, EOF and the peer check.

package snitch

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// openFDs - how many descriptors this process has open.
func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// pair - a channel: the worker's end (a raw fd) and ours, HELLO read
// and checked unless v1.
func pair(t *testing.T) (worker int, ch *channel) {
	t.Helper()
	sv, err := syscall.Socketpair(syscall.AF_UNIX,
		syscall.SOCK_SEQPACKET|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(sv[1]), "channel")
	c, err := net.FileConn(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	ch, err = newChannel(c.(*net.UnixConn), -1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Close(sv[0])
		ch.close()
	})
	if handoffV2() {
		if msg := said(t, sv[0]); !bytes.Equal(msg, ackMsg(ackTypeHello, 0)) {
			t.Fatalf("not HELLO first: % x", msg)
		}
	}
	return sv[0], ch
}

// said - the next message the backend wrote on the worker's end, or nil
// after 200 ms of silence.
func said(t *testing.T, worker int) []byte {
	t.Helper()
	fds := []pollFd{{Fd: int32(worker), Events: pollIn}}
	if n, _ := unixPoll(fds, 200); n == 0 {
		return nil
	}
	buf := make([]byte, 64)
	n, err := syscall.Read(worker, buf)
	if err != nil {
		t.Fatal(err)
	}
	return buf[:n]
}

// tcpPair - a loopback TCP connection: the accepted end's fd (for the
// worker to hand) and the client's conn.
func tcpPair(t *testing.T) (int, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	acc, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	f, err := acc.(*net.TCPConn).File()
	acc.Close()
	if err != nil {
		t.Fatal(err)
	}
	fd, err := syscall.Dup(int(f.Fd()))
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		client.Close()
		syscall.Close(fd)
	})
	return fd, client
}

// rights - control data: one SCM_RIGHTS message per group of fds.
func rights(groups ...[]int) []byte {
	var oob []byte
	for _, g := range groups {
		oob = append(oob, syscall.UnixRights(g...)...)
	}
	return oob
}

// send - the worker sends payload with oob, as one record.
func send(t *testing.T, worker int, payload, oob []byte) {
	t.Helper()
	if err := sendmsg(worker, payload, oob); err != nil {
		t.Fatal(err)
	}
}

// sendmsg - sendmsg(2) as is: syscall.Sendmsg sends a byte of its own
// when the payload is empty and oob is not, and a zero-length record
// with a descriptor is a case to test.
func sendmsg(fd int, payload, oob []byte) error {
	var msg syscall.Msghdr
	var iov syscall.Iovec
	if len(payload) > 0 {
		iov.Base = &payload[0]
		iov.SetLen(len(payload))
		msg.Iov = &iov
		msg.Iovlen = 1
	}
	if len(oob) > 0 {
		msg.Control = &oob[0]
		msg.SetControllen(len(oob))
	}
	_, _, e := syscall.Syscall(syscall.SYS_SENDMSG, uintptr(fd),
		uintptr(unsafe.Pointer(&msg)), syscall.MSG_NOSIGNAL)
	if e != 0 {
		return e
	}
	return nil
}

// ackCount - the count of an ACK message, or -1 when it is not one.
func ackCount(msg []byte) int {
	if len(msg) != ackMsgLen || !bytes.Equal(msg[:4], []byte("SNCH")) ||
		msg[4] != ackTypeAck || msg[5] != ackVersion {
		return -1
	}
	return int(binary.BigEndian.Uint16(msg[6:]))
}

func TestRecvRefused(t *testing.T) {
	worker, ch := pair(t)
	sock, _ := tcpPair(t)
	sock2, _ := tcpPair(t)
	var p [2]int
	if err := syscall.Pipe2(p[:], syscall.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(p[0])
	defer syscall.Close(p[1])
	us, err := syscall.Socketpair(syscall.AF_UNIX,
		syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(us[0])
	defer syscall.Close(us[1])
	hdr := header(client4, local4, tlv(tlvAuthority, []byte("alpha.localhost")))
	ten := []int{sock, sock2, sock, sock, sock, sock, sock, sock, sock, sock}
	rows := []struct {
		label   string
		payload []byte
		oob     []byte
	}{
		{"two fds in one message", hdr, rights([]int{sock, sock2})},
		{"two SCM_RIGHTS cmsgs", hdr, rights([]int{sock}, []int{sock2})},
		{"ten fds (more than the control buffer)", hdr, rights(ten)},
		{"zero fds", hdr, nil},
		{"a pipe, not a socket", hdr, rights([]int{p[0]})},
		{"a Unix socket, not TCP", hdr, rights([]int{us[0]})},
		{"payload not a PROXY header",
			[]byte("GET / HTTP/1.0\r\n\r\n"), rights([]int{sock})},
		{"truncated header", hdr[:len(hdr)-1], rights([]int{sock})},
		{"a byte after the header", append(append([]byte(nil), hdr...), 0),
			rights([]int{sock})},
		{"payload over the largest", append(header(client4, local4,
			tlv(0x30, make([]byte, proxyMax))), make([]byte, 64)...),
			rights([]int{sock})},
		{"zero-length payload with an fd", nil, rights([]int{sock})},
		{"authority not a host name", header(client4, local4,
			tlv(tlvAuthority, []byte("bad name"))), rights([]int{sock})},
		{"malformed ALPN list", header(client4, local4,
			tlv(tlvALPN, []byte{3, 'h', '2'})), rights([]int{sock})},
	}
	for _, row := range rows {
		t.Run(row.label, func(t *testing.T) {
			before := openFDs(t)
			send(t, worker, row.payload, row.oob)
			c, err := ch.recv(false)
			if err == nil {
				c.Close()
				t.Fatal("accepted")
			}
			if !errors.Is(err, ErrRefused) {
				t.Fatalf("not refused: %v", err)
			}
			if after := openFDs(t); after != before {
				t.Fatalf("descriptors: %d before, %d after", before, after)
			}
			// counted and acknowledged all the same
			if n := ackCount(said(t, worker)); n != 1 {
				t.Fatalf("ACK count %d, want 1", n)
			}
		})
	}
	// the channel is still usable
	send(t, worker, hdr, rights([]int{sock}))
	c, err := ch.recv(false)
	if err != nil {
		t.Fatalf("valid after refusals: %v", err)
	}
	c.Close()
}

func TestRecvValid(t *testing.T) {
	worker, ch := pair(t)
	sock, client := tcpPair(t)
	before := openFDs(t)
	send(t, worker, header(client4, local4,
		tlv(tlvAuthority, []byte("Alpha.Localhost")),
		tlv(tlvALPN, alpnBody("h2")), tlv(tlvECH, []byte{1}),
		tlv(TLVUniqueID, []byte("lb-7"))), rights([]int{sock}))
	c, err := ch.recv(false)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	h := c.Handoff()
	if h.ServerName != "alpha.localhost" || len(h.ALPN) != 1 ||
		h.ALPN[0] != "h2" || !h.ECH || h.Client.String() != client4.String() {
		t.Fatalf("handoff %+v", *h)
	}
	if v, ok := h.TLV(TLVUniqueID); !ok || string(v) != "lb-7" {
		t.Fatalf("unique id %q", v)
	}
	// the received socket is the client's: its peer is the client
	if c.RemoteAddr().String() != client.LocalAddr().String() {
		t.Fatalf("peer %v, client %v", c.RemoteAddr(), client.LocalAddr())
	}
	// one descriptor more: the conn's (the received one was closed
	// once net.FileConn had its duplicate)
	if after := openFDs(t); after != before+1 {
		t.Fatalf("descriptors: %d before, %d after", before, after)
	}
	if n := ackCount(said(t, worker)); n != 1 {
		t.Fatalf("ACK count %d", n)
	}
	if HandoffOf(c) != h || HandoffOf(client) != nil {
		t.Fatal("HandoffOf")
	}
	client.Write([]byte("hello"))
	buf := make([]byte, 5)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "hello" {
		t.Fatalf("read %q %v", buf, err)
	}
}

func TestAckBatch(t *testing.T) {
	worker, ch := pair(t)
	sock, _ := tcpPair(t)
	hdr := header(client4, local4)
	for i := 0; i < 3; i++ {
		send(t, worker, hdr, rights([]int{sock}))
	}
	for i := 0; i < 3; i++ {
		c, err := ch.recv(true)
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
	}
	// the read that emptied the channel acknowledged all three
	if n := ackCount(said(t, worker)); n != 3 {
		t.Fatalf("ACK count %d, want 3", n)
	}
	if msg := said(t, worker); msg != nil {
		t.Fatalf("more said: % x", msg)
	}
	// at most ackBatch per ACK under a stream
	for i := 0; i < ackBatch+1; i++ {
		send(t, worker, hdr, rights([]int{sock}))
	}
	for i := 0; i < ackBatch+1; i++ {
		c, err := ch.recv(true)
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
	}
	if n := ackCount(said(t, worker)); n != ackBatch {
		t.Fatalf("ACK count %d, want %d", n, ackBatch)
	}
	if n := ackCount(said(t, worker)); n != 1 {
		t.Fatalf("ACK count %d, want 1", n)
	}
}

func TestVersion1(t *testing.T) {
	t.Setenv("SNITCH_HANDOFF_VERSION", "1")
	worker, ch := pair(t)
	if msg := said(t, worker); msg != nil {
		t.Fatalf("version 1 said % x", msg)
	}
	sock, _ := tcpPair(t)
	send(t, worker, header(client4, local4), rights([]int{sock}))
	c, err := ch.recv(false)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if msg := said(t, worker); msg != nil {
		t.Fatalf("version 1 acknowledged: % x", msg)
	}
}

func TestEOF(t *testing.T) {
	worker, ch := pair(t)
	syscall.Close(worker)
	for i := 0; i < 2; i++ {
		if _, err := ch.recv(false); err != io.EOF {
			t.Fatalf("recv %d after close: %v", i, err)
		}
	}
}

func TestQuiesce(t *testing.T) {
	worker, ch := pair(t)
	sock, _ := tcpPair(t)
	send(t, worker, header(client4, local4), rights([]int{sock}))
	ch.quiesce()
	// what was sent before is received, then EOF
	c, err := ch.recv(false)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if _, err := ch.recv(false); err != io.EOF {
		t.Fatalf("after quiesce: %v", err)
	}
	// the worker's next send fails
	err = syscall.Sendmsg(worker, header(client4, local4),
		rights([]int{sock}), nil, syscall.MSG_NOSIGNAL)
	if err != syscall.EPIPE {
		t.Fatalf("send after quiesce: %v", err)
	}
}

func TestPeerCheck(t *testing.T) {
	for _, row := range []struct {
		label string
		uid   int64
		ok    bool
	}{
		{"own uid", int64(os.Getuid()), true},
		{"another uid", int64(os.Getuid()) + 1, false},
	} {
		t.Run(row.label, func(t *testing.T) {
			sv, err := syscall.Socketpair(syscall.AF_UNIX,
				syscall.SOCK_SEQPACKET|syscall.SOCK_CLOEXEC, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer syscall.Close(sv[0])
			f := os.NewFile(uintptr(sv[1]), "channel")
			c, _ := net.FileConn(f)
			f.Close()
			before := openFDs(t)
			ch, err := newChannel(c.(*net.UnixConn), row.uid)
			if row.ok != (err == nil) {
				t.Fatalf("newChannel: %v", err)
			}
			if err != nil {
				if !errors.Is(err, syscall.EACCES) {
					t.Fatalf("not EACCES: %v", err)
				}
				if after := openFDs(t); after != before-1 {
					t.Fatalf("descriptors: %d before, %d after", before, after)
				}
				// closed before a word was said
				buf := make([]byte, 16)
				if n, _ := syscall.Read(sv[0], buf); n != 0 {
					t.Fatalf("said % x", buf[:n])
				}
				return
			}
			ch.close()
		})
	}
}
