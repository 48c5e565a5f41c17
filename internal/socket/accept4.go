//go:build (linux || dragonfly || freebsd) && !evloop_portable

package socket

import (
	"net/netip"
	"unsafe"

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
	var rsa unix.RawSockaddrAny
	size := uint32(unix.SizeofSockaddrAny)
	nfd, _, errno := unix.RawSyscall6(unix.SYS_ACCEPT4, uintptr(fd),
		uintptr(unsafe.Pointer(&rsa)), uintptr(unsafe.Pointer(&size)), uintptr(flags), 0, 0)
	if errno != 0 {
		return -1, netip.AddrPort{}, errno
	}
	return int(nfd), rawToAddrPort(&rsa), nil
}
