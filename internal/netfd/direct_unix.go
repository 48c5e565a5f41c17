//go:build unix

package netfd

import (
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// rawStream returns the raw connection a stream's Write can write
// through at once, or nil.
func rawStream(c net.Conn) syscall.RawConn {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return rc
}

// writeSystem writes p to the non-blocking socket fd once.
func writeSystem(fd uintptr, p []byte) (int, error) {
	for {
		n, err := unix.Write(int(fd), p)
		if err == unix.EINTR {
			continue
		}
		return n, err
	}
}
