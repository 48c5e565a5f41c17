//go:build !unix

package netfd

import "syscall"

// socketKey identifies a system socket; where that cannot be told, no
// datagram socket has siblings.
type socketKey struct{}

func socketKeyOf(syscall.Conn) (socketKey, bool) { return socketKey{}, false }
