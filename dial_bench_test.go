package evloop

import (
	"context"
	"net"
	"path/filepath"
	"sync"
	"testing"
)

// BenchmarkDial measures connection set-up: one op connects to a unix
// listener of package net that accepts and closes, waits until the
// connection is open (OnOpen ran, for evloop; connect returned, for
// net.Dial) and closes it. Unix sockets leave no TIME_WAIT behind, so the
// count of ops is not bounded by ephemeral ports.
//
//	go test -run XXX -bench BenchmarkDial -benchmem -count 5 .
func BenchmarkDial(b *testing.B) {
	addr := tbBenchAcceptor(b)
	b.Run("Engine.Dial", func(b *testing.B) {
		s := dtStartClient(b, &BaseHandler{}, WithLoops(1))
		ctx := context.Background()
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			c, err := s.eng.Dial(ctx, "unix", addr)
			if err != nil {
				b.Fatal(err)
			}
			_ = c.Close()
		}
	})
	b.Run("Loop.Dial", func(b *testing.B) {
		// Each dial's callback closes its connection and starts the next,
		// on the loop: what a handler dialing a backend per client does.
		s := dtStartClient(b, &BaseHandler{}, WithLoops(1))
		lp := s.eng.Loops()[0]
		done := make(chan error, 1)
		left := b.N
		var next DialCallback
		next = func(c Conn, err error) {
			if err != nil {
				done <- err
				return
			}
			_ = c.Close()
			if left--; left == 0 {
				done <- nil
				return
			}
			if err := lp.Dial("unix", addr, 0, nil, next); err != nil {
				done <- err
			}
		}
		b.ReportAllocs()
		b.ResetTimer()
		if err := lp.Dial("unix", addr, 0, nil, next); err != nil {
			b.Fatal(err)
		}
		if err := <-done; err != nil {
			b.Fatal(err)
		}
	})
	b.Run("net.Dial", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			c, err := net.Dial("unix", addr)
			if err != nil {
				b.Fatal(err)
			}
			c.Close()
		}
	})
}

// tbBenchAcceptor runs a unix listener that accepts and closes every
// connection, until the benchmark ends, and returns its path.
func tbBenchAcceptor(tb testing.TB) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "accept.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		tb.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	tb.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	return path
}
