//go:build (linux || dragonfly || freebsd || netbsd || openbsd) && !evloop_portable

package socket

import (
	"os"

	"golang.org/x/sys/unix"
)

// openSocket creates a non-blocking, close-on-exec socket through
// SocketFunc, both flags set atomically by socket(2) itself. Errors are
// *os.SyscallError values naming socket.
func openSocket(domain, typ int) (int, error) {
	fd, err := SocketFunc(domain, typ|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, os.NewSyscallError("socket", err)
	}
	CreatedFunc(fd)
	return fd, nil
}

// sendFlags are the flags of every datagram send: never block, and never
// raise SIGPIPE (which would reach a program that asked signal.Notify for
// it) where the send fails for a peer that is gone.
const sendFlags = unix.MSG_DONTWAIT | unix.MSG_NOSIGNAL
