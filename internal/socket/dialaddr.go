package socket

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
)

// DialAddrs returns the addresses to try, in order, for a dial to address
// on network, as net.Dial takes them: "host:port" for tcp, tcp4 and tcp6,
// a path (or, on Linux, "@name", an abstract socket) for unix. It never blocks: when
// the host is a name, the port a service name or an IPv6 zone an
// interface name, it returns ok false and no error, and ResolveDial must
// look them up. An empty host, as in ":80", is the unspecified address,
// which Linux connects to the local system. The result is a *net.TCPAddr
// or a *net.UnixAddr per address. Errors wrap ErrBadNetwork or
// ErrBadAddress. Safe from any goroutine.
func DialAddrs(network, address string) (addrs []net.Addr, ok bool, err error) {
	switch network {
	case "unix":
		if p := unixPathProblem(address); p != "" {
			return nil, false, fmt.Errorf("%w %q: %s", ErrBadAddress, address, p)
		}
		return []net.Addr{&net.UnixAddr{Name: address, Net: "unix"}}, true, nil
	case "tcp", "tcp4", "tcp6":
	default:
		return nil, false, fmt.Errorf("%w %q", ErrBadNetwork, network)
	}
	host, portStr, err := splitDialAddr(address)
	if err != nil {
		return nil, false, err
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		if _, numeric := strconv.Atoi(portStr); numeric == nil {
			return nil, false, fmt.Errorf("%w %q: port %s is out of range 0..65535", ErrBadAddress, address, portStr)
		}
		return nil, false, nil // a service name
	}
	var ip netip.Addr
	switch {
	case host == "" && network == "tcp6":
		ip = netip.IPv6Unspecified()
	case host == "":
		ip = netip.IPv4Unspecified()
	default:
		if ip, err = netip.ParseAddr(host); err != nil {
			return nil, false, nil // a host name
		}
		if z := ip.Zone(); z != "" {
			if _, err := strconv.ParseUint(z, 10, 32); err != nil {
				return nil, false, nil // an interface name
			}
		}
	}
	a, err := suitable(network, address, []netip.Addr{ip}, uint16(port))
	return a, err == nil, err
}

// ResolveDial is DialAddrs with the look-ups it leaves out: host names
// through net.DefaultResolver (in its order, keeping the addresses of
// network's family), service names, interface names of IPv6 zones. It may
// block until ctx is done. A failed look-up returns the resolver's error
// (a *net.DNSError, say). Safe from any goroutine.
func ResolveDial(ctx context.Context, network, address string) ([]net.Addr, error) {
	addrs, ok, err := DialAddrs(network, address)
	if err != nil || ok {
		return addrs, err
	}
	host, portStr, err := splitDialAddr(address)
	if err != nil {
		return nil, err
	}
	r := net.DefaultResolver
	port, err := r.LookupPort(ctx, "tcp", portStr)
	if err != nil {
		return nil, err
	}
	var ips []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		if z := ip.Zone(); z != "" {
			if _, err := strconv.ParseUint(z, 10, 32); err != nil {
				ifi, err := net.InterfaceByName(z)
				if err != nil {
					return nil, fmt.Errorf("%w %q: zone: %w", ErrBadAddress, address, err)
				}
				ip = ip.WithZone(strconv.Itoa(ifi.Index))
			}
		}
		ips = []netip.Addr{ip}
	} else if host == "" {
		ips = []netip.Addr{netip.IPv4Unspecified()}
		if network == "tcp6" {
			ips = []netip.Addr{netip.IPv6Unspecified()}
		}
	} else {
		family := "ip"
		switch network {
		case "tcp4":
			family = "ip4"
		case "tcp6":
			family = "ip6"
		}
		if ips, err = LookupNetIPFunc(ctx, family, host); err != nil {
			return nil, err
		}
	}
	return suitable(network, address, ips, uint16(port))
}

// splitDialAddr splits host and port, with the same messages as
// ParseAddr for what cannot be dialed.
func splitDialAddr(address string) (host, port string, err error) {
	if address == "" {
		return "", "", fmt.Errorf("%w %q: empty address", ErrBadAddress, address)
	}
	host, port, err = net.SplitHostPort(address)
	if err != nil {
		return "", "", fmt.Errorf("%w %q: %s", ErrBadAddress, address, splitProblem(address, err))
	}
	if port == "" {
		return "", "", fmt.Errorf("%w %q: missing port", ErrBadAddress, address)
	}
	return host, port, nil
}

// suitable keeps the IPs network can reach (tcp4: IPv4, tcp6: IPv6, tcp:
// both), as TCP addresses with port.
func suitable(network, address string, ips []netip.Addr, port uint16) ([]net.Addr, error) {
	var addrs []net.Addr
	for _, ip := range ips {
		if ip.Is4In6() {
			ip = ip.Unmap()
		}
		if network == "tcp4" && !ip.Is4() || network == "tcp6" && !ip.Is6() {
			continue
		}
		addrs = append(addrs, net.TCPAddrFromAddrPort(netip.AddrPortFrom(ip, port)))
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("%w %q: no suitable address for %s", ErrBadAddress, address, network)
	}
	return addrs, nil
}
