//go:build aix || darwin || dragonfly || freebsd || linux || netbsd || openbsd

package reuseport

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// Control is a net.ListenConfig.Control function that sets SO_REUSEADDR and
// SO_REUSEPORT (SO_REUSEPORT_LB on FreeBSD) on tcp and udp sockets before
// they are bound; for other
// networks (such as unix) it does nothing, as some kernels reject
// SO_REUSEPORT there. Errors are *os.SyscallError values that match the
// errno with errors.Is.
//
//	lc := net.ListenConfig{Control: reuseport.Control}
//	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:8080")
func Control(network, address string, c syscall.RawConn) error {
	switch network {
	case "tcp", "tcp4", "tcp6", "udp", "udp4", "udp6":
	default:
		return nil
	}
	var setErr error
	err := c.Control(func(fd uintptr) {
		if err := unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
			setErr = os.NewSyscallError("setsockopt", err)
			return
		}
		if err := unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, reusePortOption, 1); err != nil {
			setErr = os.NewSyscallError("setsockopt", err)
		}
	})
	if err != nil {
		return err
	}
	return setErr
}
