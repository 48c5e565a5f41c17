//go:build (linux || dragonfly || freebsd) && !evloop_portable

package socket

import (
	"net/netip"

	"golang.org/x/sys/unix"
)

// rawAccept4 is accept4(2) on a non-blocking listener. Unlike unix.Accept4,
// which allocates the kernel's address and then a unix.Sockaddr for every
// connection (about 190 bytes of garbage per accept, which a burst of
// connections turns into resident memory the GC only gives back later), it
// reads the peer into a stack buffer and converts it to a netip.AddrPort as
// SockaddrToAddrPort does. Unix-domain and unknown families give the invalid
// AddrPort.
func rawAccept4(fd, flags int) (int, netip.AddrPort, error) {
	return acceptTrap(unix.SYS_ACCEPT4, fd, uintptr(flags), 0)
}
