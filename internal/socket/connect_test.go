//go:build linux && !evloop_portable

package socket

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// connectTo connects to a listener and waits for the outcome the way the
// engine does: writability, then ConnectResult.
func connectTo(tb testing.TB, sa unix.Sockaddr) (int, error) {
	tb.Helper()
	fd, err := Connect(sa)
	switch {
	case err == nil:
		return fd, nil
	case err != unix.EINPROGRESS:
		return -1, err
	}
	waitFD(tb, fd, unix.POLLOUT)
	if err := ConnectResult(fd); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

func TestConnect(t *testing.T) {
	checkNoFDLeak(t)
	tcp := mustListen(t, "tcp", "127.0.0.1:0", Options{})
	path := filepath.Join(t.TempDir(), "c.sock")
	unixLn := mustListen(t, "unix", path, Options{})
	for _, tt := range []struct {
		name string
		sa   unix.Sockaddr
		ln   *Listener
	}{
		{name: "tcp", sa: &unix.SockaddrInet4{Port: tcp.Addr.(*net.TCPAddr).Port, Addr: [4]byte{127, 0, 0, 1}}, ln: tcp},
		{name: "unix", sa: &unix.SockaddrUnix{Name: path}, ln: unixLn},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fd, err := connectTo(t, tt.sa)
			if err != nil {
				t.Fatal(err)
			}
			defer unix.Close(fd)
			flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
			if err != nil || flags&unix.O_NONBLOCK == 0 {
				t.Errorf("socket flags %#x (%v), want O_NONBLOCK", flags, err)
			}
			if fdFlags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil || fdFlags&unix.FD_CLOEXEC == 0 {
				t.Errorf("descriptor flags %#x (%v), want FD_CLOEXEC", fdFlags, err)
			}
			nfd, _ := acceptOne(t, tt.ln)
			defer unix.Close(nfd)
			if _, err := unix.Write(fd, []byte("hi")); err != nil {
				t.Fatal(err)
			}
			if got := readN(t, nfd, 2); string(got) != "hi" {
				t.Errorf("read %q", got)
			}
		})
	}
}

func TestConnectFailures(t *testing.T) {
	checkNoFDLeak(t)
	ln := mustListen(t, "tcp", "127.0.0.1:0", Options{})
	port := ln.Addr.(*net.TCPAddr).Port
	ln.Close()
	tests := []struct {
		name    string
		sa      unix.Sockaddr
		syscall string
		errno   error
	}{
		{name: "refused", sa: &unix.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}, syscall: "connect", errno: unix.ECONNREFUSED},
		{name: "no unix socket", sa: &unix.SockaddrUnix{Name: filepath.Join(t.TempDir(), "none")}, syscall: "connect", errno: unix.ENOENT},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := connectTo(t, tt.sa)
			var se *os.SyscallError
			if !errors.As(err, &se) || se.Syscall != tt.syscall || !errors.Is(err, tt.errno) {
				t.Errorf("connect = %v, want %s: %v", err, tt.syscall, tt.errno)
			}
		})
	}
}

// TestConnectSeams: connect goes through ConnectFunc and SocketFunc; an
// interrupted connect goes on in the kernel (EINPROGRESS), a failed socket
// or connect leaves no descriptor open.
func TestConnectSeams(t *testing.T) {
	checkNoFDLeak(t)
	sa := &unix.SockaddrInet4{Port: 9, Addr: [4]byte{127, 0, 0, 1}}
	swapHook(t, &ConnectFunc, func(int, unix.Sockaddr) error { return unix.EINTR })
	fd, err := Connect(sa)
	if err != unix.EINPROGRESS {
		t.Errorf("Connect after EINTR = %v, want EINPROGRESS", err)
	}
	if fd >= 0 {
		unix.Close(fd)
	}
	swapHook(t, &ConnectFunc, func(int, unix.Sockaddr) error { return unix.ENETUNREACH })
	if fd, err := Connect(sa); fd != -1 || !errors.Is(err, unix.ENETUNREACH) {
		t.Errorf("Connect = (%d, %v), want (-1, ENETUNREACH)", fd, err)
	}
	swapHook(t, &SocketFunc, func(int, int, int) (int, error) { return -1, unix.EMFILE })
	var se *os.SyscallError
	if fd, err := Connect(sa); fd != -1 || !errors.As(err, &se) || se.Syscall != "socket" || !errors.Is(err, unix.EMFILE) {
		t.Errorf("Connect = (%d, %v), want (-1, socket: EMFILE)", fd, err)
	}
	if _, err := Connect(&unix.SockaddrNetlink{}); !errors.Is(err, ErrBadAddress) {
		t.Errorf("Connect(netlink) = %v, want ErrBadAddress", err)
	}
}

func TestDialAddrs(t *testing.T) {
	tests := []struct {
		network, address string
		want             string // the addresses, space-separated; "" with ok false: needs a look-up
		ok               bool
		bad              error // the error it must wrap
	}{
		{network: "tcp", address: "127.0.0.1:80", want: "127.0.0.1:80", ok: true},
		{network: "tcp", address: "[::1]:80", want: "[::1]:80", ok: true},
		{network: "tcp6", address: "[fe80::1%2]:80", want: "[fe80::1%2]:80", ok: true},
		{network: "tcp4", address: ":80", want: "0.0.0.0:80", ok: true},
		{network: "tcp6", address: ":80", want: "[::]:80", ok: true},
		{network: "tcp4", address: "[::ffff:10.0.0.1]:80", want: "10.0.0.1:80", ok: true},
		{network: "unix", address: "/tmp/s.sock", want: "/tmp/s.sock", ok: true},
		{network: "unix", address: "@abstract", want: "@abstract", ok: true},
		{network: "tcp", address: "localhost:80"},
		{network: "tcp", address: "127.0.0.1:http"},
		{network: "tcp", address: "[fe80::1%lo]:80"},
		{network: "tcp", address: "127.0.0.1", bad: ErrBadAddress},
		{network: "tcp", address: "127.0.0.1:", bad: ErrBadAddress},
		{network: "tcp", address: "127.0.0.1:65536", bad: ErrBadAddress},
		{network: "tcp", address: "", bad: ErrBadAddress},
		{network: "tcp", address: "::1:80", bad: ErrBadAddress},
		{network: "tcp4", address: "[::1]:80", bad: ErrBadAddress},
		{network: "tcp6", address: "127.0.0.1:80", bad: ErrBadAddress},
		{network: "unix", address: "", bad: ErrBadAddress},
		{network: "udp", address: "127.0.0.1:53", bad: ErrBadNetwork},
	}
	for _, tt := range tests {
		addrs, ok, err := DialAddrs(tt.network, tt.address)
		if tt.bad != nil {
			if !errors.Is(err, tt.bad) {
				t.Errorf("DialAddrs(%s, %q) = %v, %v, %v; want an error wrapping %v", tt.network, tt.address, addrs, ok, err, tt.bad)
			}
			continue
		}
		if err != nil || ok != tt.ok || joinAddrs(addrs) != tt.want {
			t.Errorf("DialAddrs(%s, %q) = %q, %v, %v; want %q, %v", tt.network, tt.address, joinAddrs(addrs), ok, err, tt.want, tt.ok)
		}
	}
}

func joinAddrs(addrs []net.Addr) string {
	s := ""
	for i, a := range addrs {
		if i > 0 {
			s += " "
		}
		s += a.String()
	}
	return s
}

func TestResolveDial(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	addrs, err := ResolveDial(ctx, "tcp4", "localhost:80")
	if err != nil {
		t.Fatalf("ResolveDial(tcp4, localhost:80): %v", err)
	}
	for _, a := range addrs {
		if ta := a.(*net.TCPAddr); ta.IP.To4() == nil || !ta.IP.IsLoopback() || ta.Port != 80 {
			t.Errorf("localhost resolved to %v, want IPv4 loopback, port 80", a)
		}
	}
	if addrs, err := ResolveDial(ctx, "tcp", "127.0.0.1:http"); err != nil || joinAddrs(addrs) != "127.0.0.1:80" {
		t.Errorf("ResolveDial(127.0.0.1:http) = %q, %v; want 127.0.0.1:80", joinAddrs(addrs), err)
	}
	if addrs, err := ResolveDial(ctx, "tcp", "[fe80::1%lo]:80"); err != nil || len(addrs) != 1 || addrs[0].(*net.TCPAddr).Zone == "lo" {
		t.Errorf("ResolveDial([fe80::1%%lo]:80) = %v, %v; want the zone as an index", addrs, err)
	}
	var dnsErr *net.DNSError
	if _, err := ResolveDial(ctx, "tcp", "no-such-host.invalid:80"); !errors.As(err, &dnsErr) {
		t.Errorf("ResolveDial(no-such-host.invalid) = %v, want a *net.DNSError", err)
	}
	cancelled, stop := context.WithCancel(context.Background())
	stop()
	if _, err := ResolveDial(cancelled, "tcp", "localhost:80"); err == nil {
		t.Error("ResolveDial with a cancelled context succeeded")
	}
}

func TestInspect(t *testing.T) {
	checkNoFDLeak(t)
	ln := mustListen(t, "tcp", "127.0.0.1:0", Options{})
	in, err := Inspect(ln.FD)
	if err != nil || in.Type != unix.SOCK_STREAM || in.Domain != unix.AF_INET || in.Protocol != unix.IPPROTO_TCP || !in.Listening {
		t.Errorf("Inspect(tcp listener) = %+v, %v", in, err)
	}
	a, _ := socketPair(t)
	if in, err := Inspect(a); err != nil || in.Domain != unix.AF_UNIX || in.Listening {
		t.Errorf("Inspect(socketpair) = %+v, %v", in, err)
	}
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	if _, err := Inspect(p[0]); !errors.Is(err, unix.ENOTSOCK) {
		t.Errorf("Inspect(pipe) = %v, want ENOTSOCK", err)
	}
	d, err := Dup(a)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(d)
	if flags, err := unix.FcntlInt(uintptr(d), unix.F_GETFD, 0); err != nil || flags&unix.FD_CLOEXEC == 0 {
		t.Errorf("Dup's descriptor flags %#x (%v), want FD_CLOEXEC", flags, err)
	}
	if err := SetNonblock(d); err != nil {
		t.Fatal(err)
	}
}
