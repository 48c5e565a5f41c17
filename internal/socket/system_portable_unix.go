//go:build (evloop_portable || !(linux || darwin || dragonfly || freebsd || netbsd || openbsd)) && unix

package socket

import (
	"net"
	"os"
	"syscall"

	"github.com/evloop/evloop/internal/netfd"
	"golang.org/x/sys/unix"
)

// DupSystem returns an emulated descriptor for a duplicate of the system
// descriptor raw, which stays the caller's: a listener for a listening TCP
// or unix socket, a stream for a connected one, a datagram socket for UDP.
// Anything else (a unix datagram socket, a pipe) gets a descriptor that
// only answers Inspect, as natively: a datagram socket, or ENOTSOCK.
func DupSystem(raw uintptr) (int, error) {
	fd, err := unix.FcntlInt(raw, unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return -1, os.NewSyscallError("fcntl", err)
	}
	f := os.NewFile(uintptr(fd), "dup")
	typ, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TYPE)
	if err != nil {
		return netfd.Foreign(f, netfd.Info{}, err), nil
	}
	listening, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ACCEPTCONN)
	if err != nil {
		return netfd.Foreign(f, netfd.Info{}, err), nil
	}
	var efd int
	switch {
	case typ == unix.SOCK_DGRAM:
		pc, err := net.FilePacketConn(f)
		if err != nil {
			return netfd.Foreign(f, netfd.Info{Datagram: true}, nil), nil
		}
		uc, ok := pc.(*net.UDPConn)
		if !ok {
			return netfd.Foreign(pc, netfd.Info{Datagram: true, Local: pc.LocalAddr()}, nil), f.Close()
		}
		efd = netfd.ListenPacket(uc)
	case typ == unix.SOCK_STREAM && listening != 0:
		ln, err := net.FileListener(f)
		if err != nil {
			_ = f.Close()
			return -1, err
		}
		efd = netfd.Listen(ln)
	case typ == unix.SOCK_STREAM:
		c, err := net.FileConn(f)
		if err != nil {
			_ = f.Close()
			return -1, err
		}
		efd = netfd.Adopt(c)
	default:
		return netfd.Foreign(f, netfd.Info{}, nil), nil
	}
	// net's File functions took duplicates of their own.
	return efd, f.Close()
}

// Import returns an emulated descriptor for the system socket fd (see
// DupSystem); fd stays the caller's until ImportDone.
func Import(fd int) (int, error) {
	if fd < 0 {
		return -1, os.NewSyscallError("fcntl", syscall.EBADF)
	}
	return DupSystem(uintptr(fd))
}

// ImportFailed closes the emulated descriptor Import returned; the system
// one stays the caller's.
func ImportFailed(efd int) { _ = Close(efd) }

// ImportDone closes the system descriptor fd once the engine serves the
// duplicate Import made of it.
func ImportDone(fd int) { _ = unix.Close(fd) }

// File returns an *os.File holding a system descriptor of its own for the
// listening or UDP socket fd refers to (for exec.Cmd.ExtraFiles).
func File(fd int, name string) (*os.File, error) {
	var s syscall.Conn
	if ln, err := netfd.Listener(fd); err == nil {
		s, _ = ln.(syscall.Conn)
	} else if pc, err := netfd.PacketConn(fd); err == nil {
		s = pc
	}
	if s == nil {
		return nil, os.NewSyscallError("fcntl", syscall.EBADF)
	}
	rc, err := s.SyscallConn()
	if err != nil {
		return nil, err
	}
	nfd, derr := -1, error(nil)
	if err := rc.Control(func(raw uintptr) { nfd, derr = unix.FcntlInt(raw, unix.F_DUPFD_CLOEXEC, 0) }); err != nil {
		return nil, err
	}
	if derr != nil {
		return nil, os.NewSyscallError("fcntl", derr)
	}
	return os.NewFile(uintptr(nfd), name), nil
}

// CloseOnExec marks the system descriptor fd close-on-exec.
func CloseOnExec(fd int) { unix.CloseOnExec(fd) }

// reusePortControl sets SO_REUSEPORT on a socket before it binds.
func reusePortControl() (func(network, address string, c syscall.RawConn) error, error) {
	return func(_, _ string, c syscall.RawConn) error {
		var serr error
		if err := c.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
		}); err != nil {
			return err
		}
		if serr != nil {
			return os.NewSyscallError("setsockopt", serr)
		}
		return nil
	}, nil
}

// PortSharing returns nil: Listen's ReusePort lets several sockets bind one
// address. Safe from any goroutine.
func PortSharing() error { return nil }
