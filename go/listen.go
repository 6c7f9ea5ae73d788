// listen.go - the socket file: listen where SNItch's workers connect,
// under a temporary name renamed over the path (so the path is never
// missing, nor a socket not listening yet), take it over from a running
// instance only when asked, and remove it only while it is still ours.
// The same steps as libsnitch/listen.c and common/sockfile.c.
//
// No file is ever chmod'ed by name: a call by name follows a symlink
// another user may swap in between two calls.

package snitch

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
)

// tmpTries is how many temporary names one listen tries.
const tmpTries = 8

// umaskMu serializes this package's umask changes (the umask is the
// process's; see bindMode).
var umaskMu sync.Mutex

// bound is the identity of the socket file listen made.
type bound struct {
	dev uint64
	ino uint64
}

// sunPathMax is the size of sockaddr_un's sun_path on Linux.
const sunPathMax = 108

// pathFree - whether path may be taken: nothing there, a socket nobody
// listens on, or (replace) a live one; EADDRINUSE for a live listener or
// a file that is not a socket (a regular file or a symlink is never
// replaced).  A second instance started by mistake is told so, rather
// than taking the name from the first.
func pathFree(path string, replace bool) error {
	var st syscall.Stat_t
	if err := syscall.Lstat(path, &st); err != nil {
		if err == syscall.ENOENT {
			return nil
		}
		return err
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFSOCK {
		return syscall.EADDRINUSE
	}
	if replace {
		return nil
	}
	live, err := socketLive(path)
	if err != nil {
		return err
	}
	if live {
		return syscall.EADDRINUSE
	}
	return nil
}

// socketLive - whether a process listens at the socket path (a probe
// connect, as sockfile_live).
func socketLive(path string) (bool, error) {
	probe, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_SEQPACKET|
		syscall.SOCK_CLOEXEC|syscall.SOCK_NONBLOCK, 0)
	if err != nil {
		return false, err
	}
	defer syscall.Close(probe)
	err = syscall.Connect(probe, &syscall.SockaddrUnix{Name: path})
	switch err {
	// EAGAIN: a full backlog; EPROTOTYPE: live, of another type.
	case nil, syscall.EAGAIN, syscall.EINPROGRESS, syscall.EPROTOTYPE:
		return true, nil
	case syscall.ECONNREFUSED, syscall.ENOENT:
		return false, nil
	}
	return false, err
}

// tmpName - a temporary name beside path: ".NAME.PID.RANDOM" in its
// directory, random so that nobody can plant it first (if someone does,
// bind fails on it, never follows it, and another is drawn).
func tmpName(path string) string {
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	dir, base := filepath.Split(path)
	return fmt.Sprintf("%s.%s.%d.%08x", dir, base, os.Getpid(),
		binary.BigEndian.Uint32(rnd[:]))
}

// bindMode - bind fd at path, the file born with mode (0: as the umask
// gives).  bind creates the file 0777 less the umask, so under the umask
// ^mode it has exactly mode and nothing is chmod'ed.  The umask is the
// process's: changed for this one system call, as libsnitch does; a file
// another goroutine creates at that instant gets it too.
func bindMode(fd int, path string, mode os.FileMode) error {
	if mode == 0 {
		return syscall.Bind(fd, &syscall.SockaddrUnix{Name: path})
	}
	umaskMu.Lock()
	old := syscall.Umask(int(^mode.Perm() & 0777))
	err := syscall.Bind(fd, &syscall.SockaddrUnix{Name: path})
	syscall.Umask(old)
	umaskMu.Unlock()
	return err
}

// listenPath - a SOCK_SEQPACKET listener at path: bound at a temporary
// name, listening, then renamed over path; its fd (close on exec) and
// the file's identity.
func listenPath(path string, mode os.FileMode, replace bool) (int, bound, error) {
	var b bound
	if path == "" {
		// An empty name would autobind to an abstract address.
		return -1, b, syscall.EINVAL
	}
	if len(path) >= sunPathMax || len(tmpName(path)) >= sunPathMax {
		return -1, b, syscall.ENAMETOOLONG
	}
	if err := pathFree(path, replace); err != nil {
		return -1, b, err
	}
	fd, err := syscall.Socket(syscall.AF_UNIX,
		syscall.SOCK_SEQPACKET|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, b, err
	}
	tmp := ""
	fail := func(err error) (int, bound, error) {
		if tmp != "" {
			syscall.Unlink(tmp)
		}
		syscall.Close(fd)
		return -1, b, err
	}
	for tries := 0; ; tries++ {
		if tries == tmpTries {
			return fail(syscall.EADDRINUSE)
		}
		name := tmpName(path)
		err = bindMode(fd, name, mode)
		if err == nil {
			tmp = name
			break
		}
		if err != syscall.EADDRINUSE {
			return fail(err)
		}
	}
	// Its identity, for unlinkIfOurs: the name is ours until the rename.
	var st syscall.Stat_t
	if err := syscall.Lstat(tmp, &st); err != nil {
		return fail(err)
	}
	b = bound{dev: st.Dev, ino: st.Ino}
	if err := syscall.Listen(fd, syscall.SOMAXCONN); err != nil {
		return fail(err)
	}
	// Checked again just before: what is in the way now is still a
	// socket.  rename replaces a name, never follows it.
	if err := pathFree(path, true); err != nil {
		return fail(err)
	}
	if err := syscall.Rename(tmp, path); err != nil {
		return fail(err)
	}
	return fd, b, nil
}

// unlinkIfOurs - remove path if it is still the socket file bound, not
// one a new instance renamed over it; whether it was removed.
func unlinkIfOurs(path string, b bound) (bool, error) {
	var st syscall.Stat_t
	if err := syscall.Lstat(path, &st); err != nil {
		if err == syscall.ENOENT {
			return false, nil
		}
		return false, err
	}
	if st.Dev != b.dev || st.Ino != b.ino {
		return false, nil
	}
	// A new instance renaming over path right now would lose its name
	// here: a gap of one system call.
	if err := syscall.Unlink(path); err != nil {
		if err == syscall.ENOENT {
			return false, nil
		}
		return false, err
	}
	return true, nil
}
