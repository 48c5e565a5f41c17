package evloop

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Dial errors: their shape (a *net.OpError, as package net returns), what
// fails at once, and that a failed dial is reported once and runs no
// handler callback.

// dtClosedPort returns a loopback address nothing listens on.
func dtClosedPort(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// dtCheckDialError checks the shape of a failed dial's error: a
// *net.OpError with Op "dial", the network, the address tried (addr, or
// nil when ""), wrapping is (when not nil).
func dtCheckDialError(tb testing.TB, err error, network, addr string, is error) {
	tb.Helper()
	var oe *net.OpError
	if !errors.As(err, &oe) {
		tb.Fatalf("error %v (%T), want a *net.OpError", err, err)
	}
	if oe.Op != "dial" || oe.Net != network {
		tb.Errorf("OpError Op %q Net %q, want dial %s", oe.Op, oe.Net, network)
	}
	switch {
	case addr == "" && oe.Addr != nil:
		tb.Errorf("OpError Addr %v, want none", oe.Addr)
	case addr != "" && (oe.Addr == nil || oe.Addr.String() != addr):
		tb.Errorf("OpError Addr %v, want %s", oe.Addr, addr)
	}
	if is != nil && !errors.Is(err, is) {
		tb.Errorf("error %v does not match %v", err, is)
	}
}

// TestDialRefused: a dial to a port nothing listens on reports
// ECONNREFUSED exactly once, shaped as package net shapes it, and no
// OnOpen or OnClose runs; so does a dial to a missing unix socket, with
// ENOENT.
func TestDialRefused(t *testing.T) {
	h := &dtEchoClient{}
	s := dtStartClient(t, h, WithLoops(2))
	closed := dtClosedPort(t)
	missing := filepath.Join(t.TempDir(), "nobody.sock")

	_, err := s.eng.Dial(context.Background(), "tcp", closed)
	dtCheckDialError(t, err, "tcp", closed, syscall.ECONNREFUSED)
	var se *os.SyscallError
	if !errors.As(err, &se) || se.Syscall != "connect" {
		t.Errorf("error %v does not wrap a *os.SyscallError naming connect", err)
	}
	_, err = s.eng.Dial(context.Background(), "unix", missing)
	dtCheckDialError(t, err, "unix", missing, syscall.ENOENT)

	type outcome struct {
		c   Conn
		err error
	}
	for _, tt := range []struct{ network, addr string }{{"tcp", closed}, {"unix", missing}} {
		got := make(chan outcome, 4)
		err := s.eng.Loops()[1].Dial(tt.network, tt.addr, time.Second, nil, func(c Conn, err error) { got <- outcome{c, err} })
		if err != nil {
			t.Fatalf("Loop.Dial: %v", err)
		}
		o := tbRecv(t, got, 5*time.Second, "the dial callback")
		if o.c != nil {
			t.Errorf("callback got a connection %v with error %v", o.c, o.err)
		}
		want := error(syscall.ECONNREFUSED)
		if tt.network == "unix" {
			want = syscall.ENOENT
		}
		dtCheckDialError(t, o.err, tt.network, tt.addr, want)
		select {
		case o := <-got:
			t.Errorf("the callback ran again: %v", o.err)
		case <-time.After(100 * time.Millisecond):
		}
	}
	if h.opens.Load() != 0 || h.closes.Load() != 0 {
		t.Errorf("OnOpen ran %d times and OnClose %d times for refused dials, want none", h.opens.Load(), h.closes.Load())
	}
	if st := s.eng.Stats(); st.DialFailures != 4 || st.Dialed != 0 {
		t.Errorf("Stats = %+v, want 4 dial failures and nothing dialed", st)
	}
	if n := s.eng.CountConnections(); n != 0 {
		t.Errorf("CountConnections = %d after failed dials, want 0", n)
	}
}

// TestDialBadArguments: what cannot be dialed fails before anything
// starts, shaped as package net shapes it; the callback never runs.
func TestDialBadArguments(t *testing.T) {
	s := dtStartClient(t, &dtEchoClient{}, WithLoops(1))
	tests := []struct {
		name, network, addr string
		is                  error // nil: only the shape is checked
	}{
		{name: "udp", network: "udp", addr: "127.0.0.1:53", is: ErrUnsupportedNetwork},
		{name: "unixgram", network: "unixgram", addr: "/tmp/x", is: ErrUnsupportedNetwork},
		{name: "missing port", network: "tcp", addr: "127.0.0.1"},
		{name: "port out of range", network: "tcp", addr: "127.0.0.1:70000"},
		{name: "tcp4 to IPv6", network: "tcp4", addr: "[::1]:80"},
		{name: "tcp6 to IPv4", network: "tcp6", addr: "127.0.0.1:80"},
		{name: "empty unix path", network: "unix", addr: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.eng.Dial(context.Background(), tt.network, tt.addr)
			dtCheckDialError(t, err, tt.network, "", tt.is)
			err = s.eng.Loops()[0].Dial(tt.network, tt.addr, 0, nil, func(Conn, error) {
				t.Error("the callback ran for a dial that returned an error")
			})
			dtCheckDialError(t, err, tt.network, "", tt.is)
		})
	}
	var zero Loop
	dtCheckDialError(t, zero.Dial("tcp", "127.0.0.1:1", 0, nil, nil), "tcp", "", ErrEngineStopped)
	var none Engine
	_, err := none.Dial(context.Background(), "tcp", "127.0.0.1:1")
	dtCheckDialError(t, err, "tcp", "", ErrEngineStopped)
}

// TestDialFromEngineGoroutines: Engine.Dial, Enroll and EnrollFD wait for
// a loop, so from a loop's callback, OnBoot or OnShutdown they fail at once
// with ErrOnLoop instead of deadlocking.
func TestDialFromEngineGoroutines(t *testing.T) {
	addr := dtStdEcho(t, "tcp")
	type result struct {
		where string
		err   error
	}
	results := make(chan result, 16)
	try := func(where string, eng Engine) {
		_, err := eng.Dial(context.Background(), addr.Network(), addr.String())
		if !errors.Is(err, ErrOnLoop) {
			results <- result{where + " Dial", err}
			return
		}
		dtCheckDialError(t, err, "tcp", "", ErrOnLoop)
		if _, err := eng.EnrollFD(0); !errors.Is(err, ErrOnLoop) {
			results <- result{where + " EnrollFD", err}
			return
		}
		results <- result{where: where}
	}
	var eng atomic.Pointer[Engine]
	h := &tbHandler{
		boot: func(e Engine) Action { eng.Store(&e); try("OnBoot", e); return None },
		open: func(c Conn) ([]byte, Action) {
			try("OnOpen", *eng.Load())
			return nil, Close
		},
		shutdown: func(e Engine) { try("OnShutdown", e) },
	}
	s := startEngine(t, h, "tcp://127.0.0.1:0", WithLoops(1))
	check := func(n int) {
		for range n {
			r := tbRecv(t, results, 5*time.Second, "a result")
			if r.err != nil {
				t.Errorf("%s: %v, want ErrOnLoop", r.where, r.err)
			}
		}
	}
	check(1) // OnBoot
	s.dial(t)
	check(1) // OnOpen
	s.eng.Loops()[0].AfterFunc(0, func() { try("a loop timer", s.eng) })
	check(1)
	s.stop(t)
	check(1) // OnShutdown
}

// TestDialTimeoutError: ErrDialTimeout matches both standard timeout
// errors and is a net.Error reporting a timeout.
func TestDialTimeoutError(t *testing.T) {
	err := dialError("tcp", nil, ErrDialTimeout)
	if !errors.Is(err, os.ErrDeadlineExceeded) || !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, ErrDialTimeout) {
		t.Errorf("%v does not match os.ErrDeadlineExceeded, context.DeadlineExceeded and ErrDialTimeout", err)
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("%v is not a net.Error with Timeout() true", err)
	}
}

// TestDialCallbackPanic: a DialCallback that panics is recovered and
// counted; after a successful dial the panic closes the new connection
// with a *PanicError.
func TestDialCallbackPanic(t *testing.T) {
	addr := dtStdEcho(t, "tcp")
	closes := make(chan error, 1)
	h := &tbHandler{close: func(_ Conn, err error) Action { closes <- err; return None }}
	s := dtStartClient(t, h, WithLoops(1), WithLogger(tbQuietLogger()))
	lp := s.eng.Loops()[0]
	if err := lp.Dial("tcp", addr.String(), time.Second, nil, func(Conn, error) { panic("in the dial callback") }); err != nil {
		t.Fatal(err)
	}
	var pe *PanicError
	if err := tbRecv(t, closes, 5*time.Second, "OnClose"); !errors.As(err, &pe) || pe.Value != "in the dial callback" {
		t.Errorf("OnClose(%v), want the callback's *PanicError", err)
	}
	if err := lp.Dial("tcp", dtClosedPort(t), time.Second, nil, func(Conn, error) { panic("after a failed dial") }); err != nil {
		t.Fatal(err)
	}
	if !itEventually(5*time.Second, func() bool { return s.eng.Stats().Panics == 2 }) {
		t.Errorf("Stats().Panics = %d, want 2", s.eng.Stats().Panics)
	}
}
