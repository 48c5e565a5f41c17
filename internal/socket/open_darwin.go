//go:build darwin && !evloop_portable

package socket

import (
	"errors"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// openSocket creates a non-blocking, close-on-exec socket through
// SocketFunc. darwin's socket(2) takes no SOCK_NONBLOCK or SOCK_CLOEXEC,
// so the flags are set afterwards, holding syscall.ForkLock for reading
// as package net does, so a fork in another goroutine cannot leak the
// descriptor into a child. It also sets SO_NOSIGPIPE (see noSigpipe).
// Errors are *os.SyscallError values; the socket is closed on failure.
func openSocket(domain, typ int) (int, error) {
	syscall.ForkLock.RLock()
	fd, err := SocketFunc(domain, typ, 0)
	if err == nil {
		unix.CloseOnExec(fd)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return -1, os.NewSyscallError("socket", err)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		return -1, errors.Join(os.NewSyscallError("fcntl", err), closeFailed(fd))
	}
	if err := noSigpipe(fd); err != nil {
		return -1, errors.Join(err, closeFailed(fd))
	}
	CreatedFunc(fd)
	return fd, nil
}

// noSigpipe sets SO_NOSIGPIPE: darwin has no MSG_NOSIGNAL to pass to
// send, and writes go through write(2) and writev(2), which take no flags,
// so the socket itself must say that a write to a peer that is gone
// returns EPIPE without raising SIGPIPE (which would reach a program that
// asked signal.Notify for it).
func noSigpipe(fd int) error {
	return setInt(fd, unix.SOL_SOCKET, unix.SO_NOSIGPIPE, 1)
}

// sendFlags are the flags of every datagram send: never block.
// SO_NOSIGPIPE, set on every socket, stands for MSG_NOSIGNAL.
const sendFlags = unix.MSG_DONTWAIT

func closeFailed(fd int) error {
	if err := CloseFunc(fd); err != nil {
		return os.NewSyscallError("close", err)
	}
	return nil
}
