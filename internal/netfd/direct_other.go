//go:build !unix

package netfd

import (
	"net"
	"syscall"
)

// rawStream is nil where a socket is not written to without waiting: the
// writer goroutine writes everything.
func rawStream(net.Conn) syscall.RawConn { return nil }

func writeSystem(uintptr, []byte) (int, error) { return 0, syscall.EAGAIN }
