//go:build (evloop_portable || !(linux || darwin || dragonfly || freebsd || netbsd || openbsd)) && unix

package socket

import (
	"fmt"
	"net"
	"os"
	"syscall"

	"github.com/evloop/evloop/internal/netfd"
	"golang.org/x/sys/unix"
)

// DupSystem returns an emulated descriptor for a duplicate of the system
// socket raw (a listening TCP or unix socket, a connected stream, or a UDP
// socket); raw stays the caller's.
func DupSystem(raw uintptr) (int, error) {
	fd, err := unix.FcntlInt(raw, unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return -1, os.NewSyscallError("fcntl", err)
	}
	f := os.NewFile(uintptr(fd), "dup")
	defer f.Close() // net's File functions take duplicates of their own
	typ, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TYPE)
	if err != nil {
		return -1, os.NewSyscallError("getsockopt", err)
	}
	switch typ {
	case unix.SOCK_DGRAM:
		pc, err := net.FilePacketConn(f)
		if err != nil {
			return -1, err
		}
		uc, ok := pc.(*net.UDPConn)
		if !ok {
			_ = pc.Close()
			return -1, fmt.Errorf("%w: a %T", ErrBadNetwork, pc)
		}
		return netfd.ListenPacket(uc), nil
	case unix.SOCK_STREAM:
		listening, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ACCEPTCONN)
		if err != nil {
			return -1, os.NewSyscallError("getsockopt", err)
		}
		if listening != 0 {
			ln, err := net.FileListener(f)
			if err != nil {
				return -1, err
			}
			return netfd.Listen(ln, 0), nil
		}
		c, err := net.FileConn(f)
		if err != nil {
			return -1, err
		}
		return netfd.Adopt(c), nil
	}
	return -1, fmt.Errorf("%w: a socket of type %d", ErrBadNetwork, typ)
}

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
