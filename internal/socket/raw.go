//go:build linux && !evloop_portable

package socket

import (
	"encoding/binary"
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

// read(2) and write(2) on the engine's sockets, which are non-blocking: they
// return at once, so they go through RawSyscall and skip the runtime's
// entersyscall/exitsyscall, two of which every echoed message would
// otherwise pay. The result is what unix.Read and unix.Write return.

func rawRead(fd int, p []byte) (int, error) {
	n, _, errno := unix.RawSyscall(unix.SYS_READ, uintptr(fd), uintptr(bufPtr(p)), uintptr(len(p)))
	if errno != 0 {
		return -1, errno
	}
	return int(n), nil
}

func rawWrite(fd int, p []byte) (int, error) {
	n, _, errno := unix.RawSyscall(unix.SYS_WRITE, uintptr(fd), uintptr(bufPtr(p)), uintptr(len(p)))
	if errno != 0 {
		return -1, errno
	}
	return int(n), nil
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

// rawToAddrPort converts a kernel inet address; the port is in network byte
// order in the raw structures.
func rawToAddrPort(rsa *unix.RawSockaddrAny) netip.AddrPort {
	switch rsa.Addr.Family {
	case unix.AF_INET:
		sa := (*unix.RawSockaddrInet4)(unsafe.Pointer(rsa))
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), portOf(sa.Port))
	case unix.AF_INET6:
		sa := (*unix.RawSockaddrInet6)(unsafe.Pointer(rsa))
		return inet6AddrPort(sa.Addr, portOf(sa.Port), sa.Scope_id)
	}
	return netip.AddrPort{}
}

func portOf(raw uint16) uint16 {
	var b [2]byte
	*(*uint16)(unsafe.Pointer(&b[0])) = raw
	return binary.BigEndian.Uint16(b[:])
}

func bufPtr(p []byte) unsafe.Pointer {
	if len(p) == 0 {
		return nil
	}
	return unsafe.Pointer(&p[0])
}
