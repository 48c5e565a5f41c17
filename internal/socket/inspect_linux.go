//go:build linux && !evloop_portable

package socket

import (
	"os"

	"golang.org/x/sys/unix"
)

// domainAndProtocol asks the kernel for the socket's domain and protocol
// (SO_DOMAIN, SO_PROTOCOL). Errors are *os.SyscallError values.
func domainAndProtocol(fd, _ int) (domain, protocol int, err error) {
	if domain, err = unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_DOMAIN); err != nil {
		return 0, 0, os.NewSyscallError("getsockopt", err)
	}
	if protocol, err = unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_PROTOCOL); err != nil {
		return 0, 0, os.NewSyscallError("getsockopt", err)
	}
	return domain, protocol, nil
}

// FamilyOf returns the address family of the socket fd. Safe from any
// goroutine.
func FamilyOf(fd int) (Family, error) {
	domain, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_DOMAIN)
	if err != nil {
		return 0, os.NewSyscallError("getsockopt", err)
	}
	return familyOfDomain(domain), nil
}
