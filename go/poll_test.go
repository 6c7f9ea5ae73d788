// poll_test.go - poll(2) for the tests (the syscall package has none).

package snitch

import (
	"syscall"
	"unsafe"
)

// pollFd is struct pollfd.
type pollFd struct {
	Fd      int32
	Events  int16
	Revents int16
}

const pollIn = 0x1

// unixPoll - poll(fds, timeout ms); how many are ready.
func unixPoll(fds []pollFd, timeout int) (int, error) {
	n, _, e := syscall.Syscall(syscall.SYS_POLL,
		uintptr(unsafe.Pointer(&fds[0])), uintptr(len(fds)), uintptr(timeout))
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}
