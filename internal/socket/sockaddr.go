//go:build linux && !evloop_portable

package socket

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// The engine keeps a netip.AddrPort per connection (24 bytes, no pointer for
// zone-less addresses, so the GC never scans it) and builds a net.Addr only
// when the handler asks. All functions here are safe from any goroutine.

// SockaddrToAddrPort converts an inet socket address without allocating.
// IPv4-mapped IPv6 addresses (a dual-stack listener's IPv4 peers) come back
// as plain IPv4. A non-zero IPv6 scope is kept as a numeric zone ("%2"), which
// net.Dial and net.Listen accept; only that case allocates, because looking up
// the interface name would cost a netlink round trip per accept. Unix and nil
// addresses give the invalid AddrPort.
func SockaddrToAddrPort(sa unix.Sockaddr) netip.AddrPort {
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port))
	case *unix.SockaddrInet6:
		return inet6AddrPort(sa.Addr, uint16(sa.Port), sa.ZoneId)
	}
	return netip.AddrPort{}
}

// inet6AddrPort builds the AddrPort of an AF_INET6 address: a v4-mapped one
// as plain IPv4, a non-zero scope as a numeric zone.
func inet6AddrPort(addr [16]byte, port uint16, scope uint32) netip.AddrPort {
	ip := netip.AddrFrom16(addr)
	if ip.Is4In6() {
		return netip.AddrPortFrom(ip.Unmap(), port)
	}
	if scope != 0 {
		ip = ip.WithZone(strconv.FormatUint(uint64(scope), 10))
	}
	return netip.AddrPortFrom(ip, port)
}

// AddrPortToNetAddr returns a new *net.TCPAddr for tcp, tcp4 and tcp6, a new
// *net.UDPAddr for udp, udp4 and udp6, and nil for any other network or an
// invalid ap. The result is owned by the caller.
func AddrPortToNetAddr(network string, ap netip.AddrPort) net.Addr {
	if !ap.IsValid() {
		return nil
	}
	switch network {
	case "tcp", "tcp4", "tcp6":
		return net.TCPAddrFromAddrPort(ap)
	case "udp", "udp4", "udp6":
		return net.UDPAddrFromAddrPort(ap)
	}
	return nil
}

// SockaddrToNetAddr converts a kernel socket address to a new net.Addr:
// *net.TCPAddr or *net.UDPAddr (chosen by network) for inet addresses,
// *net.UnixAddr for unix ones (an unnamed peer shows as "@", as in package
// net), nil for nil or an unknown network.
func SockaddrToNetAddr(network string, sa unix.Sockaddr) net.Addr {
	if u, ok := sa.(*unix.SockaddrUnix); ok {
		return &net.UnixAddr{Name: u.Name, Net: "unix"}
	}
	return AddrPortToNetAddr(network, SockaddrToAddrPort(sa))
}

// NetAddrToSockaddr converts a *net.TCPAddr, *net.UDPAddr or *net.UnixAddr to
// a new kernel socket address. IPv4 and IPv4-mapped IPv6 addresses give a
// *unix.SockaddrInet4, a nil IP gives 0.0.0.0, other IPv6 addresses a
// *unix.SockaddrInet6 whose zone may be an interface name or index. Errors
// wrap ErrBadAddress.
func NetAddrToSockaddr(a net.Addr) (unix.Sockaddr, error) {
	switch a := a.(type) {
	case *net.TCPAddr:
		if a != nil {
			return inetSockaddr(a.IP, a.Port, a.Zone, 0)
		}
	case *net.UDPAddr:
		if a != nil {
			return inetSockaddr(a.IP, a.Port, a.Zone, 0)
		}
	case *net.UnixAddr:
		if a != nil {
			if p := unixPathProblem(a.Name); p != "" {
				return nil, fmt.Errorf("%w %q: %s", ErrBadAddress, a.Name, p)
			}
			return &unix.SockaddrUnix{Name: a.Name}, nil
		}
	}
	return nil, fmt.Errorf("%w: cannot convert %T %v", ErrBadAddress, a, a)
}

// inetSockaddr builds the sockaddr for family, or picks the family from ip
// when family is 0. An AF_INET6 socket needs IPv4 addresses in mapped form.
func inetSockaddr(ip net.IP, port int, zone string, family int) (unix.Sockaddr, error) {
	if port < 0 || port > 0xffff {
		return nil, fmt.Errorf("%w: port %d is out of range 0..65535", ErrBadAddress, port)
	}
	if ip != nil && len(ip) != net.IPv4len && len(ip) != net.IPv6len {
		return nil, fmt.Errorf("%w: IP of length %d", ErrBadAddress, len(ip))
	}
	if family == 0 {
		family = unix.AF_INET6
		if ip == nil || ip.To4() != nil {
			family = unix.AF_INET
		}
	}
	if family == unix.AF_INET {
		sa := &unix.SockaddrInet4{Port: port}
		if ip != nil {
			ip4 := ip.To4()
			if ip4 == nil {
				return nil, fmt.Errorf("%w: %v is not an IPv4 address", ErrBadAddress, ip)
			}
			copy(sa.Addr[:], ip4)
		}
		return sa, nil
	}
	sa := &unix.SockaddrInet6{Port: port}
	if ip != nil {
		copy(sa.Addr[:], ip.To16())
	}
	if zone != "" {
		id, err := zoneIndex(zone)
		if err != nil {
			return nil, err
		}
		sa.ZoneId = id
	}
	return sa, nil
}

func zoneIndex(zone string) (uint32, error) {
	if n, err := strconv.ParseUint(zone, 10, 32); err == nil {
		return uint32(n), nil
	}
	ifi, err := net.InterfaceByName(zone)
	if err != nil {
		return 0, fmt.Errorf("%w: zone %q: %w", ErrBadAddress, zone, err)
	}
	return uint32(ifi.Index), nil
}

// LocalAddr returns the address fd is bound to, as SockaddrToNetAddr builds
// it for network.
func LocalAddr(fd int, network string) (net.Addr, error) {
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return nil, os.NewSyscallError("getsockname", err)
	}
	return SockaddrToNetAddr(network, sa), nil
}

// PeerAddr returns the address of fd's peer, as SockaddrToNetAddr builds it
// for network.
func PeerAddr(fd int, network string) (net.Addr, error) {
	sa, err := unix.Getpeername(fd)
	if err != nil {
		return nil, os.NewSyscallError("getpeername", err)
	}
	return SockaddrToNetAddr(network, sa), nil
}
