//go:build linux && !evloop_portable

package socket

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// endpoint is a resolved listen address: the socket family, the address to
// bind, and whether an AF_INET6 socket should also accept IPv4 (dual stack).
type endpoint struct {
	family int
	sa     unix.Sockaddr
	dual   bool
	port   int    // inet only, for the IPv4 fallback of a dual-stack socket
	path   string // unix only
	addr   net.Addr
}

// resolve follows package net's choice of family: "tcp4"/"udp4" are IPv4,
// "tcp6"/"udp6" IPv6 only, and plain "tcp"/"udp" pick the family of the IP,
// with a wildcard host becoming a dual-stack IPv6 socket.
func resolve(network, address string) (endpoint, error) {
	var (
		ip   net.IP
		port int
		zone string
		addr net.Addr
	)
	switch network {
	case "tcp", "tcp4", "tcp6":
		a, err := net.ResolveTCPAddr(network, address)
		if err != nil {
			return endpoint{}, fmt.Errorf("%w: %w", ErrBadAddress, err)
		}
		ip, port, zone, addr = a.IP, a.Port, a.Zone, a
	case "udp", "udp4", "udp6":
		a, err := net.ResolveUDPAddr(network, address)
		if err != nil {
			return endpoint{}, fmt.Errorf("%w: %w", ErrBadAddress, err)
		}
		ip, port, zone, addr = a.IP, a.Port, a.Zone, a
	case "unix":
		a, err := net.ResolveUnixAddr(network, address)
		if err != nil {
			return endpoint{}, fmt.Errorf("%w: %w", ErrBadAddress, err)
		}
		sa, err := NetAddrToSockaddr(a)
		if err != nil {
			return endpoint{}, err
		}
		return endpoint{family: unix.AF_UNIX, sa: sa, path: address, addr: a}, nil
	default:
		return endpoint{}, fmt.Errorf("%w %q", ErrBadNetwork, network)
	}
	ep := endpoint{family: unix.AF_INET6, port: port, addr: addr}
	switch {
	case strings.HasSuffix(network, "4"):
		ep.family = unix.AF_INET
	case strings.HasSuffix(network, "6"):
	case ip == nil:
		ep.dual = true
	case ip.To4() != nil:
		ep.family = unix.AF_INET
	default:
		ep.dual = ip.IsUnspecified()
	}
	sa, err := inetSockaddr(ip, port, zone, ep.family)
	if err != nil {
		return endpoint{}, err
	}
	ep.sa = sa
	return ep, nil
}

func isAbstract(path string) bool {
	return strings.HasPrefix(path, "@")
}

// clearStale removes a unix socket file nobody listens on, so a server that
// crashed can restart. Only a socket whose connect is refused counts as stale;
// a live listener is reported as EADDRINUSE, and anything else (a regular
// file, a socket we may not connect to) is left for bind to reject.
func clearStale(path string) error {
	if isAbstract(path) {
		return nil
	}
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode().Type() != fs.ModeSocket {
		return nil
	}
	fd, err := SocketFunc(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return os.NewSyscallError("socket", err)
	}
	err = unix.Connect(fd, &unix.SockaddrUnix{Name: path})
	if cerr := CloseFunc(fd); cerr != nil {
		return os.NewSyscallError("close", cerr)
	}
	switch {
	case err == nil, errors.Is(err, unix.EAGAIN), errors.Is(err, unix.EINPROGRESS):
		// Connected, or queued behind a full backlog: someone is listening.
		// Report what bind(2) itself says of a path that exists.
		return os.NewSyscallError("bind", unix.EADDRINUSE)
	case errors.Is(err, unix.ECONNREFUSED):
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}
