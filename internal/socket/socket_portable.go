//go:build evloop_portable || !(linux || darwin || dragonfly || freebsd || netbsd || openbsd)

package socket

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"syscall"
	"time"

	"github.com/evloop/evloop/internal/netfd"
)

// The portable backend: every descriptor here is one of package netfd's
// emulated ones, not a system descriptor, except where a function says
// otherwise (CloseOnExec, DupSystem). The functions keep the native
// contracts: raw errnos from the per-connection calls, *os.SyscallError
// from the setters.

// MaxIovecs is the most buffers one Writev call takes, as natively.
const MaxIovecs = 64

// MaxDatagram is the largest UDP payload over IPv6 without jumbograms.
const MaxDatagram = 65527

// The system calls the portable backend's Accept and DatagramBatch.Send
// stand for, named in errors as the native backends name theirs: package
// net accepts one connection and sends one datagram per call.
const (
	AcceptSyscall = "accept"
	SendSyscall   = "sendmsg"
)

// Seams, as natively: tests swap them to inject errors while no engine
// runs.
var (
	// Accept4Func takes a connection off a listener's queue; flags are
	// ignored (every emulated descriptor is non-blocking).
	Accept4Func = func(fd int, _ int) (nfd int, peer netip.AddrPort, err error) { return netfd.Accept(fd) }
	// ReadFunc is Read's.
	ReadFunc = netfd.Read
	// WriteFunc is Write's.
	WriteFunc = netfd.Write
	// WritevFunc is Writev's, over at most MaxIovecs non-empty buffers.
	WritevFunc = writev
	// CloseFunc is Close's and Listener.Close's.
	CloseFunc = netfd.Close
	// CreatedFunc is told every descriptor Listen and ConnectAddr create,
	// as the native backends' is: tests that count or track the engine's
	// sockets use it on every backend.
	CreatedFunc = func(fd int) {}
	// LookupNetIPFunc looks a host name up (net.DefaultResolver's
	// LookupNetIP); ResolveDial calls it.
	LookupNetIPFunc func(ctx context.Context, network, host string) ([]netip.Addr, error) = net.DefaultResolver.LookupNetIP
)

func writev(fd int, bufs [][]byte) (int, error) {
	if len(bufs) > MaxIovecs {
		bufs = bufs[:MaxIovecs]
	}
	for _, b := range bufs {
		if len(b) > 0 {
			return netfd.Writev(fd, bufs)
		}
	}
	return 0, nil
}

// Accept accepts one connection on the listening descriptor fd. peer is
// the invalid AddrPort for a Unix-domain peer.
func Accept(fd int) (nfd int, peer netip.AddrPort, err error) { return Accept4Func(fd, 0) }

// Read reads into p once. (0, nil) with len(p) > 0 means end of stream.
func Read(fd int, p []byte) (int, error) { return ReadFunc(fd, p) }

// Write writes p once; a short count is not an error. p is not retained.
func Write(fd int, p []byte) (int, error) { return WriteFunc(fd, p) }

// Writev writes the buffers in order, using at most MaxIovecs of them.
func Writev(fd int, bufs [][]byte) (int, error) { return WritevFunc(fd, bufs) }

// Close closes fd.
func Close(fd int) error { return CloseFunc(fd) }

// ShutdownWrite shuts down the writing side of fd once what was written
// before is sent.
func ShutdownWrite(fd int) error { return netfd.ShutdownWrite(fd) }

// ConnectAddr starts connecting a stream to a *net.TCPAddr or *net.UnixAddr
// and returns its descriptor with EINPROGRESS: the descriptor reports
// writable once the dial is over, and ConnectResult says how it went.
func ConnectAddr(a net.Addr) (fd int, err error) {
	switch a := a.(type) {
	case *net.TCPAddr:
		fd, err = netfd.Connect("tcp", a.String())
	case *net.UnixAddr:
		fd, err = netfd.Connect("unix", a.Name)
	default:
		return -1, fmt.Errorf("%w: cannot connect to %T", ErrBadAddress, a)
	}
	CreatedFunc(fd)
	return fd, err
}

// ConnectResult returns the outcome of a connect once its descriptor
// reported writability: nil when connected, otherwise an *os.SyscallError
// naming connect.
func ConnectResult(fd int) error {
	if err := netfd.ConnectResult(fd); err != nil {
		return os.NewSyscallError("connect", err)
	}
	return nil
}

// PendingError returns and clears fd's pending error as an
// *os.SyscallError naming read, or nil.
func PendingError(fd int) error {
	if err := netfd.PendingError(fd); err != nil {
		return os.NewSyscallError("read", err)
	}
	return nil
}

func setsockopt(err error) error {
	if err != nil {
		return os.NewSyscallError("setsockopt", err)
	}
	return nil
}

// SetNoDelay turns Nagle's algorithm off (on == true) or back on.
func SetNoDelay(fd int, on bool) error { return setsockopt(netfd.SetNoDelay(fd, on)) }

// SetKeepAlive enables keepalive probes after idle time without traffic,
// then every interval, dropping the connection after count unanswered
// probes; idle <= 0 turns keepalive off, interval <= 0 uses idle, count <= 0
// keeps the system default. Values beyond Linux's limits (32767 s, 127
// probes) fail with EINVAL, as natively.
func SetKeepAlive(fd int, idle, interval time.Duration, count int) error {
	if idle <= 0 {
		c, err := netfd.Conn(fd)
		if err != nil {
			return setsockopt(err)
		}
		if tc, ok := c.(*net.TCPConn); ok {
			return setsockopt(tc.SetKeepAlive(false))
		}
		return setsockopt(syscall.EOPNOTSUPP)
	}
	if interval <= 0 {
		interval = idle
	}
	const maxSeconds, maxProbes = 32767, 127
	if idle > maxSeconds*time.Second || interval > maxSeconds*time.Second || count > maxProbes {
		return setsockopt(syscall.EINVAL)
	}
	idle, interval = roundSeconds(idle), roundSeconds(interval)
	return setsockopt(netfd.SetKeepAlive(fd, idle, interval, count))
}

func roundSeconds(d time.Duration) time.Duration {
	return max(time.Second, (d+time.Second-1)/time.Second*time.Second)
}

// SetRecvBuffer sets the receive buffer of fd (the emulated one, and the
// system's under it).
func SetRecvBuffer(fd, bytes int) error { return setsockopt(netfd.SetRecvBuffer(fd, bytes)) }

// SetSendBuffer sets the send buffer of fd.
func SetSendBuffer(fd, bytes int) error { return setsockopt(netfd.SetSendBuffer(fd, bytes)) }

// SetLinger with sec == 0 makes Close reset the connection and discard
// pending output; sec < 0 restores the default (Close still sends it). A
// positive sec behaves as the default: Close never blocks here.
func SetLinger(fd int, sec int) error { return setsockopt(netfd.SetLinger(fd, sec)) }

// Unread returns how many received bytes wait in fd's receive buffer.
func Unread(fd int) int { return netfd.Unread(fd) }

// LocalAddr returns the address fd is bound to.
func LocalAddr(fd int, network string) (net.Addr, error) {
	in, err := netfd.Inspect(fd)
	if err != nil {
		return nil, os.NewSyscallError("getsockname", err)
	}
	return in.Local, nil
}

// PeerAddr returns the address of fd's peer.
func PeerAddr(fd int, network string) (net.Addr, error) {
	a, err := netfd.PeerAddr(fd)
	if err != nil {
		return nil, os.NewSyscallError("getpeername", err)
	}
	if a == nil || isNilUnix(a) {
		return &net.UnixAddr{Name: "@", Net: "unix"}, nil
	}
	return a, nil
}

func isNilUnix(a net.Addr) bool {
	u, ok := a.(*net.UnixAddr)
	return ok && u == nil
}

// AddrPortToNetAddr returns a new *net.TCPAddr for tcp, tcp4 and tcp6, a
// new *net.UDPAddr for udp, udp4 and udp6, and nil for any other network or
// an invalid ap. The result is owned by the caller.
func AddrPortToNetAddr(network string, ap netip.AddrPort) net.Addr {
	if !ap.IsValid() {
		return nil
	}
	switch network {
	case "tcp", "tcp4", "tcp6":
		return net.TCPAddrFromAddrPort(ap)
	case "udp", "udp4", "udp6":
		return net.UDPAddrFromAddrPort(ap)
	}
	return nil
}

// FamilyOf returns the address family of the socket fd.
func FamilyOf(fd int) (Family, error) {
	in, err := netfd.Inspect(fd)
	if err != nil {
		return 0, os.NewSyscallError("getsockopt", err)
	}
	return familyOfAddr(in.Local), nil
}

func familyOfAddr(a net.Addr) Family {
	var ip net.IP
	switch a := a.(type) {
	case *net.TCPAddr:
		ip = a.IP
	case *net.UDPAddr:
		ip = a.IP
	default:
		return FamilyUnix
	}
	if ip.To4() != nil {
		return FamilyIPv4
	}
	return FamilyIPv6
}

// Dup returns a new descriptor for the socket fd refers to.
func Dup(fd int) (int, error) {
	nfd, err := netfd.Dup(fd)
	if err != nil {
		return -1, os.NewSyscallError("fcntl", err)
	}
	return nfd, nil
}

// SetNonblock does nothing: every emulated descriptor is non-blocking.
func SetNonblock(fd int) error {
	if _, err := netfd.Inspect(fd); err != nil {
		return os.NewSyscallError("fcntl", err)
	}
	return nil
}

// Info is what a socket is: its domain (AF_INET, ...), type (SOCK_STREAM,
// ...) and protocol, as the syscall package numbers them, and whether it
// listens.
type Info struct {
	Domain, Type, Protocol int
	Listening              bool
}

// Stream reports whether the socket is a stream socket.
func (in Info) Stream() bool { return in.Type == syscall.SOCK_STREAM }

// Datagram reports whether the socket is a datagram socket.
func (in Info) Datagram() bool { return in.Type == syscall.SOCK_DGRAM }

// Network names the stream network the socket serves: "tcp", "unix", or ""
// for anything else.
func (in Info) Network() string {
	switch {
	case in.Domain == syscall.AF_UNIX:
		return "unix"
	case (in.Domain == syscall.AF_INET || in.Domain == syscall.AF_INET6) && in.Protocol == syscall.IPPROTO_TCP:
		return "tcp"
	}
	return ""
}

// Inspect says what kind of socket fd is; EBADF for a descriptor that is
// not open.
func Inspect(fd int) (Info, error) {
	in, err := netfd.Inspect(fd)
	if err != nil {
		return Info{}, os.NewSyscallError("getsockopt", err)
	}
	info := Info{Type: syscall.SOCK_STREAM, Listening: in.Listening}
	if in.Datagram {
		info.Type = syscall.SOCK_DGRAM
	}
	switch familyOfAddr(in.Local) {
	case FamilyIPv4:
		info.Domain = syscall.AF_INET
	case FamilyIPv6:
		info.Domain = syscall.AF_INET6
	default:
		info.Domain = syscall.AF_UNIX
	}
	if info.Domain != syscall.AF_UNIX {
		info.Protocol = syscall.IPPROTO_TCP
		if in.Datagram {
			info.Protocol = syscall.IPPROTO_UDP
		}
	}
	return info, nil
}

// errUnsupported wraps errors.ErrUnsupported for what the portable backend
// cannot do on this system.
func errUnsupported(what string) error {
	return fmt.Errorf("%s: %w by the portable backend on this system", what, errors.ErrUnsupported)
}
