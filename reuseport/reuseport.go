package reuseport

import (
	"context"
	"fmt"
	"net"
)

// Listen announces on a local stream address with SO_REUSEPORT and
// SO_REUSEADDR set, like net.Listen. network is "tcp", "tcp4", "tcp6" or
// "unix"; for "unix" it is exactly net.Listen, since sharing a port only
// means something for inet sockets and a path cannot be bound twice. Binding
// a port that is already held by a socket without SO_REUSEPORT still fails
// with EADDRINUSE. Errors wrap ErrBadNetwork, ErrUnsupported or come from
// package net.
func Listen(network, address string) (net.Listener, error) {
	switch network {
	case "tcp", "tcp4", "tcp6":
		lc := net.ListenConfig{Control: Control}
		return lc.Listen(context.Background(), network, address)
	case "unix":
		return net.Listen(network, address)
	}
	return nil, fmt.Errorf("%w %q: Listen takes tcp, tcp4, tcp6 or unix", ErrBadNetwork, network)
}

// ListenPacket opens a UDP socket with SO_REUSEPORT and SO_REUSEADDR set,
// like net.ListenPacket. network is "udp", "udp4" or "udp6". Errors wrap
// ErrBadNetwork, ErrUnsupported or come from package net.
func ListenPacket(network, address string) (net.PacketConn, error) {
	switch network {
	case "udp", "udp4", "udp6":
		lc := net.ListenConfig{Control: Control}
		return lc.ListenPacket(context.Background(), network, address)
	}
	return nil, fmt.Errorf("%w %q: ListenPacket takes udp, udp4 or udp6", ErrBadNetwork, network)
}
