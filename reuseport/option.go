//go:build aix || darwin || dragonfly || linux || netbsd || openbsd

package reuseport

import "golang.org/x/sys/unix"

// reusePortOption is the socket option that lets sockets share a port.
const reusePortOption = unix.SO_REUSEPORT
