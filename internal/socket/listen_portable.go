//go:build evloop_portable || !(linux || darwin || dragonfly || freebsd || netbsd || openbsd)

package socket

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/evloop/evloop/internal/netfd"
)

// Options tune the socket Listen creates. The zero value is a plain
// listener with the default backlog and buffers.
type Options struct {
	// ReuseAddr: package net sets SO_REUSEADDR on listeners where the
	// system has it, so this is always on.
	ReuseAddr bool
	// ReusePort sets SO_REUSEPORT where the system has it; elsewhere Listen
	// fails with an error wrapping errors.ErrUnsupported.
	ReusePort bool
	// Backlog must not be negative; otherwise it is ignored: package net
	// listens with the system's default backlog (somaxconn), which has no
	// setting.
	Backlog int
	// RecvBuffer and SendBuffer size the buffers accepted connections get;
	// 0 keeps the defaults.
	RecvBuffer, SendBuffer int
}

// Listener is a listening (tcp, unix) or bound (udp) socket. Listen sets
// the exported fields; treat them as read-only. Close is safe from any
// goroutine.
type Listener struct {
	// FD is the socket; it stays valid until Close.
	FD int
	// Network is the network passed to Listen.
	Network string
	// Addr is the bound address, with an ephemeral port resolved.
	Addr net.Addr

	unix     *net.UnixListener // to keep its file on Close
	keepFile atomic.Bool
	closed   atomic.Bool
}

// Listen creates a listener on network ("tcp", "tcp4", "tcp6", "udp",
// "udp4", "udp6", "unix") and address, as the native Listen does: for a
// unix path that already exists, a stale socket file is removed first and
// a live listener there makes Listen fail with EADDRINUSE. Errors are
// *net.OpError values with Op "listen", wrapping ErrBadNetwork,
// ErrBadAddress, ErrBadOption or the system's error.
func Listen(network, address string, o Options) (*Listener, error) {
	l, addr, err := listen(network, address, o)
	if err != nil {
		return nil, &net.OpError{Op: "listen", Net: network, Addr: addr, Err: err}
	}
	CreatedFunc(l.FD)
	return l, nil
}

func listen(network, address string, o Options) (*Listener, net.Addr, error) {
	if o.Backlog < 0 || o.RecvBuffer < 0 || o.SendBuffer < 0 {
		return nil, nil, fmt.Errorf("%w: negative Backlog, RecvBuffer or SendBuffer", ErrBadOption)
	}
	lc := net.ListenConfig{KeepAlive: -1}
	if o.ReusePort {
		control, err := reusePortControl()
		if err != nil {
			return nil, nil, err
		}
		lc.Control = control
	}
	ctx := context.Background()
	l := &Listener{Network: network}
	switch network {
	case "tcp", "tcp4", "tcp6":
		a, err := net.ResolveTCPAddr(network, address)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %w", ErrBadAddress, err)
		}
		ln, err := lc.Listen(ctx, network, a.String())
		if err != nil {
			return nil, a, unwrapOp(err)
		}
		l.FD = netfd.Listen(ln)
		l.Addr = ln.Addr()
	case "unix":
		a, err := net.ResolveUnixAddr(network, address)
		if err != nil || a.Name == "" {
			return nil, nil, fmt.Errorf("%w: unix path %q", ErrBadAddress, address)
		}
		if err := clearStale(a.Name); err != nil {
			return nil, a, err
		}
		ln, err := lc.Listen(ctx, network, a.Name)
		if err != nil {
			return nil, a, unwrapOp(err)
		}
		l.unix = ln.(*net.UnixListener)
		l.FD = netfd.Listen(ln)
		l.Addr = ln.Addr()
	case "udp", "udp4", "udp6":
		a, err := net.ResolveUDPAddr(network, address)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %w", ErrBadAddress, err)
		}
		pc, err := lc.ListenPacket(ctx, network, a.String())
		if err != nil {
			return nil, a, unwrapOp(err)
		}
		l.FD = netfd.ListenPacket(pc.(*net.UDPConn))
		l.Addr = pc.LocalAddr()
	default:
		return nil, nil, fmt.Errorf("%w %q", ErrBadNetwork, network)
	}
	if o.RecvBuffer > 0 {
		_ = netfd.SetRecvBuffer(l.FD, o.RecvBuffer)
	}
	if o.SendBuffer > 0 {
		_ = netfd.SetSendBuffer(l.FD, o.SendBuffer)
	}
	return l, nil, nil
}

// unwrapOp returns the error inside package net's *net.OpError, which
// Listen wraps in its own.
func unwrapOp(err error) error {
	var op *net.OpError
	if errors.As(err, &op) {
		return op.Err
	}
	return err
}

// clearStale removes a unix socket file nobody listens on; a live one
// gives EADDRINUSE, any other file is left for bind to fail on.
func clearStale(path string) error {
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode()&os.ModeSocket == 0 {
		return nil
	}
	c, err := net.DialTimeout("unix", path, time.Second)
	if err == nil {
		_ = c.Close()
		return os.NewSyscallError("bind", syscall.EADDRINUSE)
	}
	if rm := os.Remove(path); rm != nil && !errors.Is(rm, os.ErrNotExist) {
		return rm
	}
	return nil
}

// Close closes the socket through CloseFunc and removes the unix socket
// file Listen created, unless KeepFile was called. Calls after the first do
// nothing and return nil.
func (l *Listener) Close() error {
	if !l.closed.CompareAndSwap(false, true) {
		return nil
	}
	if err := CloseFunc(l.FD); err != nil {
		return os.NewSyscallError("close", err)
	}
	return nil
}

// KeepFile makes Close leave the Unix socket file in place.
func (l *Listener) KeepFile() {
	l.keepFile.Store(true)
	if l.unix != nil {
		l.unix.SetUnlinkOnClose(false)
	}
}

// Adopt makes a Listener of a descriptor: a listening TCP or Unix stream
// socket, or a bound UDP socket. On success the Listener owns fd. An
// adopted Unix socket's file is never removed by Close. Errors wrap
// ErrBadNetwork for other kinds of socket.
func Adopt(fd int) (*Listener, error) {
	in, err := Inspect(fd)
	if err != nil {
		return nil, err
	}
	var network string
	switch {
	case in.Stream() && in.Domain != syscall.AF_UNIX:
		network = "tcp"
	case in.Stream():
		network = "unix"
	default:
		network = "udp"
	}
	if in.Stream() && !in.Listening {
		return nil, fmt.Errorf("%w: a %s socket that does not listen", ErrBadNetwork, network)
	}
	addr, err := LocalAddr(fd, network)
	if err != nil {
		return nil, err
	}
	l := &Listener{FD: fd, Network: network, Addr: addr}
	if network == "unix" {
		if ln, err := netfd.Listener(fd); err == nil {
			l.unix, _ = ln.(*net.UnixListener)
		}
	}
	l.KeepFile()
	return l, nil
}

// BacklogSetting returns an error wrapping errors.ErrUnsupported: package
// net listens with the system's default backlog and has no setting for
// it, so the engine refuses a backlog it was asked for rather than ignore
// it. Safe from any goroutine.
func BacklogSetting() error {
	return fmt.Errorf("setting the listen backlog on the portable backend (package net uses the system's): %w", errors.ErrUnsupported)
}

// Portable is true: this is the portable backend, package net beneath the
// engine, with one reader goroutine per connection.
const Portable = true
