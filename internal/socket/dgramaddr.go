//go:build (linux || darwin || dragonfly || freebsd || netbsd || openbsd) && !evloop_portable

package socket

import (
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

// MaxDatagram is the largest UDP payload over IPv6 without jumbograms
// (65,535 minus the 8-byte UDP header); over IPv4 the limit is 20 bytes
// lower, which the kernel enforces with EMSGSIZE.
const MaxDatagram = 65527

// RawToAddrPort converts the address recvmmsg or recvmsg wrote into a message's name
// buffer, as SockaddrToAddrPort does, without allocating (except for a
// scoped IPv6 address).
func RawToAddrPort(rsa *unix.RawSockaddrAny) netip.AddrPort { return rawToAddrPort(rsa) }

// PutAddrPort writes ap into rsa as the socket of family (AF_INET or
// AF_INET6) expects a destination, and returns the length to pass as the
// name's length; an IPv4 peer of an AF_INET6 socket becomes a v4-mapped
// address. It returns 0 when ap cannot be reached from such a socket (an
// IPv6 peer for an AF_INET socket, or an invalid ap).
func PutAddrPort(rsa *unix.RawSockaddrAny, family int, ap netip.AddrPort) uint32 {
	ip := ap.Addr()
	if !ip.IsValid() {
		return 0
	}
	port := ap.Port()
	switch {
	case family == unix.AF_INET && ip.Unmap().Is4():
		sa := (*unix.RawSockaddrInet4)(unsafe.Pointer(rsa))
		*sa = unix.RawSockaddrInet4{Family: unix.AF_INET, Addr: ip.Unmap().As4()}
		putPort(&sa.Port, port)
		return unix.SizeofSockaddrInet4
	case family == unix.AF_INET6:
		sa := (*unix.RawSockaddrInet6)(unsafe.Pointer(rsa))
		*sa = unix.RawSockaddrInet6{Family: unix.AF_INET6, Addr: ip.As16()}
		if z := ip.Zone(); z != "" {
			sa.Scope_id, _ = zoneIndex(z) // numeric for peers the kernel named
		}
		putPort(&sa.Port, port)
		return unix.SizeofSockaddrInet6
	}
	return 0
}

// putPort stores port in network byte order.
func putPort(dst *uint16, port uint16) {
	b := (*[2]byte)(unsafe.Pointer(dst))
	b[0], b[1] = byte(port>>8), byte(port)
}
