//go:build (linux || darwin || dragonfly || freebsd || netbsd || openbsd) && !evloop_portable

package socket

import (
	"errors"
	"fmt"
	"net"
	"os"

	"golang.org/x/sys/unix"
)

// Connect creates a non-blocking, close-on-exec stream socket of sa's
// family and starts connecting it to sa. It returns the socket and:
//   - nil: connected at once (the usual case for unix sockets);
//   - unix.EINPROGRESS, unwrapped: the connection is under way; wait until
//     the socket is writable, then ask ConnectResult;
//   - any other error, an *os.SyscallError naming socket or connect: no
//     descriptor is left open and fd is -1.
//
// An interrupted connect (EINTR) goes on in the kernel, as connect(2)
// documents, so it is reported as EINPROGRESS. A unix socket whose
// listener's backlog is full fails with EAGAIN, as in package net. Safe
// from any goroutine.
func Connect(sa unix.Sockaddr) (fd int, err error) {
	family, err := familyOf(sa)
	if err != nil {
		return -1, err
	}
	fd, err = openSocket(family, unix.SOCK_STREAM)
	if err != nil {
		return -1, err
	}
	err = ConnectFunc(fd, sa)
	switch {
	case err == nil:
		return fd, nil
	case errors.Is(err, unix.EINPROGRESS), errors.Is(err, unix.EINTR):
		return fd, unix.EINPROGRESS
	}
	_ = CloseFunc(fd)
	return -1, os.NewSyscallError("connect", err)
}

// ConnectAddr is Connect to a *net.TCPAddr or *net.UnixAddr, converted
// as NetAddrToSockaddr does. Safe from any goroutine.
func ConnectAddr(a net.Addr) (fd int, err error) {
	sa, err := NetAddrToSockaddr(a)
	if err != nil {
		return -1, err
	}
	return Connect(sa)
}

// ConnectResult returns the outcome of a connect that was in progress,
// once its socket reported writability or an error: nil when it is
// connected, otherwise the pending error (SO_ERROR) as an
// *os.SyscallError naming connect, e.g. ECONNREFUSED or ETIMEDOUT.
func ConnectResult(fd int) error { return pendingError(fd, "connect") }

func familyOf(sa unix.Sockaddr) (int, error) {
	if domain := domainOf(sa); domain != 0 {
		return domain, nil
	}
	return 0, fmt.Errorf("%w: cannot connect to a %T", ErrBadAddress, sa)
}

// domainOf is the address family of sa (AF_INET, AF_INET6 or AF_UNIX), or
// 0 for any other.
func domainOf(sa unix.Sockaddr) int {
	switch sa.(type) {
	case *unix.SockaddrInet4:
		return unix.AF_INET
	case *unix.SockaddrInet6:
		return unix.AF_INET6
	case *unix.SockaddrUnix:
		return unix.AF_UNIX
	}
	return 0
}

// Info is what the kernel says about a socket: its domain (AF_INET, ...),
// type (SOCK_STREAM, ...) and protocol, and whether it listens.
type Info struct {
	Domain, Type, Protocol int
	Listening              bool
}

// Stream reports whether the socket is a stream socket.
func (in Info) Stream() bool { return in.Type == unix.SOCK_STREAM }

// Datagram reports whether the socket is a datagram socket.
func (in Info) Datagram() bool { return in.Type == unix.SOCK_DGRAM }

// Network names the stream network the socket serves: "tcp" (TCP over
// IPv4 or IPv6), "unix", or "" for anything else.
func (in Info) Network() string {
	switch {
	case in.Domain == unix.AF_UNIX:
		return "unix"
	case (in.Domain == unix.AF_INET || in.Domain == unix.AF_INET6) && in.Protocol == unix.IPPROTO_TCP:
		return "tcp"
	}
	return ""
}

// Inspect asks the kernel what kind of socket fd is. A descriptor that is
// not a socket fails with an *os.SyscallError wrapping ENOTSOCK (EBADF for
// one that is not open). Safe from any goroutine.
func Inspect(fd int) (Info, error) {
	typ, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TYPE)
	if err != nil {
		return Info{}, os.NewSyscallError("getsockopt", err)
	}
	in := Info{Type: typ}
	if in.Domain, in.Protocol, err = domainAndProtocol(fd, typ); err != nil {
		return Info{}, err
	}
	listening, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ACCEPTCONN)
	if err != nil {
		return Info{}, os.NewSyscallError("getsockopt", err)
	}
	in.Listening = listening != 0
	return in, nil
}

// Dup returns a new close-on-exec descriptor for the socket fd refers to.
// Safe from any goroutine.
func Dup(fd int) (int, error) {
	nfd, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return -1, os.NewSyscallError("fcntl", err)
	}
	return nfd, nil
}

// SetNonblock puts fd in non-blocking mode. Safe from any goroutine.
func SetNonblock(fd int) error {
	if err := unix.SetNonblock(fd, true); err != nil {
		return os.NewSyscallError("fcntl", err)
	}
	return nil
}
