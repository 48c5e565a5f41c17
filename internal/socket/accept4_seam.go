//go:build (linux || dragonfly || freebsd || netbsd) && !evloop_portable

package socket

import (
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Accept4Func is accept4(2) (on NetBSD accept4(3), which NetBSD implements
// as paccept(2)), returning the peer as SockaddrToAddrPort would. Accept
// calls it. A syscall seam: see hooks.go.
var Accept4Func func(fd int, flags int) (nfd int, peer netip.AddrPort, err error) = rawAccept4

// AcceptSyscall names the system call Accept makes, for errors.
const AcceptSyscall = "accept4"

// Accept accepts one connection on the listening socket fd. The new fd is
// non-blocking and close-on-exec. peer is the peer's address, the invalid
// AddrPort for a Unix-domain peer.
func Accept(fd int) (nfd int, peer netip.AddrPort, err error) {
	return Accept4Func(fd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
}

// acceptTrap makes the accept system call trap on fd with a4 and a5 as its
// fourth and fifth arguments (accept4's flags; paccept's signal mask and
// flags), reading the peer into a stack buffer and converting it to a
// netip.AddrPort as SockaddrToAddrPort does, so that accepting allocates
// nothing.
func acceptTrap(trap uintptr, fd int, a4, a5 uintptr) (int, netip.AddrPort, error) {
	var rsa unix.RawSockaddrAny
	size := uint32(unix.SizeofSockaddrAny)
	nfd, _, errno := unix.RawSyscall6(trap, uintptr(fd),
		uintptr(unsafe.Pointer(&rsa)), uintptr(unsafe.Pointer(&size)), a4, a5, 0)
	if errno != 0 {
		return -1, netip.AddrPort{}, errno
	}
	return int(nfd), rawToAddrPort(&rsa), nil
}
