//go:build unix

package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"runtime/debug"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// raceEnabled reports whether the tests run under the race detector, which
// makes the bulk tests several times slower: they scale their sizes down.
var raceEnabled = func() bool {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "-race" {
				return s.Value == "true"
			}
		}
	}
	return false
}()

// scale returns full, or reduced under -short or the race detector.
func scale(full, reduced int) int {
	if testing.Short() || raceEnabled {
		return reduced
	}
	return full
}

// TestProxyIntegrity sends 100 connections' worth of random payloads (up
// to 4 MiB each) through the proxy to an echo backend, 25 at a time, and
// checks each echo's SHA-256; a few through a unix backend too.
func TestProxyIntegrity(t *testing.T) {
	tests := []struct {
		name         string
		network      string
		conns, limit int
	}{
		{name: "tcp backend", network: "tcp", conns: scale(100, 20), limit: scale(4<<20, 1<<20)},
		{name: "unix backend", network: "unix", conns: 10, limit: scale(4<<20, 1<<20)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := startBackend(t, tt.network, echo)
			network, address := b.flag()
			p := startProxy(t, config{backendNet: network, backendAddr: address})
			var seed [32]byte
			binary.LittleEndian.PutUint64(seed[:], rand.Uint64())
			t.Logf("payload seed %x", seed[:8])
			rng := rand.NewChaCha8(seed)
			sizes := make([]int, tt.conns)
			for i := range sizes {
				sizes[i] = 1 + int(rng.Uint64()%uint64(tt.limit))
			}
			sizes[0], sizes[len(sizes)-1] = 1, tt.limit
			window := make(chan struct{}, 25)
			errc := make(chan error, tt.conns)
			start := time.Now()
			var total int64
			for i, n := range sizes {
				payload := make([]byte, n)
				_, _ = rng.Read(payload)
				total += int64(n)
				c := p.Dial(t)
				window <- struct{}{}
				go func() {
					defer func() { <-window }()
					if err := roundTrip(c, payload); err != nil {
						errc <- fmt.Errorf("connection %d (%d bytes): %w", i, n, err)
						return
					}
					errc <- nil
				}()
			}
			for range sizes {
				if err := <-errc; err != nil {
					t.Error(err)
				}
			}
			t.Logf("%d connections, %.1f MiB each way, in %v", tt.conns, float64(total)/(1<<20), time.Since(start).Round(time.Millisecond))
		})
	}
}

// TestProxyLargeEcho sends one payload far larger than every buffer on
// the way (64 MiB) through the proxy to an echo backend while reading the
// echo: each direction's backpressure must hold only the end that feeds a
// full one, or the pair deadlocks (the backend, blocked writing its echo,
// stops reading).
func TestProxyLargeEcho(t *testing.T) {
	for _, network := range []string{"tcp", "unix"} {
		t.Run(network, func(t *testing.T) {
			b := startBackend(t, network, echo)
			backendNet, address := b.flag()
			p := startProxy(t, config{backendNet: backendNet, backendAddr: address, loops: 1})
			payload := make([]byte, scale(64<<20, 16<<20))
			for i := range payload {
				payload[i] = pattern(int64(i))
			}
			start := time.Now()
			if err := roundTrip(p.Dial(t), payload); err != nil {
				t.Fatal(err)
			}
			t.Logf("%d MiB each way in %v", len(payload)>>20, time.Since(start).Round(time.Millisecond))
		})
	}
}

// TestProxyBackpressure: a client that does not read while the backend
// streams 64 MiB holds the backend back through the proxy, whose heap
// stays flat (it pauses reading the backend while the client's output is
// above the high watermark); the client then reads everything, in order.
func TestProxyBackpressure(t *testing.T) {
	// Not scaled down under the race detector: the stream must outgrow
	// every buffer on the way (the kernel's on both sockets held up to
	// 13 MiB here), and a stream that stalls early costs no time.
	s := &streamer{total: 64 << 20}
	b := startBackend(t, "tcp", s.serve)
	network, address := b.flag()
	p := startProxy(t, config{backendNet: network, backendAddr: address, loops: 1})
	base := heapInuse()
	c := p.Dial(t)
	if err := c.(*net.TCPConn).SetReadBuffer(64 << 10); err != nil {
		t.Fatal(err)
	}
	// Wait for the stream to stall: no progress for 300 ms.
	var stalledAt int64
	deadline := time.Now().Add(10 * time.Second)
	for last := int64(-1); ; {
		time.Sleep(300 * time.Millisecond)
		n := s.written.Load()
		if n == last && n > 0 {
			stalledAt = n
			break
		}
		if time.Now().After(deadline) || n >= s.total {
			t.Fatalf("the backend wrote %d of %d bytes to a client that reads nothing: not held back", n, s.total)
		}
		last = n
	}
	growth := heapInuse() - base
	t.Logf("backend held after %.1f MiB of %.0f MiB; proxy heap grew by %.2f MiB", float64(stalledAt)/(1<<20), float64(s.total)/(1<<20), float64(growth)/(1<<20))
	if growth > 6<<20 {
		t.Errorf("heap grew by %.1f MiB while the client did not read, want a few MiB at most", float64(growth)/(1<<20))
	}
	time.Sleep(300 * time.Millisecond)
	if n := s.written.Load(); n != stalledAt {
		t.Errorf("the backend went on writing (%d, then %d bytes) while the client did not read", stalledAt, n)
	}
	if err := c.SetReadDeadline(time.Now().Add(60 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := readPattern(c, s.total); err != nil {
		t.Fatal(err)
	}
}

// TestProxyBackendReset: a backend that dies with a reset mid-stream
// closes its client within a second, with a reset of its own; the proxy
// then stops cleanly with no descriptor left behind.
func TestProxyBackendReset(t *testing.T) {
	s := &streamer{total: 1 << 40, conns: make(chan net.Conn, 1)}
	b := startBackend(t, "tcp", s.serve)
	network, address := b.flag()
	fds := openFDs(t)
	p := startProxy(t, config{backendNet: network, backendAddr: address})
	c := p.Dial(t)
	if _, err := io.ReadFull(c, make([]byte, 1<<20)); err != nil {
		t.Fatalf("reading the stream: %v", err)
	}
	var bc net.Conn
	select {
	case bc = <-s.conns:
	case <-time.After(5 * time.Second):
		t.Fatal("the backend saw no connection")
	}
	if err := bc.(*net.TCPConn).SetLinger(0); err != nil {
		t.Fatal(err)
	}
	bc.Close() // a reset: what a crashed backend with unread input sends
	took, err := closedWithin(c, time.Second)
	if err != nil {
		t.Fatalf("client after its backend reset: %v", err)
	}
	t.Logf("client closed %v after its backend reset", took.Round(time.Millisecond))
	p.Stop(t)
	c.Close()
	fdsBackTo(t, fds)
}

// TestProxyRefusedBackend: when the backend refuses the connection (no
// listener, no unix socket) or does not answer within the dial timeout,
// the client is closed promptly; bytes it sent are dropped with it, and
// no descriptor is left behind.
func TestProxyRefusedBackend(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	tests := []struct {
		name             string
		network, address string
		timeout          time.Duration
		limit            time.Duration
	}{
		{name: "refused", network: "tcp", address: closed, limit: time.Second},
		{name: "no unix socket", network: "unix", address: t.TempDir() + "/none.sock", limit: time.Second},
		// TEST-NET-1 (RFC 5737): unreachable, or silent until the timeout.
		{name: "no answer", network: "tcp", address: "192.0.2.1:9", timeout: 200 * time.Millisecond, limit: 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fds := openFDs(t)
			p := startProxy(t, config{backendNet: tt.network, backendAddr: tt.address, dialTimeout: tt.timeout})
			for i := range 5 {
				c := p.Dial(t)
				if _, err := c.Write([]byte("hello?")); err != nil {
					t.Fatal(err)
				}
				took, err := closedWithin(c, tt.limit)
				if err != nil {
					t.Fatalf("client %d: %v", i, err)
				}
				if i == 0 {
					t.Logf("client closed %v after connecting", took.Round(time.Millisecond))
				}
				c.Close()
			}
			p.Stop(t)
			fdsBackTo(t, fds)
		})
	}
}

// TestProxyHalfClose: a FIN passes through the proxy in both directions
// while the other direction goes on.
func TestProxyHalfClose(t *testing.T) {
	t.Run("client first", func(t *testing.T) {
		// The backend reads the request until EOF, answers a little
		// later, then closes.
		got := make(chan string, 1)
		b := startBackend(t, "tcp", func(c net.Conn) {
			_ = c.SetDeadline(time.Now().Add(10 * time.Second))
			req, _ := io.ReadAll(c)
			got <- string(req)
			time.Sleep(100 * time.Millisecond)
			_, _ = c.Write([]byte("response to " + string(req)))
		})
		network, address := b.flag()
		p := startProxy(t, config{backendNet: network, backendAddr: address})
		c := p.Dial(t)
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Write([]byte("request")); err != nil {
			t.Fatal(err)
		}
		if err := c.(*net.TCPConn).CloseWrite(); err != nil {
			t.Fatal(err)
		}
		select {
		case req := <-got:
			if req != "request" {
				t.Errorf("backend read %q then EOF, want request", req)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the backend never read EOF: the client's FIN did not pass")
		}
		resp, err := io.ReadAll(c)
		if err != nil || string(resp) != "response to request" {
			t.Errorf("client read %q, %v; want the response, then EOF", resp, err)
		}
	})
	t.Run("backend first", func(t *testing.T) {
		// The backend greets and shuts down its side at once, then reads
		// what the client sends until EOF.
		got := make(chan string, 1)
		b := startBackend(t, "tcp", func(c net.Conn) {
			_ = c.SetDeadline(time.Now().Add(10 * time.Second))
			_, _ = c.Write([]byte("hello"))
			_ = c.(*net.TCPConn).CloseWrite()
			req, _ := io.ReadAll(c)
			got <- string(req)
		})
		network, address := b.flag()
		p := startProxy(t, config{backendNet: network, backendAddr: address})
		c := p.Dial(t)
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		greeting, err := io.ReadAll(c)
		if err != nil || string(greeting) != "hello" {
			t.Fatalf("client read %q, %v; want hello, then EOF", greeting, err)
		}
		// EOF came, and the client may still write.
		time.Sleep(50 * time.Millisecond)
		if _, err := c.Write([]byte("late words")); err != nil {
			t.Fatalf("client write after the backend's FIN: %v", err)
		}
		if err := c.(*net.TCPConn).CloseWrite(); err != nil {
			t.Fatal(err)
		}
		select {
		case req := <-got:
			if req != "late words" {
				t.Errorf("backend read %q then EOF, want the late words", req)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the backend never read EOF")
		}
		if _, err := closedWithin(c, time.Second); err != nil {
			t.Errorf("client after both FINs: %v", err)
		}
	})
}

// TestProxyEarlyBytes: what a client sends before its backend connection
// is established waits in the proxy and is forwarded once it is. The
// backend's accept queue is kept full, so the proxy's SYN is dropped and
// its connect completes only on a retransmission, a second or so later.
func TestProxyEarlyBytes(t *testing.T) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0) // darwin has no SOCK_CLOEXEC
	if err != nil {
		t.Fatal(err)
	}
	unix.CloseOnExec(fd)
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(fd), "backend")
	ln, err := net.FileListener(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	filler, err := net.Dial("tcp", ln.Addr().String()) // fills the backlog of 0
	if err != nil {
		t.Fatal(err)
	}
	defer filler.Close()
	p := startProxy(t, config{backendNet: "tcp", backendAddr: ln.Addr().String(), loops: 1})
	c := p.Dial(t)
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	early := bytes.Repeat([]byte("early bytes "), 1000)
	if _, err := c.Write(early); err != nil {
		t.Fatal(err)
	}
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	var echoed atomic.Bool
	done := make(chan error, 1)
	go func() {
		// Make room and serve what comes: the filler first, then the
		// proxy's connection, which echoes.
		for i := 0; i < 2; i++ {
			bc, err := ln.Accept()
			if err != nil {
				done <- err
				return
			}
			if i == 0 {
				bc.Close()
				continue
			}
			echoed.Store(true)
			_, err = io.Copy(bc, bc)
			bc.Close()
			done <- err
			return
		}
	}()
	start := time.Now()
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("client read %d bytes: %v", len(got), err)
	}
	if !bytes.Equal(got, early) {
		t.Fatalf("client got %d bytes back, want the %d it sent before the backend connected", len(got), len(early))
	}
	if !echoed.Load() {
		t.Fatal("the echo did not come from the backend")
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	t.Logf("the backend connected and echoed %v after the client's bytes and FIN", (time.Since(start) + 200*time.Millisecond).Round(time.Millisecond))
}

// TestParseBackend: the -backend forms, and the ones refused.
func TestParseBackend(t *testing.T) {
	tests := []struct {
		in, network, address string
		bad                  bool
	}{
		{in: "tcp://127.0.0.1:9000", network: "tcp", address: "127.0.0.1:9000"},
		{in: "127.0.0.1:9000", network: "tcp", address: "127.0.0.1:9000"},
		{in: "TCP6://[::1]:80", network: "tcp6", address: "[::1]:80"},
		{in: "unix:///tmp/b.sock", network: "unix", address: "/tmp/b.sock"},
		{in: "tcp://127.0.0.1", bad: true},
		{in: "unix://", bad: true},
		{in: "udp://127.0.0.1:53", bad: true},
	}
	for _, tt := range tests {
		network, address, err := parseBackend(tt.in)
		if tt.bad != (err != nil) || !tt.bad && (network != tt.network || address != tt.address) {
			t.Errorf("parseBackend(%q) = %q, %q, %v", tt.in, network, address, err)
		}
	}
	if _, err := parseFlags([]string{"-dial-timeout", "0"}, io.Discard); err == nil {
		t.Error("parseFlags accepted -dial-timeout 0")
	}
}
