//go:build linux && !evloop_portable

package socket

import (
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Mmsghdr is the kernel's struct mmsghdr: one message of a recvmmsg(2) or
// sendmmsg(2) batch and, after the call, the bytes it carried. Its pointers
// (the name, the iovec) must point into memory the caller keeps alive and
// in place for the call: heap memory the engine owns.
type Mmsghdr struct {
	Hdr unix.Msghdr
	Len uint32
	_   [unsafe.Sizeof(uintptr(0)) - 4]byte
}

// MaxDatagram is the largest UDP payload over IPv6 without jumbograms
// (65,535 minus the 8-byte UDP header); over IPv4 the limit is 20 bytes
// lower, which the kernel enforces with EMSGSIZE.
const MaxDatagram = 65527

// Recvmmsg receives up to len(msgs) datagrams without blocking and returns
// how many it filled; each message's Len, Hdr.Flags (MSG_TRUNC) and
// Hdr.Namelen say what arrived. msgs is not retained.
func Recvmmsg(fd int, msgs []Mmsghdr) (int, error) {
	return RecvmmsgFunc(fd, msgs)
}

// Sendmmsg sends up to len(msgs) datagrams without blocking and returns how
// many the kernel took; an error means the first one failed. msgs is not
// retained.
func Sendmmsg(fd int, msgs []Mmsghdr) (int, error) {
	return SendmmsgFunc(fd, msgs)
}

func rawRecvmmsg(fd int, msgs []Mmsghdr) (int, error) {
	if len(msgs) == 0 {
		return 0, nil
	}
	n, _, errno := unix.RawSyscall6(unix.SYS_RECVMMSG, uintptr(fd), uintptr(unsafe.Pointer(&msgs[0])),
		uintptr(len(msgs)), unix.MSG_DONTWAIT, 0, 0)
	if errno != 0 {
		return -1, errno
	}
	return int(n), nil
}

func rawSendmmsg(fd int, msgs []Mmsghdr) (int, error) {
	if len(msgs) == 0 {
		return 0, nil
	}
	n, _, errno := unix.RawSyscall6(unix.SYS_SENDMMSG, uintptr(fd), uintptr(unsafe.Pointer(&msgs[0])),
		uintptr(len(msgs)), unix.MSG_DONTWAIT|unix.MSG_NOSIGNAL, 0, 0)
	if errno != 0 {
		return -1, errno
	}
	return int(n), nil
}

// RawToAddrPort converts the address recvmmsg wrote into a message's name
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
