package exampletest

import (
	"context"
	"net"
	"testing"
	"time"
)

// Server is an example's serve function running on its own goroutine for
// one test.
type Server struct {
	Addr   net.Addr // the address serve announced as ready
	cancel context.CancelFunc
	errc   chan error
}

// StartServer runs serve and stops it when the test ends, failing the test
// unless it stops cleanly within 10 s. serve must call ready with its
// address once it accepts connections, and return nil once ctx is done.
func StartServer(tb testing.TB, serve func(ctx context.Context, ready func(net.Addr)) error) *Server {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{cancel: cancel, errc: make(chan error, 1)}
	ready := make(chan net.Addr, 1)
	go func() { s.errc <- serve(ctx, func(a net.Addr) { ready <- a }) }()
	select {
	case s.Addr = <-ready:
	case err := <-s.errc:
		cancel()
		tb.Fatalf("serve returned before it was ready: %v", err)
	case <-time.After(10 * time.Second):
		cancel()
		tb.Fatal("server not ready within 10s")
	}
	tb.Cleanup(func() { s.Stop(tb) })
	return s
}

// Stop cancels serve's context and checks it returns nil; it is idempotent.
func (s *Server) Stop(tb testing.TB) {
	tb.Helper()
	if s.errc == nil {
		return
	}
	s.cancel()
	select {
	case err := <-s.errc:
		if err != nil {
			tb.Errorf("serve returned %v after a graceful stop", err)
		}
	case <-time.After(10 * time.Second):
		tb.Error("serve did not return within 10s of the stop")
	}
	s.errc = nil
}

// Dial connects to the server and closes the connection when the test
// ends.
func (s *Server) Dial(tb testing.TB) net.Conn {
	tb.Helper()
	c, err := net.DialTimeout(s.Addr.Network(), s.Addr.String(), 5*time.Second)
	if err != nil {
		tb.Fatalf("dial %v: %v", s.Addr, err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}
