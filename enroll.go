//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows || evloop_portable

package evloop

import (
	"fmt"
	"net"
	"syscall"

	"github.com/evloop/evloop/internal/socket"
)

// Enroll hands an existing connection to the engine: nc must be a
// connected *net.TCPConn or *net.UnixConn (a stream socket). The engine
// takes a descriptor of its own for the socket (a close-on-exec
// duplicate), serves it like an accepted connection on a loop chosen by
// WithLoadBalancing, and closes nc; it returns once the handler's OnOpen
// has run. nc must not be in use meanwhile, and bytes nc had already read
// into a buffer of its own (a bufio.Reader around it) stay there.
//
// On error nc is left as it was and stays the caller's. Errors:
// ErrBadSocket (another type, a datagram or listening socket, one not
// connected), ErrEngineStopped, ErrOnLoop (see Dial: Enroll blocks too),
// or what fcntl or epoll_ctl returned. Any goroutine but the engine's own.
func (eng Engine) Enroll(nc net.Conn) (Conn, error) {
	e := eng.e
	if e == nil {
		return nil, ErrEngineStopped
	}
	if e.onOwnGoroutine() {
		return nil, ErrOnLoop
	}
	var sc syscall.Conn
	switch nc := nc.(type) {
	case *net.TCPConn:
		sc = nc
	case *net.UnixConn:
		sc = nc
	default:
		return nil, fmt.Errorf("%w: %T is not a *net.TCPConn or *net.UnixConn", ErrBadSocket, nc)
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadSocket, err)
	}
	fd, derr := -1, error(nil)
	if err := rc.Control(func(s uintptr) { fd, derr = socket.DupSystem(s) }); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadSocket, err) // nc is closed
	}
	if derr != nil {
		return nil, derr
	}
	c, err := eng.serveFD(fd)
	if err != nil {
		_ = socket.Close(fd)
		return nil, err
	}
	_ = nc.Close() // the socket lives on in fd
	return c, nil
}

// EnrollFD is Enroll for a descriptor: fd must be a connected TCP or unix
// stream socket. On success the engine owns fd: it makes it non-blocking,
// serves it and closes it when the connection closes. On error fd is not
// closed and stays the caller's. Errors are as for Enroll. Any goroutine
// but the engine's own.
func (eng Engine) EnrollFD(fd int) (Conn, error) {
	if eng.e == nil {
		return nil, ErrEngineStopped
	}
	if eng.e.onOwnGoroutine() {
		return nil, ErrOnLoop
	}
	// The portable backend serves a duplicate of its own; natively efd is
	// fd.
	efd, err := socket.Import(fd)
	if err != nil {
		return nil, fmt.Errorf("%w: descriptor %d: %w", ErrBadSocket, fd, err)
	}
	c, err := eng.serveFD(efd)
	if err != nil {
		socket.ImportFailed(efd)
		return nil, err
	}
	socket.ImportDone(fd)
	return c, nil
}

// serveFD serves the engine's descriptor fd as Enroll describes.
func (eng Engine) serveFD(fd int) (Conn, error) {
	e := eng.e
	if e == nil {
		return nil, ErrEngineStopped
	}
	if e.onOwnGoroutine() {
		return nil, ErrOnLoop
	}
	if e.stopped.Load() {
		return nil, ErrEngineStopped
	}
	network, peer, err := streamSocket(fd)
	if err != nil {
		return nil, err
	}
	if err := socket.SetNonblock(fd); err != nil {
		return nil, err
	}
	d := newDialing(network, "")
	d.enroll, d.fd = true, fd
	d.result = make(chan dialResult, 1)
	if err := handDial(e.pickDial(peer), d); err != nil {
		return nil, err
	}
	r := <-d.result
	if r.err != nil {
		return nil, r.err
	}
	return r.c, nil
}

// streamSocket checks that fd is a connected TCP or unix stream socket and
// returns its network and peer.
func streamSocket(fd int) (network string, peer net.Addr, err error) {
	in, err := socket.Inspect(fd)
	switch {
	case err != nil:
		return "", nil, fmt.Errorf("%w: descriptor %d: %w", ErrBadSocket, fd, err)
	case in.Datagram():
		return "", nil, fmt.Errorf("%w: descriptor %d is a datagram socket", ErrBadSocket, fd)
	case !in.Stream():
		return "", nil, fmt.Errorf("%w: descriptor %d is not a stream socket (type %d)", ErrBadSocket, fd, in.Type)
	case in.Listening:
		return "", nil, fmt.Errorf("%w: descriptor %d is a listening socket", ErrBadSocket, fd)
	}
	if network = in.Network(); network == "" {
		return "", nil, fmt.Errorf("%w: descriptor %d is neither TCP nor unix (family %d, protocol %d)",
			ErrBadSocket, fd, in.Domain, in.Protocol)
	}
	if peer, err = socket.PeerAddr(fd, network); err != nil {
		return "", nil, fmt.Errorf("%w: descriptor %d is not connected: %w", ErrBadSocket, fd, err)
	}
	return network, peer, nil
}
