//go:build (linux || darwin || dragonfly || freebsd || netbsd || openbsd) && !evloop_portable

package socket

import (
	"errors"
	"math"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// tcpSocket returns an unconnected TCP socket closed at cleanup.
func tcpSocket(tb testing.TB) int {
	tb.Helper()
	fd, err := openSocket(unix.AF_INET, unix.SOCK_STREAM)
	if err != nil {
		tb.Fatalf("socket: %v", err)
	}
	tb.Cleanup(func() { unix.Close(fd) })
	return fd
}

type intOpt struct {
	level, opt int
	want       int
	atLeast    bool // SO_RCVBUF and SO_SNDBUF come back doubled
}

// optCase sets options on a fresh TCP socket and checks what it reads back.
type optCase struct {
	name  string
	set   func(fd int) error
	check []intOpt
}

// runOptCases runs each case as a subtest.
func runOptCases(t *testing.T, tests []optCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fd := tcpSocket(t)
			if err := tt.set(fd); err != nil {
				t.Fatalf("set: %v", err)
			}
			for _, c := range tt.check {
				got := getInt(t, fd, c.level, c.opt)
				if !c.atLeast && c.want <= 1 {
					got = flag(got) // a boolean option
				}
				if (c.atLeast && got < c.want) || (!c.atLeast && got != c.want) {
					t.Errorf("getsockopt(%d, %d) = %d, want %d (at least: %v)", c.level, c.opt, got, c.want, c.atLeast)
				}
			}
		})
	}
}

func TestSockopts(t *testing.T) {
	tests := []optCase{
		{name: "nodelay on", set: func(fd int) error { return SetNoDelay(fd, true) },
			check: []intOpt{{level: unix.IPPROTO_TCP, opt: unix.TCP_NODELAY, want: 1}}},
		{name: "nodelay off", set: func(fd int) error { return SetNoDelay(fd, false) },
			check: []intOpt{{level: unix.IPPROTO_TCP, opt: unix.TCP_NODELAY, want: 0}}},
		{name: "keepalive off", set: func(fd int) error {
			if err := SetKeepAlive(fd, time.Minute, time.Minute, 3); err != nil {
				return err
			}
			return SetKeepAlive(fd, 0, time.Second, 3)
		}, check: []intOpt{{level: unix.SOL_SOCKET, opt: unix.SO_KEEPALIVE, want: 0}}},
		{name: "recv buffer", set: func(fd int) error { return SetRecvBuffer(fd, 100000) },
			check: []intOpt{{level: unix.SOL_SOCKET, opt: unix.SO_RCVBUF, want: 100000, atLeast: true}}},
		{name: "send buffer", set: func(fd int) error { return SetSendBuffer(fd, 50000) },
			check: []intOpt{{level: unix.SOL_SOCKET, opt: unix.SO_SNDBUF, want: 50000, atLeast: true}}},
		{name: "reuseaddr on", set: func(fd int) error { return SetReuseAddr(fd, true) },
			check: []intOpt{{level: unix.SOL_SOCKET, opt: unix.SO_REUSEADDR, want: 1}}},
		{name: "reuseaddr off", set: func(fd int) error { return SetReuseAddr(fd, false) },
			check: []intOpt{{level: unix.SOL_SOCKET, opt: unix.SO_REUSEADDR, want: 0}}},
		{name: "reuseport on", set: func(fd int) error { return SetReusePort(fd, true) },
			check: []intOpt{{level: unix.SOL_SOCKET, opt: reusePortOption, want: 1}}},
		{name: "reuseport off", set: func(fd int) error {
			if err := SetReusePort(fd, true); err != nil {
				return err
			}
			return SetReusePort(fd, false)
		}, check: []intOpt{{level: unix.SOL_SOCKET, opt: reusePortOption, want: 0}}},
	}
	runOptCases(t, tests)
}

func TestSetLinger(t *testing.T) {
	tests := []struct {
		name       string
		sec        int
		wantOnoff  int32
		wantLinger int32
	}{
		{name: "off", sec: -1, wantOnoff: 0, wantLinger: 0},
		{name: "reset on close", sec: 0, wantOnoff: 1, wantLinger: 0},
		{name: "linger", sec: 5, wantOnoff: 1, wantLinger: 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fd := tcpSocket(t)
			if err := SetLinger(fd, tt.sec); err != nil {
				t.Fatalf("SetLinger(%d): %v", tt.sec, err)
			}
			l, err := unix.GetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER)
			if err != nil {
				t.Fatal(err)
			}
			if l.Onoff != tt.wantOnoff || l.Linger != tt.wantLinger {
				t.Fatalf("SO_LINGER = {%d %d}, want {%d %d}", l.Onoff, l.Linger, tt.wantOnoff, tt.wantLinger)
			}
		})
	}
}

// TestSetLingerZeroResets shows what linger 0 is for: the peer sees a reset
// instead of an orderly end of stream.
func TestSetLingerZeroResets(t *testing.T) {
	checkNoFDLeak(t)
	l := mustListen(t, "tcp", "127.0.0.1:0", Options{})
	c := dial(t, "tcp", l.Addr.String())
	waitFD(t, l.FD, unix.POLLIN)
	nfd, _, err := Accept(l.FD)
	if err != nil {
		t.Fatalf("Accept: %v", err)
	}
	if err := SetLinger(nfd, 0); err != nil {
		unix.Close(nfd)
		t.Fatal(err)
	}
	if err := Close(nfd); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, unix.ECONNRESET) {
		t.Fatalf("client read after linger-0 close: %v, want ECONNRESET", err)
	}
}

func TestSockoptErrors(t *testing.T) {
	fd := tcpSocket(t)
	tests := []struct {
		name  string
		call  func() error
		errno error
	}{
		{name: "nodelay bad fd", call: func() error { return SetNoDelay(-1, true) }, errno: unix.EBADF},
		{name: "keepalive bad fd", call: func() error { return SetKeepAlive(-1, time.Second, 0, 0) }, errno: unix.EBADF},
		{name: "keepalive off bad fd", call: func() error { return SetKeepAlive(-1, 0, 0, 0) }, errno: unix.EBADF},
		{name: "keepalive idle too long", call: func() error { return SetKeepAlive(fd, time.Duration(math.MaxInt64), 0, 0) }, errno: unix.EINVAL},
		{name: "keepalive interval too long", call: func() error { return SetKeepAlive(fd, time.Second, 100*time.Hour, 0) }, errno: unix.EINVAL},
		{name: "keepalive count too big", call: func() error { return SetKeepAlive(fd, time.Second, time.Second, 1000) }, errno: unix.EINVAL},
		{name: "negative recv buffer", call: func() error { return SetRecvBuffer(fd, -1) }, errno: unix.EINVAL},
		{name: "negative send buffer", call: func() error { return SetSendBuffer(fd, -5) }, errno: unix.EINVAL},
		{name: "reuseaddr bad fd", call: func() error { return SetReuseAddr(-1, true) }, errno: unix.EBADF},
		{name: "reuseport bad fd", call: func() error { return SetReusePort(-1, true) }, errno: unix.EBADF},
		{name: "linger bad fd", call: func() error { return SetLinger(-1, 0) }, errno: unix.EBADF},
		{name: "nodelay on a unix socket", call: func() error {
			a, _ := socketPair(t)
			return SetNoDelay(a, true)
		}, errno: unix.EOPNOTSUPP},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			var se *os.SyscallError
			if !errors.As(err, &se) || se.Syscall != "setsockopt" {
				t.Fatalf("error %v (%T) is not a setsockopt *os.SyscallError", err, err)
			}
			if !errors.Is(err, tt.errno) {
				t.Fatalf("error %v does not wrap %v", err, tt.errno)
			}
		})
	}
}
