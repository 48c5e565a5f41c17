//go:build (linux || darwin || dragonfly || freebsd || netbsd || openbsd) && !evloop_portable

package socket

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// Options tune the socket Listen creates. The zero value is a plain listener
// with kernel defaults.
type Options struct {
	// ReuseAddr sets SO_REUSEADDR on inet sockets so a restarted server can
	// bind while old connections sit in TIME_WAIT. Ignored for unix.
	ReuseAddr bool
	// ReusePort sets SO_REUSEPORT (SO_REUSEPORT_LB on FreeBSD) on inet
	// sockets so several listeners (one per event loop) share the address
	// and, on Linux, FreeBSD and DragonFly, the kernel balances between
	// them. Ignored for unix.
	ReusePort bool
	// Backlog is the listen(2) queue length for stream sockets. 0 reads
	// the system's limit (/proc/sys/net/core/somaxconn on Linux, a sysctl
	// on darwin and the BSDs but NetBSD), falling back to unix.SOMAXCONN;
	// the kernel caps any value at its limit.
	Backlog int
	// RecvBuffer and SendBuffer set SO_RCVBUF and SO_SNDBUF in bytes, which
	// accepted TCP connections inherit. 0 keeps the kernel default.
	RecvBuffer, SendBuffer int
}

// Listener is a non-blocking, close-on-exec listening (tcp, unix) or bound
// (udp) socket. Listen sets the exported fields; treat them as read-only.
// Close is safe from any goroutine.
type Listener struct {
	// FD is the socket; it stays valid until Close.
	FD int
	// Network is the network passed to Listen.
	Network string
	// Addr is the bound address, with an ephemeral port resolved.
	Addr net.Addr

	// unlinkPath is the unix socket file this listener created, removed on
	// Close only while it is still the same file (device and inode), so a
	// successor's socket is never deleted.
	unlinkPath string
	unlinkDev  uint64 // st_dev and st_ino, whose types differ by system
	unlinkIno  uint64
	keepFile   atomic.Bool // handed over or adopted: never unlink
	closed     atomic.Bool
}

// Listen creates a listener on network ("tcp", "tcp4", "tcp6", "udp",
// "udp4", "udp6", "unix") and address (as net.Listen takes it; host names are
// resolved with the net.Resolve*Addr functions). A wildcard host on "tcp" or
// "udp" gives a dual-stack IPv6 socket, or IPv4 where the kernel has no IPv6.
//
// For a unix path that already exists: a stale socket file (nobody accepts)
// is removed first; a live listener there makes Listen fail with an error
// wrapping unix.EADDRINUSE (that listener sees the probe as a connection
// closed at once); any other file is left alone and bind fails.
// Names starting with '@' are Linux abstract sockets and have no file;
// other systems refuse them (ErrBadAddress).
//
// On failure every fd Listen created is closed. Errors are *net.OpError
// values, as net.Listen returns: Op "listen", Net network, Addr the
// address once it resolved (nil before), and Err wrapping ErrBadNetwork,
// ErrBadAddress, ErrBadOption or an *os.SyscallError. Safe from any
// goroutine, but a stale-file check racing another Listen on the same path
// cannot be made atomic.
func Listen(network, address string, o Options) (*Listener, error) {
	l, addr, err := listen(network, address, o)
	if err != nil {
		return nil, &net.OpError{Op: "listen", Net: network, Addr: addr, Err: err}
	}
	return l, nil
}

// listen returns the resolved address, when it got that far, for the
// error.
func listen(network, address string, o Options) (*Listener, net.Addr, error) {
	if o.Backlog < 0 || o.RecvBuffer < 0 || o.SendBuffer < 0 {
		return nil, nil, fmt.Errorf("%w: negative Backlog, RecvBuffer or SendBuffer", ErrBadOption)
	}
	ep, err := resolve(network, address)
	if err != nil {
		return nil, nil, err
	}
	if ep.family == unix.AF_UNIX {
		if err := clearStale(ep.path); err != nil {
			return nil, ep.addr, err
		}
	}
	typ := unix.SOCK_DGRAM
	if IsStream(network) {
		typ = unix.SOCK_STREAM
	}
	fd, err := openSocket(ep.family, typ)
	if err != nil && ep.dual && errors.Is(err, unix.EAFNOSUPPORT) {
		ep = endpoint{family: unix.AF_INET, sa: &unix.SockaddrInet4{Port: ep.port}, port: ep.port, addr: ep.addr}
		fd, err = openSocket(ep.family, typ)
	}
	if err != nil {
		return nil, ep.addr, err
	}
	l := &Listener{FD: fd, Network: network}
	if err := l.setup(ep, o, typ == unix.SOCK_STREAM); err != nil {
		return nil, ep.addr, errors.Join(err, l.Close())
	}
	return l, nil, nil
}

func (l *Listener) setup(ep endpoint, o Options, stream bool) error {
	if ep.family == unix.AF_INET6 {
		if err := setInt(l.FD, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, boolInt(!ep.dual)); err != nil {
			return err
		}
	}
	if ep.family != unix.AF_UNIX && o.ReuseAddr {
		if err := SetReuseAddr(l.FD, true); err != nil {
			return err
		}
	}
	if ep.family != unix.AF_UNIX && o.ReusePort {
		if err := SetReusePort(l.FD, true); err != nil {
			return err
		}
	}
	if o.RecvBuffer > 0 {
		if err := SetRecvBuffer(l.FD, o.RecvBuffer); err != nil {
			return err
		}
	}
	if o.SendBuffer > 0 {
		if err := SetSendBuffer(l.FD, o.SendBuffer); err != nil {
			return err
		}
	}
	if err := unix.Bind(l.FD, ep.sa); err != nil {
		return os.NewSyscallError("bind", err)
	}
	if ep.family == unix.AF_UNIX && !isAbstract(ep.path) {
		l.rememberFile(ep.path)
	}
	if stream {
		if err := unix.Listen(l.FD, backlog(o.Backlog)); err != nil {
			return os.NewSyscallError("listen", err)
		}
	}
	addr, err := LocalAddr(l.FD, l.Network)
	if err != nil {
		return err
	}
	l.Addr = addr
	return nil
}

// Close closes the socket through CloseFunc and removes the unix socket file
// Listen created. Calls after the first do nothing and return nil. Safe from
// any goroutine.
func (l *Listener) Close() error {
	if !l.closed.CompareAndSwap(false, true) {
		return nil
	}
	// Unlink while still listening, as package net does: a concurrent
	// Listen on the path then sees a live socket or no file, never a stale
	// one it would remove after we are gone.
	var unlinkErr error
	if l.unlinkPath != "" && !l.keepFile.Load() && l.ownsFile() {
		if err := os.Remove(l.unlinkPath); err != nil && !errors.Is(err, os.ErrNotExist) {
			unlinkErr = err
		}
	}
	var closeErr error
	if err := CloseFunc(l.FD); err != nil {
		closeErr = os.NewSyscallError("close", err)
	}
	return errors.Join(closeErr, unlinkErr)
}

func (l *Listener) rememberFile(path string) {
	var st unix.Stat_t
	if unix.Lstat(path, &st) != nil {
		return
	}
	l.unlinkPath, l.unlinkDev, l.unlinkIno = path, uint64(st.Dev), uint64(st.Ino)
}

func (l *Listener) ownsFile() bool {
	var st unix.Stat_t
	return unix.Lstat(l.unlinkPath, &st) == nil && uint64(st.Dev) == l.unlinkDev && uint64(st.Ino) == l.unlinkIno
}

// BacklogSetting returns nil: Listen sets the backlog it is given. The
// portable backend's, where package net listens, cannot. Safe from any
// goroutine.
func BacklogSetting() error { return nil }

// PortSharing returns nil: SetReusePort lets several sockets bind one
// address on every native system. Safe from any goroutine.
func PortSharing() error { return nil }

// Portable is false: this is a native backend, the kernel's sockets and
// poller beneath the engine.
const Portable = false
