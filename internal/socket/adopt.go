//go:build linux && !evloop_portable

package socket

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// Adopt makes a Listener of a socket opened elsewhere (a parent process's,
// systemd's): a listening TCP or Unix stream socket, or a bound UDP socket.
// It takes fd over: on success the Listener owns it (set non-blocking), on
// failure the caller still does. An adopted Unix socket's file is never
// removed by Close: the process that created it, or the next one it is
// handed to, decides. Errors wrap ErrBadNetwork for other kinds of socket,
// and are *os.SyscallError values for a descriptor that is not a socket.
func Adopt(fd int) (*Listener, error) {
	in, err := Inspect(fd)
	if err != nil {
		return nil, err
	}
	var network string
	switch {
	case in.Type == unix.SOCK_STREAM && (in.Domain == unix.AF_INET || in.Domain == unix.AF_INET6):
		network = "tcp"
	case in.Type == unix.SOCK_STREAM && in.Domain == unix.AF_UNIX:
		network = "unix"
	case in.Type == unix.SOCK_DGRAM && (in.Domain == unix.AF_INET || in.Domain == unix.AF_INET6):
		network = "udp"
	default:
		return nil, fmt.Errorf("%w: a socket of domain %d and type %d (want a tcp or unix stream listener, or a udp socket)",
			ErrBadNetwork, in.Domain, in.Type)
	}
	if in.Type == unix.SOCK_STREAM && !in.Listening {
		return nil, fmt.Errorf("%w: a %s socket that does not listen", ErrBadNetwork, network)
	}
	addr, err := LocalAddr(fd, network)
	if err != nil {
		return nil, err
	}
	if addr == nil {
		return nil, errors.Join(ErrBadNetwork, fmt.Errorf("a %s socket without an address", network))
	}
	if err := SetNonblock(fd); err != nil {
		return nil, err
	}
	l := &Listener{FD: fd, Network: network, Addr: addr}
	l.keepFile.Store(true)
	return l, nil
}

// KeepFile makes Close leave the Unix socket file in place: the socket has
// been handed to another process, which serves the path after this
// listener is closed. Safe from any goroutine.
func (l *Listener) KeepFile() { l.keepFile.Store(true) }
