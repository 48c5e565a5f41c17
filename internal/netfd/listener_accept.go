//go:build unix && !(linux || freebsd || dragonfly)

package netfd

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// acceptSystem accepts one connection from the listening socket fd, which
// is non-blocking: EAGAIN when none waits. Without accept4 the descriptor
// is marked close-on-exec under ForkLock, as package net does.
func acceptSystem(fd int) (int, error) {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	for {
		nfd, _, err := unix.Accept(fd)
		if err == unix.EINTR {
			continue
		}
		if err == nil {
			unix.CloseOnExec(nfd)
		}
		return nfd, err
	}
}
