//go:build unix

package netfd

import (
	"net"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// rawListener returns a duplicate of ln's socket as a file through whose
// SyscallConn the backlog can be waited for and accepted from on demand,
// or nil. A duplicate because package net refuses to wait on a listener's
// own raw connection; the file is non-blocking like ln, so waiting on it
// uses the runtime's poller.
func rawListener(ln net.Listener) *os.File {
	sc, ok := ln.(interface {
		SyscallConn() (syscall.RawConn, error)
	})
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	dup := -1
	if err := rc.Control(func(fd uintptr) {
		dup, err = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0)
	}); err != nil || dup < 0 {
		return nil
	}
	if err := unix.SetNonblock(dup, true); err != nil {
		_ = unix.Close(dup)
		return nil
	}
	return os.NewFile(uintptr(dup), "listener")
}

// backlogWaiting reports whether a connection (or an error) waits on the
// listening socket fd, without accepting it: false makes RawConn.Read wait
// for the socket's next readiness and ask again.
func backlogWaiting(fd uintptr) bool {
	p := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(p, 0)
		if err == unix.EINTR {
			continue
		}
		// On an error, let Accept find out what it is.
		return err != nil || n > 0
	}
}
