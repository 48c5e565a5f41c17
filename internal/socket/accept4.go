//go:build (linux || dragonfly || freebsd) && !evloop_portable

package socket

import (
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Accept4Func is accept4(2), returning the peer as SockaddrToAddrPort
// would. Accept calls it. A syscall seam: see hooks.go.
var Accept4Func func(fd int, flags int) (nfd int, peer netip.AddrPort, err error) = rawAccept4

// AcceptSyscall names the system call Accept makes, for errors.
const AcceptSyscall = "accept4"

// Accept accepts one connection on the listening socket fd. The new fd is
// non-blocking and close-on-exec. peer is the peer's address, the invalid
// AddrPort for a Unix-domain peer.
func Accept(fd int) (nfd int, peer netip.AddrPort, err error) {
	return Accept4Func(fd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
}

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
