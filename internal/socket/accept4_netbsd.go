//go:build netbsd && !evloop_portable

package socket

import (
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

// rawAccept4 is paccept(2) with no signal mask, reading the peer into a
// stack buffer so that accepting allocates nothing (x/sys/unix has no
// accept4 for NetBSD, and its Accept allocates a unix.Sockaddr).
func rawAccept4(fd, flags int) (int, netip.AddrPort, error) {
	var rsa unix.RawSockaddrAny
	size := uint32(unix.SizeofSockaddrAny)
	nfd, _, errno := unix.RawSyscall6(unix.SYS_PACCEPT, uintptr(fd),
		uintptr(unsafe.Pointer(&rsa)), uintptr(unsafe.Pointer(&size)), 0, uintptr(flags), 0)
	if errno != 0 {
		return -1, netip.AddrPort{}, errno
	}
	return int(nfd), rawToAddrPort(&rsa), nil
}
