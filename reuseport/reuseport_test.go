//go:build aix || darwin || dragonfly || freebsd || linux || netbsd || openbsd

package reuseport

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

const (
	waitLimit = 5 * time.Second
	// maxSends bounds the connections or datagrams a balance test sends;
	// with two sockets, all of them landing on one has odds of 2^-199.
	maxSends = 200
)

func skipWithoutIPv6(tb testing.TB) {
	tb.Helper()
	ln, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		tb.Skipf("IPv6 loopback unavailable: %v", err)
	}
	ln.Close()
}

func mustListen(tb testing.TB, network, address string) net.Listener {
	tb.Helper()
	ln, err := Listen(network, address)
	if err != nil {
		tb.Fatalf("Listen(%q, %q): %v", network, address, err)
	}
	tb.Cleanup(func() { ln.Close() })
	return ln
}

func mustListenPacket(tb testing.TB, network, address string) net.PacketConn {
	tb.Helper()
	pc, err := ListenPacket(network, address)
	if err != nil {
		tb.Fatalf("ListenPacket(%q, %q): %v", network, address, err)
	}
	tb.Cleanup(func() { pc.Close() })
	return pc
}

// acceptInto accepts on ln until it is closed, reporting idx for every
// connection on got and any unexpected error on errc. The returned channel
// closes when the goroutine has exited; the caller closes ln first.
func acceptInto(ln net.Listener, idx int, got chan<- int, errc chan<- error) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if errors.Is(err, net.ErrClosed) {
				return
			}
			if err != nil {
				errc <- err
				return
			}
			c.Close()
			got <- idx
		}
	}()
	return done
}

// readInto is acceptInto for packet sockets.
func readInto(pc net.PacketConn, idx int, got chan<- int, errc chan<- error) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 64)
		for {
			_, _, err := pc.ReadFrom(buf)
			if errors.Is(err, net.ErrClosed) {
				return
			}
			if err != nil {
				errc <- err
				return
			}
			got <- idx
		}
	}()
	return done
}

// spread sends up to maxSends connections or datagrams through send, each from a
// new source port, and counts which of two sockets received each one. It
// stops early once both have one.
func spread(tb testing.TB, send func() error, got <-chan int, errc <-chan error) [2]int {
	tb.Helper()
	var counts [2]int
	for i := 0; i < maxSends && (counts[0] == 0 || counts[1] == 0); i++ {
		if err := send(); err != nil {
			tb.Fatalf("send #%d: %v", i, err)
		}
		select {
		case idx := <-got:
			counts[idx]++
		case err := <-errc:
			tb.Fatalf("receiver: %v", err)
		case <-time.After(waitLimit):
			tb.Fatalf("send #%d not received within %v", i, waitLimit)
		}
	}
	return counts
}

// checkBalanced requires both sockets to have received traffic where the
// kernel balances a reuseport group (Linux, DragonFly, and FreeBSD with
// SO_REUSEPORT_LB); elsewhere only binding is shared.
func checkBalanced(tb testing.TB, counts [2]int) {
	tb.Helper()
	balances := runtime.GOOS == "linux" || runtime.GOOS == "dragonfly" || runtime.GOOS == "freebsd"
	if balances && (counts[0] == 0 || counts[1] == 0) {
		tb.Fatalf("kernel sent %d to the first socket and %d to the second, want both > 0", counts[0], counts[1])
	}
}

func TestListenSharesPort(t *testing.T) {
	tests := []struct {
		name    string
		network string
		address string
		ipv6    bool
	}{
		{name: "tcp", network: "tcp", address: "127.0.0.1:0"},
		{name: "tcp4", network: "tcp4", address: "127.0.0.1:0"},
		{name: "tcp6", network: "tcp6", address: "[::1]:0", ipv6: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.ipv6 {
				skipWithoutIPv6(t)
			}
			first := mustListen(t, tt.network, tt.address)
			second := mustListen(t, tt.network, first.Addr().String())
			if first.Addr().String() != second.Addr().String() {
				t.Fatalf("second listener on %v, want %v", second.Addr(), first.Addr())
			}
			got := make(chan int, maxSends+2)
			errc := make(chan error, 2)
			done := [2]<-chan struct{}{acceptInto(first, 0, got, errc), acceptInto(second, 1, got, errc)}
			t.Cleanup(func() {
				first.Close()
				second.Close()
				<-done[0]
				<-done[1]
			})
			counts := spread(t, func() error {
				c, err := net.DialTimeout(tt.network, first.Addr().String(), waitLimit)
				if err == nil {
					err = c.Close()
				}
				return err
			}, got, errc)
			checkBalanced(t, counts)
		})
	}
}

func TestListenPacketSharesPort(t *testing.T) {
	tests := []struct {
		name    string
		network string
		address string
		ipv6    bool
	}{
		{name: "udp", network: "udp", address: "127.0.0.1:0"},
		{name: "udp4", network: "udp4", address: "127.0.0.1:0"},
		{name: "udp6", network: "udp6", address: "[::1]:0", ipv6: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.ipv6 {
				skipWithoutIPv6(t)
			}
			first := mustListenPacket(t, tt.network, tt.address)
			second := mustListenPacket(t, tt.network, first.LocalAddr().String())
			if first.LocalAddr().String() != second.LocalAddr().String() {
				t.Fatalf("second socket on %v, want %v", second.LocalAddr(), first.LocalAddr())
			}
			got := make(chan int, maxSends+2)
			errc := make(chan error, 2)
			done := [2]<-chan struct{}{readInto(first, 0, got, errc), readInto(second, 1, got, errc)}
			t.Cleanup(func() {
				first.Close()
				second.Close()
				<-done[0]
				<-done[1]
			})
			counts := spread(t, func() error {
				c, err := net.Dial(tt.network, first.LocalAddr().String())
				if err != nil {
					return err
				}
				_, err = c.Write([]byte("ping"))
				return errors.Join(err, c.Close())
			}, got, errc)
			checkBalanced(t, counts)
		})
	}
}

// TestPlainSocketConflicts shows the option is what makes sharing work: a
// socket without it cannot join, and cannot be joined.
func TestPlainSocketConflicts(t *testing.T) {
	tests := []struct {
		name  string
		first func(address string) (func() error, string, error)
		join  func(address string) error
	}{
		{
			name: "net.Listen after Listen",
			first: func(address string) (func() error, string, error) {
				ln, err := Listen("tcp", address)
				if err != nil {
					return nil, "", err
				}
				return ln.Close, ln.Addr().String(), nil
			},
			join: func(address string) error { return closeIfOpened(net.Listen("tcp", address)) },
		},
		{
			name: "Listen after net.Listen",
			first: func(address string) (func() error, string, error) {
				ln, err := net.Listen("tcp", address)
				if err != nil {
					return nil, "", err
				}
				return ln.Close, ln.Addr().String(), nil
			},
			join: func(address string) error { return closeIfOpened(Listen("tcp", address)) },
		},
		{
			name: "net.ListenPacket after ListenPacket",
			first: func(address string) (func() error, string, error) {
				pc, err := ListenPacket("udp", address)
				if err != nil {
					return nil, "", err
				}
				return pc.Close, pc.LocalAddr().String(), nil
			},
			join: func(address string) error { return closePacketIfOpened(net.ListenPacket("udp", address)) },
		},
		{
			name: "ListenPacket after net.ListenPacket",
			first: func(address string) (func() error, string, error) {
				pc, err := net.ListenPacket("udp", address)
				if err != nil {
					return nil, "", err
				}
				return pc.Close, pc.LocalAddr().String(), nil
			},
			join: func(address string) error { return closePacketIfOpened(ListenPacket("udp", address)) },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			closeFirst, address, err := tt.first("127.0.0.1:0")
			if err != nil {
				t.Fatalf("first socket: %v", err)
			}
			t.Cleanup(func() { closeFirst() })
			err = tt.join(address)
			if !errors.Is(err, syscall.EADDRINUSE) {
				t.Fatalf("second socket on %s: %v, want EADDRINUSE", address, err)
			}
		})
	}
}

// closeIfOpened turns an unexpected success into an error the caller reports.
func closeIfOpened(ln net.Listener, err error) error {
	if err != nil {
		return err
	}
	ln.Close()
	return errors.New("listen succeeded")
}

func closePacketIfOpened(pc net.PacketConn, err error) error {
	if err != nil {
		return err
	}
	pc.Close()
	return errors.New("listen succeeded")
}

func TestListenErrors(t *testing.T) {
	tests := []struct {
		name    string
		open    func() error
		wantBad bool // the error must wrap ErrBadNetwork
	}{
		{name: "Listen udp", open: func() error { return closeIfOpened(Listen("udp", "127.0.0.1:0")) }, wantBad: true},
		{name: "Listen empty network", open: func() error { return closeIfOpened(Listen("", "127.0.0.1:0")) }, wantBad: true},
		{name: "ListenPacket tcp", open: func() error { return closePacketIfOpened(ListenPacket("tcp", "127.0.0.1:0")) }, wantBad: true},
		{name: "ListenPacket unixgram", open: func() error { return closePacketIfOpened(ListenPacket("unixgram", "/x")) }, wantBad: true},
		{name: "port out of range", open: func() error { return closeIfOpened(Listen("tcp", "127.0.0.1:70000")) }},
		{name: "missing port", open: func() error { return closeIfOpened(Listen("tcp4", "127.0.0.1")) }},
		{name: "ipv6 on tcp4", open: func() error { return closeIfOpened(Listen("tcp4", "[::1]:0")) }},
		{name: "udp bad host", open: func() error { return closePacketIfOpened(ListenPacket("udp", "[::1:0")) }},
		{name: "udp6 with ipv4", open: func() error { return closePacketIfOpened(ListenPacket("udp6", "127.0.0.1:0")) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.open()
			if err == nil {
				t.Fatal("want an error")
			}
			if errors.Is(err, ErrBadNetwork) != tt.wantBad {
				t.Fatalf("error %v: wraps ErrBadNetwork = %v, want %v", err, !tt.wantBad, tt.wantBad)
			}
			if !tt.wantBad {
				var opErr *net.OpError
				if !errors.As(err, &opErr) {
					t.Fatalf("error %v (%T) is not a *net.OpError", err, err)
				}
			}
		})
	}
}

func TestListenUnix(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.sock")
	ln := mustListen(t, "unix", path)
	errc := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			err = c.Close()
		}
		errc <- err
	}()
	c, err := net.DialTimeout("unix", path, waitLimit)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	c.Close()
	if err := <-errc; err != nil {
		t.Fatalf("accept: %v", err)
	}
	if err := closeIfOpened(Listen("unix", path)); !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("second unix Listen on %s: %v, want EADDRINUSE", path, err)
	}
}

// fakeConn is a syscall.RawConn that hands Control a chosen descriptor or
// fails before calling it.
type fakeConn struct {
	fd     uintptr
	err    error
	called bool
}

func (c *fakeConn) Control(f func(fd uintptr)) error {
	if c.err != nil {
		return c.err
	}
	c.called = true
	f(c.fd)
	return nil
}

func (c *fakeConn) Read(func(fd uintptr) bool) error  { return errors.ErrUnsupported }
func (c *fakeConn) Write(func(fd uintptr) bool) error { return errors.ErrUnsupported }

func TestControl(t *testing.T) {
	badFD := ^uintptr(0)
	tests := []struct {
		name       string
		network    string
		conn       *fakeConn
		wantErr    error
		wantCalled bool
	}{
		{name: "bad descriptor", network: "tcp", conn: &fakeConn{fd: badFD}, wantErr: unix.EBADF, wantCalled: true},
		{name: "udp bad descriptor", network: "udp6", conn: &fakeConn{fd: badFD}, wantErr: unix.EBADF, wantCalled: true},
		{name: "raw conn error", network: "tcp4", conn: &fakeConn{err: os.ErrClosed}, wantErr: os.ErrClosed},
		{name: "unix untouched", network: "unix", conn: &fakeConn{fd: badFD}},
		{name: "unixgram untouched", network: "unixgram", conn: &fakeConn{fd: badFD}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Control(tt.network, "127.0.0.1:0", tt.conn)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Control = %v, want %v", err, tt.wantErr)
			}
			if tt.conn.called != tt.wantCalled {
				t.Fatalf("RawConn.Control called = %v, want %v", tt.conn.called, tt.wantCalled)
			}
			var se *os.SyscallError
			if errors.Is(err, unix.EBADF) && (!errors.As(err, &se) || se.Syscall != "setsockopt") {
				t.Fatalf("error %v is not a setsockopt *os.SyscallError", err)
			}
		})
	}
}

func TestControlSetsOptions(t *testing.T) {
	ln := mustListen(t, "tcp", "127.0.0.1:0")
	rc, err := ln.(*net.TCPListener).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var addr, port int
	var addrErr, portErr error
	if err := rc.Control(func(fd uintptr) {
		addr, addrErr = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR)
		port, portErr = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, reusePortOption)
	}); err != nil {
		t.Fatal(err)
	}
	if addrErr != nil || portErr != nil || addr == 0 || port == 0 {
		t.Fatalf("SO_REUSEADDR = %d (%v), SO_REUSEPORT(_LB) = %d (%v), want both set", addr, addrErr, port, portErr)
	}
}
