//go:build (darwin || dragonfly || freebsd || netbsd || openbsd) && !evloop_portable

package socket

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// domainAndProtocol finds the socket's domain from its own address
// (getsockname), since darwin, NetBSD and DragonFly have no SO_DOMAIN, and
// its protocol from domain and type: TCP for an inet stream socket, UDP
// for an inet datagram socket, 0 otherwise (the only protocols these
// systems' inet stream and datagram sockets get by default; a socket made
// for another one, such as SCTP, would be misread as TCP or UDP). Errors
// are *os.SyscallError values.
func domainAndProtocol(fd, typ int) (domain, protocol int, err error) {
	if domain, err = sockDomain(fd); err != nil {
		return 0, 0, err
	}
	if domain == unix.AF_INET || domain == unix.AF_INET6 {
		switch typ {
		case unix.SOCK_STREAM:
			protocol = unix.IPPROTO_TCP
		case unix.SOCK_DGRAM:
			protocol = unix.IPPROTO_UDP
		}
	}
	return domain, protocol, nil
}

// FamilyOf returns the address family of the socket fd. Safe from any
// goroutine.
func FamilyOf(fd int) (Family, error) {
	domain, err := sockDomain(fd)
	if err != nil {
		return 0, err
	}
	return familyOfDomain(domain), nil
}

// sockDomain is the family of the socket's own address; 0 for a family
// x/sys/unix cannot represent, which the engine serves neither.
func sockDomain(fd int) (int, error) {
	sa, err := unix.Getsockname(fd)
	switch {
	case errors.Is(err, unix.EAFNOSUPPORT):
		return 0, nil
	case err != nil:
		return 0, os.NewSyscallError("getsockname", err)
	}
	return domainOf(sa), nil
}
