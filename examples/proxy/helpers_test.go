package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/evloop/evloop/examples/internal/exampletest"
)

// startProxy runs serve with cfg (loops 2 and a 5 s dial timeout unless
// set) and stops it when the test ends, failing the test unless it stops
// cleanly within 10 s.
func startProxy(tb testing.TB, cfg config) *exampletest.Server {
	tb.Helper()
	if cfg.addr == "" {
		cfg.addr = "tcp://127.0.0.1:0"
	}
	if cfg.loops == 0 {
		cfg.loops = 2
	}
	if cfg.dialTimeout == 0 {
		cfg.dialTimeout = 5 * time.Second
	}
	return exampletest.StartServer(tb, func(ctx context.Context, ready func(net.Addr)) error {
		return serve(ctx, cfg, ready)
	})
}

// backend is a server of package net behind the proxy: a goroutine per
// connection runs serve. Everything it started is closed and waited for
// when the test ends; start it before the proxy, so the proxy stops first.
type backend struct {
	ln    net.Listener
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns map[net.Conn]bool
}

// startBackend listens on network ("tcp" on 127.0.0.1, or "unix" in a
// temporary directory) and serves every connection with serve, which
// must return when the connection is closed.
func startBackend(tb testing.TB, network string, serve func(net.Conn)) *backend {
	tb.Helper()
	address := "127.0.0.1:0"
	if network == "unix" {
		address = filepath.Join(tb.TempDir(), "backend.sock")
	}
	ln, err := net.Listen(network, address)
	if err != nil {
		tb.Fatal(err)
	}
	b := &backend{ln: ln, conns: map[net.Conn]bool{}}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			b.mu.Lock()
			b.conns[c] = true
			b.mu.Unlock()
			b.wg.Add(1)
			go func() {
				defer b.wg.Done()
				serve(c)
				b.mu.Lock()
				delete(b.conns, c)
				b.mu.Unlock()
				c.Close()
			}()
		}
	}()
	tb.Cleanup(b.close)
	return b
}

func (b *backend) close() {
	b.ln.Close()
	b.mu.Lock()
	for c := range b.conns {
		c.Close()
	}
	b.mu.Unlock()
	b.wg.Wait()
}

// flag is the backend address as -backend takes it.
func (b *backend) flag() (network, address string) {
	return b.ln.Addr().Network(), b.ln.Addr().String()
}

// echo is a backend's serve: it sends back everything, then closes after
// the client's FIN.
func echo(c net.Conn) { _, _ = io.Copy(c, c) }

// pattern returns the byte at offset i of the stream a streaming backend
// sends: it depends on the offset, so a lost, repeated or reordered chunk
// shows.
func pattern(i int64) byte { return byte(i*7 + i/251) }

// streamer is a backend's serve that writes the pattern, total bytes,
// counting what the kernel took, then closes.
type streamer struct {
	total   int64
	written atomic.Int64
	conns   chan net.Conn // each connection, for tests that kill it
}

func (s *streamer) serve(c net.Conn) {
	if s.conns != nil {
		s.conns <- c
	}
	buf := make([]byte, 32<<10)
	for off := int64(0); off < s.total; {
		n := min(int64(len(buf)), s.total-off)
		for i := range n {
			buf[i] = pattern(off + i)
		}
		k, err := c.Write(buf[:n])
		s.written.Add(int64(k))
		off += int64(k)
		if err != nil {
			return
		}
	}
}

// readPattern reads the streamer's pattern from c until EOF and checks it.
func readPattern(c net.Conn, want int64) error {
	buf := make([]byte, 64<<10)
	var off int64
	for {
		n, err := c.Read(buf)
		for i, b := range buf[:n] {
			if p := pattern(off + int64(i)); b != p {
				return fmt.Errorf("byte %d is %#x, want %#x", off+int64(i), b, p)
			}
		}
		off += int64(n)
		if errors.Is(err, io.EOF) {
			if off != want {
				return fmt.Errorf("EOF after %d bytes, want %d", off, want)
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("after %d bytes: %w", off, err)
		}
	}
}

// roundTrip sends payload through the proxy on c, half-closes, and reads
// the echo until EOF, comparing SHA-256 digests.
func roundTrip(c net.Conn, payload []byte) error {
	if err := c.SetDeadline(time.Now().Add(60 * time.Second)); err != nil {
		return err
	}
	werr := make(chan error, 1)
	go func() {
		_, err := c.Write(payload)
		if err == nil {
			err = c.(*net.TCPConn).CloseWrite()
		}
		werr <- err
	}()
	h := sha256.New()
	n, rerr := io.Copy(h, c)
	if err := errors.Join(<-werr, rerr); err != nil {
		return fmt.Errorf("after %d of %d bytes back: %w", n, len(payload), err)
	}
	if want := sha256.Sum256(payload); n != int64(len(payload)) || [32]byte(h.Sum(nil)) != want {
		return fmt.Errorf("%d bytes back for %d sent, digests differ", n, len(payload))
	}
	return nil
}

// openFDs returns the number of descriptors the process has open.
func openFDs(tb testing.TB) int {
	tb.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		tb.Fatalf("list descriptors: %v", err)
	}
	return len(ents)
}

// fdsBackTo waits up to two seconds for the process's descriptors to be
// back to n, and fails the test if they are not.
func fdsBackTo(tb testing.TB, n int) {
	tb.Helper()
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		now := openFDs(tb)
		if now <= n {
			return
		}
		if time.Now().After(deadline) {
			tb.Errorf("%d descriptors open, %d before: the proxy leaked %d", now, n, now-n)
			return
		}
	}
}

// heapInuse returns the Go heap in use, after a collection.
func heapInuse() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapInuse)
}

// closedWithin reads c until it fails or ends and reports how long that
// took, or an error if it did not within limit.
func closedWithin(c net.Conn, limit time.Duration) (time.Duration, error) {
	start := time.Now()
	if err := c.SetReadDeadline(start.Add(limit)); err != nil {
		return 0, err
	}
	buf := make([]byte, 64<<10)
	for {
		_, err := c.Read(buf)
		var ne net.Error
		switch {
		case errors.As(err, &ne) && ne.Timeout():
			return 0, fmt.Errorf("still open %v later", limit)
		case err != nil:
			return time.Since(start), nil
		}
	}
}
