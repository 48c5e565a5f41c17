package evloop

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// BenchmarkEcho compares evloop with a goroutine-per-connection server
// built on package net, both echoing in this process: tbEchoConns clients
// each run a closed loop (write a message, read the echo, repeat). One op is
// one message's round trip; msgs/s counts them over all connections.
//
//	go test -run XXX -bench BenchmarkEcho -benchmem -count 5 .
func BenchmarkEcho(b *testing.B) {
	servers := []struct {
		name  string
		start func(tb testing.TB) net.Addr
	}{
		{name: "evloop", start: func(tb testing.TB) net.Addr {
			return startEngine(tb, echoHandler{}, "tcp://127.0.0.1:0").addr
		}},
		// The watchdog's cost: one store per callback and per wait.
		{name: "evloop-watchdog", start: func(tb testing.TB) net.Addr {
			return startEngine(tb, echoHandler{}, "tcp://127.0.0.1:0", WithWatchdog(100*time.Millisecond)).addr
		}},
		{name: "evloop-async", start: func(tb testing.TB) net.Addr {
			return startEngine(tb, tbAsyncEcho{}, "tcp://127.0.0.1:0").addr
		}},
		{name: "stdnet", start: tbStartStdEcho},
	}
	sizes := []struct {
		name string
		size int
	}{
		{name: "64B", size: 64},
		{name: "4KiB", size: 4 << 10},
	}
	for _, srv := range servers {
		for _, sz := range sizes {
			b.Run(srv.name+"/"+sz.name, func(b *testing.B) {
				tbBenchEcho(b, srv.start(b), sz.size)
			})
		}
	}
}

// tbEchoConns is the number of concurrent client connections.
const tbEchoConns = 16

// tbBenchEcho drives b.N round trips of size-byte messages over
// tbEchoConns connections to the echo server at addr.
func tbBenchEcho(b *testing.B, addr net.Addr, size int) {
	b.Helper()
	clients := make([]net.Conn, tbEchoConns)
	msg := bytes.Repeat([]byte{'e'}, size)
	for i := range clients {
		clients[i] = tbDial(b, addr)
		// One deadline for the whole run: a stuck server fails the
		// benchmark instead of hanging it, at no cost per message.
		if err := clients[i].SetDeadline(time.Now().Add(2 * time.Minute)); err != nil {
			b.Fatal(err)
		}
		if err := tbEcho(clients[i], msg, 5*time.Second); err != nil {
			b.Fatalf("warm-up: %v", err)
		}
		if err := clients[i].SetDeadline(time.Now().Add(2 * time.Minute)); err != nil {
			b.Fatal(err)
		}
	}
	errs := make(chan error, len(clients))
	var wg sync.WaitGroup
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i, c := range clients {
		n := b.N / len(clients)
		if i < b.N%len(clients) {
			n++
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, in := bytes.Clone(msg), make([]byte, size)
			for j := 0; j < n; j++ {
				if _, err := c.Write(out); err != nil {
					errs <- fmt.Errorf("client %d, message %d: %w", i, j, err)
					return
				}
				if _, err := io.ReadFull(c, in); err != nil {
					errs <- fmt.Errorf("client %d, message %d: %w", i, j, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	close(errs)
	for err := range errs {
		b.Error(err)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
}

// tbStartStdEcho starts the reference server: package net, one goroutine
// per connection, each echoing through its own 32 KiB buffer. It is shut
// down, every goroutine joined, when the test or benchmark ends.
func tbStartStdEcho(tb testing.TB) net.Addr {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns = map[net.Conn]struct{}{}
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return // closed by the cleanup
			}
			mu.Lock()
			conns[c] = struct{}{}
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				buf := make([]byte, 32<<10)
				for {
					n, err := c.Read(buf)
					if err != nil {
						return
					}
					if _, err := c.Write(buf[:n]); err != nil {
						return
					}
				}
			}()
		}
	}()
	tb.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr()
}

// TestEchoServersAgree runs a short version of the benchmark's traffic
// against both servers as a test, so the benchmark's machinery (and the
// reference server's shutdown) is exercised by every test run.
func TestEchoServersAgree(t *testing.T) {
	servers := []struct {
		name  string
		start func(tb testing.TB) net.Addr
	}{
		{name: "evloop", start: func(tb testing.TB) net.Addr {
			return startEngine(tb, echoHandler{}, "tcp://127.0.0.1:0").addr
		}},
		// The watchdog's cost: one store per callback and per wait.
		{name: "evloop-watchdog", start: func(tb testing.TB) net.Addr {
			return startEngine(tb, echoHandler{}, "tcp://127.0.0.1:0", WithWatchdog(100*time.Millisecond)).addr
		}},
		{name: "evloop-async", start: func(tb testing.TB) net.Addr {
			return startEngine(tb, tbAsyncEcho{}, "tcp://127.0.0.1:0").addr
		}},
		{name: "stdnet", start: tbStartStdEcho},
	}
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			addr := srv.start(t)
			errs := make(chan error, tbEchoConns)
			var wg sync.WaitGroup
			for i := 0; i < tbEchoConns; i++ {
				c := tbDial(t, addr)
				wg.Add(1)
				go func() {
					defer wg.Done()
					for j := 0; j < 20; j++ {
						msg := tbPattern(i*1000+j, 1+(i*j*131)%(8<<10))
						if err := tbEcho(c, msg, 5*time.Second); err != nil {
							errs <- fmt.Errorf("client %d, message %d: %w", i, j, err)
							return
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			var all error
			for err := range errs {
				all = errors.Join(all, err)
			}
			if all != nil {
				t.Fatal(all)
			}
		})
	}
}
