package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"testing"
	"time"

	"github.com/evloop/evloop"
	"github.com/evloop/evloop/examples/internal/exampletest"
)

// startServer runs serve with cfg and stops it when the test ends, failing
// the test unless it stops cleanly within 10 s.
func startServer(tb testing.TB, cfg config) *exampletest.Server {
	tb.Helper()
	return exampletest.StartServer(tb, func(ctx context.Context, ready func(net.Addr)) error {
		return serve(ctx, cfg, ready)
	})
}

// echoOnce sends payload on c while reading the echo concurrently (a server
// echoing 1 MiB to a client that does not read would stall on flow control)
// and checks the bytes that come back.
func echoOnce(c net.Conn, payload []byte) error {
	if err := c.SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
		return err
	}
	werr := make(chan error, 1)
	go func() {
		_, err := c.Write(payload)
		werr <- err
	}()
	got := make([]byte, len(payload))
	_, rerr := io.ReadFull(c, got)
	if err := errors.Join(<-werr, rerr); err != nil {
		return err
	}
	if i := firstDiff(got, payload); i >= 0 {
		return fmt.Errorf("echo of %d bytes differs at byte %d", len(payload), i)
	}
	return nil
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}

// payloads returns n random payloads from 1 B to 1 MiB, both bounds
// included.
func payloads(tb testing.TB, n int) [][]byte {
	tb.Helper()
	var seed [32]byte
	binary.LittleEndian.PutUint64(seed[:], rand.Uint64())
	tb.Logf("payload seed %x", seed[:8])
	rng := rand.NewChaCha8(seed)
	out := make([][]byte, n)
	for i := range out {
		size := 1 + int(rng.Uint64()%(1<<20))
		switch i {
		case 0:
			size = 1
		case 1:
			size = 1 << 20
		}
		out[i] = make([]byte, size)
		_, _ = rng.Read(out[i]) // never fails
	}
	return out
}

func TestEcho(t *testing.T) {
	tests := []struct {
		name string
		cfg  config
	}{
		{name: "loop", cfg: config{addr: "tcp://127.0.0.1:0", loops: 2}},
		{name: "reuseport", cfg: config{addr: "tcp://127.0.0.1:0", loops: 2, reusePort: true}},
		{name: "blocking", cfg: config{addr: "tcp://127.0.0.1:0", loops: 2, blocking: true}},
		{name: "blocking, pool overloaded", cfg: config{addr: "tcp://127.0.0.1:0", loops: 2, blocking: true, poolSize: 1}},
		{name: "unix", cfg: config{addr: "unix://" + filepath.Join(t.TempDir(), "echo.sock"), loops: 2}},
	}
	const conns = 20
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startServer(t, tt.cfg)
			data := payloads(t, conns)
			errc := make(chan error, conns)
			for i := range conns {
				c := s.Dial(t)
				go func() { errc <- echoOnce(c, data[i]) }()
			}
			for range conns {
				if err := <-errc; err != nil {
					t.Error(err)
				}
			}
			s.Stop(t)
		})
	}
}

// TestEchoSequential checks that many small round trips on one connection
// come back whole and in order, which in blocking mode exercises batching
// while a job is out.
func TestEchoSequential(t *testing.T) {
	tests := []struct {
		name string
		cfg  config
	}{
		{name: "loop", cfg: config{addr: "tcp://127.0.0.1:0", loops: 1}},
		{name: "blocking", cfg: config{addr: "tcp://127.0.0.1:0", loops: 1, blocking: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startServer(t, tt.cfg)
			c := s.Dial(t)
			for i := range 200 {
				msg := []byte(fmt.Sprintf("message %d;", i))
				if err := echoOnce(c, msg); err != nil {
					t.Fatalf("round trip %d: %v", i, err)
				}
			}
		})
	}
}

// TestStopWithOpenConnection stops the server while a client is connected:
// serve returns nil and the client sees the connection end.
func TestStopWithOpenConnection(t *testing.T) {
	tests := []struct {
		name string
		cfg  config
	}{
		{name: "loop", cfg: config{addr: "tcp://127.0.0.1:0", loops: 2}},
		{name: "blocking", cfg: config{addr: "tcp://127.0.0.1:0", loops: 2, blocking: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startServer(t, tt.cfg)
			c := s.Dial(t)
			if err := echoOnce(c, []byte("before stop")); err != nil {
				t.Fatal(err)
			}
			s.Stop(t)
			if err := c.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
				t.Fatal(err)
			}
			n, err := c.Read(make([]byte, 16))
			if n != 0 || err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("read after stop = %d, %v; want 0 and the connection closed", n, err)
			}
		})
	}
}

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    config
		wantErr bool
	}{
		{name: "defaults: no idle timeout", args: nil, want: config{addr: "tcp://127.0.0.1:9000", loops: runtime.GOMAXPROCS(0),
			poolSize: evloop.DefaultPoolSize, drainTimeout: 30 * time.Second}},
		{
			name: "all set",
			args: []string{"-addr", "unix:///tmp/x.sock", "-loops", "3", "-reuseport", "-blocking", "-pool", "7"},
			want: config{addr: "unix:///tmp/x.sock", loops: 3, reusePort: true, blocking: true, poolSize: 7, drainTimeout: 30 * time.Second,
				args: []string{"-addr=unix:///tmp/x.sock", "-blocking=true", "-loops=3", "-pool=7", "-reuseport=true"}},
		},
		{
			name: "idle timeout",
			args: []string{"-idle-timeout", "45s"},
			want: config{addr: "tcp://127.0.0.1:9000", loops: runtime.GOMAXPROCS(0), poolSize: evloop.DefaultPoolSize, idleTimeout: 45 * time.Second,
				drainTimeout: 30 * time.Second, args: []string{"-idle-timeout=45s"}},
		},
		{
			name: "graceful restart, and a successor's flags",
			args: []string{"-graceful", "-drain-timeout", "5s", "-inherit", "2"},
			want: config{addr: "tcp://127.0.0.1:9000", loops: runtime.GOMAXPROCS(0), poolSize: evloop.DefaultPoolSize,
				graceful: true, drainTimeout: 5 * time.Second, inherit: 2, args: []string{"-drain-timeout=5s", "-graceful=true"}},
		},
		{name: "zero drain timeout", args: []string{"-drain-timeout", "0s"}, wantErr: true},
		{name: "negative inherit", args: []string{"-inherit", "-1"}, wantErr: true},
		{name: "unknown flag", args: []string{"-nope"}, wantErr: true},
		{name: "negative idle timeout", args: []string{"-idle-timeout", "-2s"}, wantErr: true},
		{name: "idle timeout without unit", args: []string{"-idle-timeout", "5"}, wantErr: true},
		{name: "stray argument", args: []string{"extra"}, wantErr: true},
		{name: "bad number", args: []string{"-loops", "two"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			got, err := parseFlags(tt.args, &out)
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseFlags(%q) error = %v, want error: %v", tt.args, err, tt.wantErr)
			}
			if !tt.wantErr && !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("parseFlags(%q) = %+v, want %+v", tt.args, got, tt.want)
			}
			if tt.wantErr && out.Len() == 0 {
				t.Fatal("an error left no message for the user")
			}
		})
	}
}

// TestServeBadAddress: an address the engine cannot serve is an error from
// serve, before ready, not a crash.
func TestServeBadAddress(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	tests := []struct {
		name string
		addr string
	}{
		{name: "unknown scheme", addr: "udp-ish://127.0.0.1:0"},
		{name: "no port", addr: "tcp://127.0.0.1"},
		{name: "unix datagram", addr: "unixgram://" + filepath.Join(t.TempDir(), "g.sock")},
		{name: "port in use", addr: "tcp://" + taken.Addr().String()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			readied := false
			err := serve(ctx, config{addr: tt.addr, loops: 1}, func(net.Addr) { readied = true })
			if err == nil || readied {
				t.Fatalf("serve(%q) = %v, ready called: %v; want an error before ready", tt.addr, err, readied)
			}
		})
	}
}

// TestEchoAfterClientFIN is `nc -N`: the client sends, shuts down its
// writing side at once, and reads. Every byte must come back before the
// server closes, in both modes; in -blocking mode the replies come from the
// pool after the FIN, which WithHalfClose keeps deliverable.
func TestEchoAfterClientFIN(t *testing.T) {
	for _, blocking := range []bool{false, true} {
		t.Run(fmt.Sprintf("blocking=%v", blocking), func(t *testing.T) {
			s := startServer(t, config{addr: "tcp://127.0.0.1:0", loops: 2, blocking: blocking})
			c := s.Dial(t)
			payload := bytes.Repeat([]byte("0123456789abcdef"), 64<<10/16)
			if _, err := c.Write(payload); err != nil {
				t.Fatal(err)
			}
			if err := c.(*net.TCPConn).CloseWrite(); err != nil {
				t.Fatal(err)
			}
			if err := c.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(c)
			if err != nil || !bytes.Equal(got, payload) {
				t.Fatalf("read %d of %d bytes (%v) after the client's FIN; first difference at %d",
					len(got), len(payload), err, firstDiff(got, payload))
			}
		})
	}
}

// TestEchoUDP: on a udp:// address every datagram comes back whole to its
// sender, from the loop and from the pool.
func TestEchoUDP(t *testing.T) {
	for _, blocking := range []bool{false, true} {
		t.Run(fmt.Sprintf("blocking=%v", blocking), func(t *testing.T) {
			srv := startServer(t, config{addr: "udp://127.0.0.1:0", loops: 2, blocking: blocking})
			var clients []net.Conn
			for range 8 {
				c, err := net.Dial("udp", srv.Addr.String())
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				clients = append(clients, c)
			}
			buf := make([]byte, 70000)
			for i, c := range clients {
				for _, n := range []int{1, 100, 1400, 9000, 65000} {
					msg := bytes.Repeat([]byte{byte(i + n)}, n)
					var got []byte
					for attempt := 0; attempt < 2 && got == nil; attempt++ { // loopback may drop one
						if _, err := c.Write(msg); err != nil {
							t.Fatal(err)
						}
						_ = c.SetReadDeadline(time.Now().Add(time.Second))
						if m, err := c.Read(buf); err == nil {
							got = buf[:m]
						}
					}
					if !bytes.Equal(got, msg) {
						t.Fatalf("client %d: a %d-byte datagram came back as %d bytes", i, n, len(got))
					}
				}
			}
		})
	}
}
