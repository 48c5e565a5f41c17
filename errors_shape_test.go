package evloop

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestErrorShapeRun checks the shape of every error Run returns for an
// address it cannot serve, the way net/error_test.go does for package net:
// each is a *net.OpError with Op "listen" (and the network and address
// where Run got that far), the underlying errno stays reachable with
// errors.Is through an *os.SyscallError naming the syscall, and no text
// names an internal package.
func TestErrorShapeRun(t *testing.T) {
	busyUDP, err := net.ListenPacket("udp", "127.0.0.1:0") // without SO_REUSEPORT
	if err != nil {
		t.Fatal(err)
	}
	defer busyUDP.Close()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyUnix := filepath.Join(t.TempDir(), "busy.sock")
	busyUnixLn, err := net.Listen("unix", busyUnix)
	if err != nil {
		t.Fatal(err)
	}
	defer busyUnixLn.Close()
	missingDir := filepath.Join(t.TempDir(), "no", "such", "s.sock")

	tests := []struct {
		name    string
		addr    string
		opts    []Option
		net     string // OpError.Net
		addrStr string // OpError.Addr.String(); "" means Addr is nil
		is      error  // errors.Is must hold; nil: none to check
		syscall string // the *os.SyscallError's Syscall; "" means none expected
	}{
		{name: "bad scheme", addr: "http://127.0.0.1:80"},
		{name: "empty scheme", addr: "://127.0.0.1:80"},
		{name: "missing port", addr: "tcp://127.0.0.1"},
		{name: "port out of range", addr: "tcp://127.0.0.1:70000"},
		{name: "named port", addr: "127.0.0.1:http"},
		{name: "ipv6 without brackets", addr: "tcp://::1:80"},
		{name: "empty unix path", addr: "unix://"},
		{
			name: "udp address in use", addr: "udp://" + busyUDP.LocalAddr().String(),
			net: "udp", addrStr: busyUDP.LocalAddr().String(), is: syscall.EADDRINUSE, syscall: "bind",
		},
		{name: "unixgram", addr: "unixgram://" + filepath.Join(t.TempDir(), "g.sock"), net: "unixgram", is: ErrUnsupportedNetwork},
		{name: "unixpacket", addr: "unixpacket://" + filepath.Join(t.TempDir(), "p.sock"), net: "unixpacket", is: ErrUnsupportedNetwork},
		{
			name: "address in use", addr: "tcp://" + busy.Addr().String(),
			net: "tcp", addrStr: busy.Addr().String(), is: syscall.EADDRINUSE, syscall: "bind",
		},
		{
			name: "address in use reuseport", addr: "tcp://" + busy.Addr().String(), opts: []Option{WithReusePort(true)},
			net: "tcp", addrStr: busy.Addr().String(), is: syscall.EADDRINUSE, syscall: "bind",
		},
		{
			name: "unix path in use", addr: "unix://" + busyUnix,
			net: "unix", addrStr: busyUnix, is: syscall.EADDRINUSE, syscall: "bind",
		},
		{
			name: "unix path in a missing directory", addr: "unix://" + missingDir,
			net: "unix", addrStr: missingDir, is: syscall.ENOENT, syscall: "bind",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			booted, err := tbRunToEnd(t, tt.addr, append([]Option{WithLoops(2)}, tt.opts...)...)
			if err == nil || booted {
				t.Fatalf("Run(%q) = %v (booted %v), want an error before boot", tt.addr, err, booted)
			}
			t.Logf("Run(%q) = %v", tt.addr, err)
			tbCheckOpError(t, err, "listen", tt.net, tt.addrStr)
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v does not wrap %v", err, tt.is)
			}
			var se *os.SyscallError
			switch {
			case tt.syscall == "" && errors.As(err, &se):
				t.Errorf("error %v wraps a syscall error %q, want none", err, se.Syscall)
			case tt.syscall != "" && !errors.As(err, &se):
				t.Errorf("error %v does not wrap an *os.SyscallError", err)
			case tt.syscall != "" && se.Syscall != tt.syscall:
				t.Errorf("error %v: syscall %q, want %q", err, se.Syscall, tt.syscall)
			}
		})
	}
}

// tbCheckOpError checks that err is a *net.OpError for op on network
// (OpError.Net) and addr (OpError.Addr.String(); "" wants a nil Addr), and
// that no text in the chain names an internal package.
func tbCheckOpError(tb testing.TB, err error, op, network, addr string) {
	tb.Helper()
	var oe *net.OpError
	if !errors.As(err, &oe) {
		tb.Errorf("error %v (%T) is not a *net.OpError", err, err)
		return
	}
	if oe.Op != op || oe.Net != network {
		tb.Errorf("error %v: Op %q, Net %q, want %q, %q", err, oe.Op, oe.Net, op, network)
	}
	switch {
	case addr == "" && oe.Addr != nil:
		tb.Errorf("error %v: Addr %v, want none", err, oe.Addr)
	case addr != "" && (oe.Addr == nil || oe.Addr.String() != addr):
		tb.Errorf("error %v: Addr %v, want %s", err, oe.Addr, addr)
	}
	for e := err; e != nil; e = errors.Unwrap(e) {
		for _, leak := range []string{"socket:", "poller:", "queue:"} {
			if strings.Contains(e.Error(), leak) {
				tb.Errorf("error text %q names an internal package (%q)", e.Error(), leak)
			}
		}
	}
}

// TestErrorShapeAccept: the error an accept back-off is logged with is a
// *net.OpError for "accept" on the listener's network and address,
// wrapping the accept4 *os.SyscallError.
func TestErrorShapeAccept(t *testing.T) {
	tbInstallFaultyAccept(t, 1, syscall.EMFILE)
	rec := &tbLogRecorder{}
	s := startEngine(t, echoHandler{}, "tcp://127.0.0.1:0", WithLoops(1), WithLogger(slog.New(rec)))
	if err := tbEcho(s.dial(t), []byte("after the back-off"), 10*time.Second); err != nil {
		t.Fatal(err)
	}
	s.stop(t)
	errs := rec.errs("evloop: accept failed; backing off")
	if len(errs) == 0 {
		t.Fatalf("no accept back-off was logged; records: %v", rec.messages())
	}
	for _, err := range errs {
		tbCheckOpError(t, err, "accept", "tcp", s.addr.String())
		var se *os.SyscallError
		if !errors.As(err, &se) || se.Syscall != "accept4" || !errors.Is(err, syscall.EMFILE) {
			t.Errorf("logged error %v does not wrap accept4's EMFILE as an *os.SyscallError", err)
		}
	}
}

// tbLogRecorder is a slog.Handler that keeps every record, at every level.
type tbLogRecorder struct {
	mu      sync.Mutex
	records []slog.Record
}

func (r *tbLogRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *tbLogRecorder) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *tbLogRecorder) WithGroup(string) slog.Handler            { return r }

func (r *tbLogRecorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.records = append(r.records, rec.Clone())
	return nil
}

// errs returns the "err" attribute of every record with message msg.
func (r *tbLogRecorder) errs(msg string) []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var errs []error
	for _, rec := range r.records {
		if rec.Message != msg {
			continue
		}
		rec.Attrs(func(a slog.Attr) bool {
			if err, ok := a.Value.Any().(error); ok && a.Key == "err" {
				errs = append(errs, err)
			}
			return true
		})
	}
	return errs
}

func (r *tbLogRecorder) messages() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var msgs []string
	for _, rec := range r.records {
		msgs = append(msgs, rec.Message)
	}
	return msgs
}
