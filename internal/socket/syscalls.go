//go:build linux && !evloop_portable

package socket

import (
	"net/netip"

	"golang.org/x/sys/unix"
)

// The wrappers below are the engine's per-connection syscalls. They do not
// allocate, do not retry and return errors as raw unix.Errno values (compare
// with errors.Is), because only the caller knows whether EINTR or EAGAIN
// means "again now" or "wait for readiness", and wrapping would allocate on
// every EAGAIN. Each is safe from any goroutine as far as the kernel is
// concerned; the engine calls them only from the loop that owns fd.

// Accept accepts one connection on the listening socket fd. The new fd is
// non-blocking and close-on-exec. peer is the peer's address, the invalid
// AddrPort for a Unix-domain peer.
func Accept(fd int) (nfd int, peer netip.AddrPort, err error) {
	return Accept4Func(fd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
}

// Read reads into p once. (0, nil) with len(p) > 0 means end of stream.
// p is not retained.
func Read(fd int, p []byte) (int, error) {
	return ReadFunc(fd, p)
}

// Write writes p once; a short count is not an error. p is not retained.
func Write(fd int, p []byte) (int, error) {
	return WriteFunc(fd, p)
}

// Writev writes the buffers in order with one writev(2), using at most
// MaxIovecs non-empty buffers; the caller loops until everything is written.
// n is 0 when err is non-nil, and (0, nil) is returned when every buffer is
// empty. bufs is not retained.
func Writev(fd int, bufs [][]byte) (int, error) {
	return WritevFunc(fd, bufs)
}

// Close closes fd.
func Close(fd int) error {
	return CloseFunc(fd)
}

// ShutdownWrite shuts down the writing side of fd: the peer reads EOF once
// it has read what was sent, and fd can still read.
func ShutdownWrite(fd int) error {
	return ShutdownFunc(fd, unix.SHUT_WR)
}
