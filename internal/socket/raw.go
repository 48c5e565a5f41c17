//go:build (linux || darwin || dragonfly || freebsd || netbsd || openbsd) && !evloop_portable

package socket

import (
	"encoding/binary"
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

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
