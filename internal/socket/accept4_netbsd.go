//go:build netbsd && !evloop_portable

package socket

import (
	"net/netip"

	"golang.org/x/sys/unix"
)

// rawAccept4 is paccept(2) with no signal mask, reading the peer into a
// stack buffer so that accepting allocates nothing (x/sys/unix has no
// accept4 for NetBSD, and its Accept allocates a unix.Sockaddr).
func rawAccept4(fd, flags int) (int, netip.AddrPort, error) {
	return acceptTrap(unix.SYS_PACCEPT, fd, 0, uintptr(flags))
}
