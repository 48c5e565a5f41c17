//go:build linux && !evloop_portable

package socket

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// checkListenerFD verifies the flags every listener promises.
func checkListenerFD(tb testing.TB, fd int, stream bool) {
	tb.Helper()
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil || fl&unix.O_NONBLOCK == 0 {
		tb.Errorf("fd %d: O_NONBLOCK not set (flags %#x, err %v)", fd, fl, err)
	}
	fdfl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	if err != nil || fdfl&unix.FD_CLOEXEC == 0 {
		tb.Errorf("fd %d: FD_CLOEXEC not set (flags %#x, err %v)", fd, fdfl, err)
	}
	wantType, wantAccept := unix.SOCK_DGRAM, 0
	if stream {
		wantType, wantAccept = unix.SOCK_STREAM, 1
	}
	if got := getInt(tb, fd, unix.SOL_SOCKET, unix.SO_TYPE); got != wantType {
		tb.Errorf("fd %d: SO_TYPE = %d, want %d", fd, got, wantType)
	}
	if got := getInt(tb, fd, unix.SOL_SOCKET, unix.SO_ACCEPTCONN); got != wantAccept {
		tb.Errorf("fd %d: SO_ACCEPTCONN = %d, want %d", fd, got, wantAccept)
	}
}

func TestListenInet(t *testing.T) {
	tests := []struct {
		name       string
		network    string
		address    string
		ipv6       bool
		wantIP     string
		wantV6Only bool
	}{
		{name: "tcp", network: "tcp", address: "127.0.0.1:0", wantIP: "127.0.0.1"},
		{name: "tcp4", network: "tcp4", address: "127.0.0.1:0", wantIP: "127.0.0.1"},
		{name: "tcp6", network: "tcp6", address: "[::1]:0", ipv6: true, wantIP: "::1", wantV6Only: true},
		{name: "tcp with ipv6", network: "tcp", address: "[::1]:0", ipv6: true, wantIP: "::1", wantV6Only: true},
		{name: "udp", network: "udp", address: "127.0.0.1:0", wantIP: "127.0.0.1"},
		{name: "udp4", network: "udp4", address: "127.0.0.1:0", wantIP: "127.0.0.1"},
		{name: "udp6", network: "udp6", address: "[::1]:0", ipv6: true, wantIP: "::1", wantV6Only: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkNoFDLeak(t)
			if tt.ipv6 {
				skipWithoutIPv6(t)
			}
			l := mustListen(t, tt.network, tt.address, Options{})
			stream := IsStream(tt.network)
			checkListenerFD(t, l.FD, stream)
			if l.Network != tt.network {
				t.Errorf("Network = %q, want %q", l.Network, tt.network)
			}
			var ip net.IP
			var port int
			switch a := l.Addr.(type) {
			case *net.TCPAddr:
				ip, port = a.IP, a.Port
				if !stream {
					t.Errorf("Addr is %T for %s", a, tt.network)
				}
			case *net.UDPAddr:
				ip, port = a.IP, a.Port
				if stream {
					t.Errorf("Addr is %T for %s", a, tt.network)
				}
			default:
				t.Fatalf("Addr is %T, want *net.TCPAddr or *net.UDPAddr", l.Addr)
			}
			if ip.String() != tt.wantIP || port == 0 {
				t.Fatalf("Addr = %v, want %s with a resolved port", l.Addr, tt.wantIP)
			}
			if tt.ipv6 {
				if got := getInt(t, l.FD, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY) == 1; got != tt.wantV6Only {
					t.Errorf("IPV6_V6ONLY = %v, want %v", got, tt.wantV6Only)
				}
			}
			c := dial(t, tt.network, l.Addr.String())
			msg := []byte("ping " + tt.name)
			if _, err := c.Write(msg); err != nil {
				t.Fatalf("client write: %v", err)
			}
			fd := l.FD
			if stream {
				fd, _ = acceptOne(t, l)
			}
			if got := readN(t, fd, len(msg)); !bytes.Equal(got, msg) {
				t.Fatalf("server read %q, want %q", got, msg)
			}
		})
	}
}

func TestResolveFamily(t *testing.T) {
	tests := []struct {
		name       string
		network    string
		address    string
		wantFamily int
		wantDual   bool
	}{
		{name: "tcp wildcard", network: "tcp", address: ":0", wantFamily: unix.AF_INET6, wantDual: true},
		{name: "udp wildcard", network: "udp", address: ":0", wantFamily: unix.AF_INET6, wantDual: true},
		{name: "tcp ipv6 wildcard", network: "tcp", address: "[::]:0", wantFamily: unix.AF_INET6, wantDual: true},
		{name: "tcp6 ipv6 wildcard", network: "tcp6", address: "[::]:0", wantFamily: unix.AF_INET6},
		{name: "tcp6 no host", network: "tcp6", address: ":0", wantFamily: unix.AF_INET6},
		{name: "tcp4 no host", network: "tcp4", address: ":0", wantFamily: unix.AF_INET},
		{name: "tcp ipv4 wildcard", network: "tcp", address: "0.0.0.0:0", wantFamily: unix.AF_INET},
		{name: "tcp v4-mapped", network: "tcp", address: "[::ffff:127.0.0.1]:0", wantFamily: unix.AF_INET},
		{name: "udp ipv6 loopback", network: "udp", address: "[::1]:0", wantFamily: unix.AF_INET6},
		{name: "unix", network: "unix", address: "/x.sock", wantFamily: unix.AF_UNIX},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ep, err := resolve(tt.network, tt.address)
			if err != nil {
				t.Fatalf("resolve(%q, %q): %v", tt.network, tt.address, err)
			}
			if ep.family != tt.wantFamily || ep.dual != tt.wantDual {
				t.Fatalf("resolve(%q, %q) = family %d dual %v, want family %d dual %v",
					tt.network, tt.address, ep.family, ep.dual, tt.wantFamily, tt.wantDual)
			}
		})
	}
}

// TestListenDualStackFallback checks that a wildcard "tcp" listener falls
// back to IPv4 when the kernel has no IPv6, without binding a wildcard.
func TestListenDualStackFallback(t *testing.T) {
	checkNoFDLeak(t)
	var domains []int
	swapHook(t, &SocketFunc, func(domain, typ, proto int) (int, error) {
		domains = append(domains, domain)
		if domain == unix.AF_INET6 {
			return -1, unix.EAFNOSUPPORT
		}
		return -1, unix.EMFILE
	})
	_, err := Listen("tcp", ":0", Options{})
	if !errors.Is(err, unix.EMFILE) {
		t.Fatalf("Listen error = %v, want EMFILE from the IPv4 attempt", err)
	}
	if want := []int{unix.AF_INET6, unix.AF_INET}; fmt.Sprint(domains) != fmt.Sprint(want) {
		t.Fatalf("socket domains = %v, want %v", domains, want)
	}
}

func TestListenErrors(t *testing.T) {
	busy := mustListen(t, "tcp", "127.0.0.1:0", Options{})
	tests := []struct {
		name    string
		network string
		address string
		opts    Options
		want    error
	}{
		{name: "unknown network", network: "ip", address: "127.0.0.1:0", want: ErrBadNetwork},
		{name: "unixgram", network: "unixgram", address: "/x", want: ErrBadNetwork},
		{name: "bad port", network: "tcp", address: "127.0.0.1:99999", want: ErrBadAddress},
		{name: "no port", network: "udp", address: "127.0.0.1", want: ErrBadAddress},
		{name: "tcp4 with ipv6", network: "tcp4", address: "[::1]:0", want: ErrBadAddress},
		{name: "tcp6 with ipv4", network: "tcp6", address: "127.0.0.1:0", want: ErrBadAddress},
		{name: "empty unix", network: "unix", address: "", want: ErrBadAddress},
		{name: "negative backlog", network: "tcp", address: "127.0.0.1:0", opts: Options{Backlog: -1}, want: ErrBadOption},
		{name: "negative buffer", network: "tcp", address: "127.0.0.1:0", opts: Options{RecvBuffer: -1}, want: ErrBadOption},
		{name: "port in use", network: "tcp", address: busy.Addr.String(), want: unix.EADDRINUSE},
		{name: "port in use reuseaddr", network: "tcp", address: busy.Addr.String(), opts: Options{ReuseAddr: true}, want: unix.EADDRINUSE},
		{name: "unix path too long", network: "unix", address: "/" + strings.Repeat("x", 200), want: unix.EINVAL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkNoFDLeak(t)
			l, err := Listen(tt.network, tt.address, tt.opts)
			if err == nil {
				l.Close()
				t.Fatalf("Listen(%q, %q) succeeded, want %v", tt.network, tt.address, tt.want)
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Listen(%q, %q) error = %v, want it to wrap %v", tt.network, tt.address, err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "listen "+tt.network) {
				t.Errorf("error %q does not name the operation and network", err)
			}
		})
	}
}

func TestListenOptions(t *testing.T) {
	checkNoFDLeak(t)
	o := Options{ReuseAddr: true, ReusePort: true, Backlog: 16, RecvBuffer: 64 << 10, SendBuffer: 32 << 10}
	l := mustListen(t, "tcp", "127.0.0.1:0", o)
	if got := getInt(t, l.FD, unix.SOL_SOCKET, unix.SO_REUSEADDR); got != 1 {
		t.Errorf("SO_REUSEADDR = %d, want 1", got)
	}
	if got := getInt(t, l.FD, unix.SOL_SOCKET, unix.SO_REUSEPORT); got != 1 {
		t.Errorf("SO_REUSEPORT = %d, want 1", got)
	}
	if got := getInt(t, l.FD, unix.SOL_SOCKET, unix.SO_RCVBUF); got < o.RecvBuffer {
		t.Errorf("SO_RCVBUF = %d, want >= %d", got, o.RecvBuffer)
	}
	if got := getInt(t, l.FD, unix.SOL_SOCKET, unix.SO_SNDBUF); got < o.SendBuffer {
		t.Errorf("SO_SNDBUF = %d, want >= %d", got, o.SendBuffer)
	}
	second := mustListen(t, "tcp", l.Addr.String(), o)
	if second.Addr.String() != l.Addr.String() {
		t.Fatalf("second reuseport listener bound %v, want %v", second.Addr, l.Addr)
	}
	plain := mustListen(t, "tcp", "127.0.0.1:0", Options{})
	if got := getInt(t, plain.FD, unix.SOL_SOCKET, unix.SO_REUSEPORT); got != 0 {
		t.Errorf("SO_REUSEPORT without the option = %d, want 0", got)
	}
	// Reuse options are meaningless for unix sockets and must not fail there.
	u := mustListen(t, "unix", filepath.Join(t.TempDir(), "o.sock"), o)
	checkListenerFD(t, u.FD, true)
}

func TestBacklog(t *testing.T) {
	b, err := os.ReadFile("/proc/sys/net/core/somaxconn")
	want := unix.SOMAXCONN
	if err == nil {
		if v, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			want = v
		}
	}
	tests := []struct {
		name string
		in   int
		want int
	}{
		{name: "default", in: 0, want: want},
		{name: "explicit", in: 7, want: 7},
	}
	for _, tt := range tests {
		if got := backlog(tt.in); got != tt.want {
			t.Errorf("%s: backlog(%d) = %d, want %d", tt.name, tt.in, got, tt.want)
		}
	}
}

// staleSocket leaves a socket file at path that nobody listens on, as a
// crashed server would.
func staleSocket(tb testing.TB, path string) {
	tb.Helper()
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		tb.Fatalf("socket: %v", err)
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		tb.Fatalf("bind %s: %v", path, err)
	}
}

func isSocketFile(tb testing.TB, path string) bool {
	tb.Helper()
	fi, err := os.Lstat(path)
	return err == nil && fi.Mode().Type() == fs.ModeSocket
}

// roundTrip dials the unix listener with package net and checks that bytes
// arrive through Accept and the package's Read.
func roundTrip(tb testing.TB, l *Listener, address string) {
	tb.Helper()
	c := dial(tb, "unix", address)
	msg := []byte("over " + address)
	if _, err := c.Write(msg); err != nil {
		tb.Fatalf("client write: %v", err)
	}
	nfd, _ := acceptOne(tb, l)
	if got := readN(tb, nfd, len(msg)); !bytes.Equal(got, msg) {
		tb.Fatalf("server read %q, want %q", got, msg)
	}
}

func TestListenUnix(t *testing.T) {
	t.Run("fresh path removed on close", func(t *testing.T) {
		checkNoFDLeak(t)
		path := filepath.Join(t.TempDir(), "s.sock")
		l := mustListen(t, "unix", path, Options{})
		checkListenerFD(t, l.FD, true)
		if a, ok := l.Addr.(*net.UnixAddr); !ok || a.Name != path || a.Net != "unix" {
			t.Fatalf("Addr = %#v, want unix %s", l.Addr, path)
		}
		roundTrip(t, l, path)
		if err := l.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("socket file after Close: %v, want it removed", err)
		}
	})
	t.Run("stale socket replaced", func(t *testing.T) {
		checkNoFDLeak(t)
		path := filepath.Join(t.TempDir(), "s.sock")
		staleSocket(t, path)
		l := mustListen(t, "unix", path, Options{})
		roundTrip(t, l, path)
	})
	t.Run("live listener kept", func(t *testing.T) {
		checkNoFDLeak(t)
		path := filepath.Join(t.TempDir(), "s.sock")
		first := mustListen(t, "unix", path, Options{})
		_, err := Listen("unix", path, Options{})
		if !errors.Is(err, unix.EADDRINUSE) {
			t.Fatalf("second Listen error = %v, want EADDRINUSE", err)
		}
		if !isSocketFile(t, path) {
			t.Fatalf("live socket file %s was removed", path)
		}
		// The liveness probe is a real connection the live server sees
		// and then reads EOF on.
		probe, _ := acceptOne(t, first)
		waitFD(t, probe, unix.POLLIN)
		if n, err := Read(probe, make([]byte, 8)); n != 0 || err != nil {
			t.Fatalf("probe connection read = (%d, %v), want EOF", n, err)
		}
		roundTrip(t, first, path)
	})
	t.Run("regular file not removed", func(t *testing.T) {
		checkNoFDLeak(t)
		path := filepath.Join(t.TempDir(), "s.sock")
		if err := os.WriteFile(path, []byte("keep"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Listen("unix", path, Options{})
		if !errors.Is(err, unix.EADDRINUSE) {
			t.Fatalf("Listen over a regular file: %v, want EADDRINUSE", err)
		}
		if b, err := os.ReadFile(path); err != nil || string(b) != "keep" {
			t.Fatalf("regular file after Listen: %q, %v", b, err)
		}
	})
	t.Run("close keeps a successor's file", func(t *testing.T) {
		checkNoFDLeak(t)
		path := filepath.Join(t.TempDir(), "s.sock")
		l := mustListen(t, "unix", path, Options{})
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte("new"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := l.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if b, err := os.ReadFile(path); err != nil || string(b) != "new" {
			t.Fatalf("successor file after Close: %q, %v", b, err)
		}
	})
	t.Run("abstract", func(t *testing.T) {
		checkNoFDLeak(t)
		name := fmt.Sprintf("@evloop-socket-test-%d", os.Getpid())
		for range 2 {
			l := mustListen(t, "unix", name, Options{})
			if a, ok := l.Addr.(*net.UnixAddr); !ok || a.Name != name {
				t.Fatalf("Addr = %#v, want %s", l.Addr, name)
			}
			roundTrip(t, l, name)
			if err := l.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
		}
	})
}
