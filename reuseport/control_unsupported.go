//go:build !(aix || darwin || dragonfly || freebsd || linux || netbsd || openbsd)

package reuseport

import (
	"fmt"
	"syscall"
)

// Control would set SO_REUSEADDR and SO_REUSEPORT, but this system has no
// SO_REUSEPORT: for tcp and udp it fails with an error wrapping
// ErrUnsupported, so a program can detect that and fall back to a single
// listener. For other networks it does nothing.
func Control(network, address string, c syscall.RawConn) error {
	switch network {
	case "tcp", "tcp4", "tcp6", "udp", "udp4", "udp6":
		return fmt.Errorf("%w: %s %s", ErrUnsupported, network, address)
	}
	return nil
}
