package evloop

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"path/filepath"
	"testing"
	"time"
)

// A dialed connection is served like an accepted one: its own addresses,
// half-close, deadlines, pool jobs, Stop's drain.

// TestDialedConnLikeAccepted: a dialed connection has its own addresses
// (getsockname, getpeername), half-closes with CloseWrite, and its read
// deadline closes it as an accepted one's would.
func TestDialedConnLikeAccepted(t *testing.T) {
	for _, network := range []string{"tcp", "unix"} {
		t.Run(network, func(t *testing.T) {
			address := "127.0.0.1:0"
			if network == "unix" {
				address = filepath.Join(t.TempDir(), "s.sock")
			}
			ln, err := net.Listen(network, address)
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			closes := make(chan error, 2)
			got := make(chan []byte, 4)
			h := &tbHandler{
				traffic: func(c Conn) Action {
					b, _ := c.Next(-1)
					got <- bytes.Clone(b)
					return None
				},
				close: func(_ Conn, err error) Action { closes <- err; return None },
			}
			s := dtStartClient(t, h, WithLoops(1))
			c, err := s.eng.Dial(context.Background(), network, ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			peer, err := ln.Accept()
			if err != nil {
				t.Fatal(err)
			}
			defer peer.Close()
			if network == "tcp" {
				if c.LocalAddr().String() != peer.RemoteAddr().String() || c.RemoteAddr().String() != peer.LocalAddr().String() {
					t.Errorf("dialed %v -> %v, the server saw %v -> %v", c.LocalAddr(), c.RemoteAddr(), peer.RemoteAddr(), peer.LocalAddr())
				}
			} else if c.RemoteAddr().String() != ln.Addr().String() || c.RemoteAddr().Network() != "unix" {
				t.Errorf("dialed unix connection's RemoteAddr = %v, want %v", c.RemoteAddr(), ln.Addr())
			}
			// Half-close: the server reads our bytes, then EOF, and still
			// answers; we read the answer, then its close.
			if err := c.AsyncWrite([]byte("request"), nil); err != nil {
				t.Fatal(err)
			}
			if err := c.CloseWrite(); err != nil {
				t.Fatal(err)
			}
			_ = peer.SetDeadline(time.Now().Add(5 * time.Second))
			req, err := io.ReadAll(peer)
			if err != nil || string(req) != "request" {
				t.Fatalf("server read %q, %v; want the request, then EOF", req, err)
			}
			if _, err := peer.Write([]byte("answer")); err != nil {
				t.Fatal(err)
			}
			if b := tbRecv(t, got, 5*time.Second, "the answer"); string(b) != "answer" {
				t.Errorf("received %q, want answer", b)
			}
			peer.Close()
			if err := tbRecv(t, closes, 5*time.Second, "OnClose"); err != nil {
				t.Errorf("OnClose(%v) after an orderly close, want nil", err)
			}
			// A read deadline on a dialed connection.
			c2, err := s.eng.Dial(context.Background(), network, ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			peer2, err := ln.Accept()
			if err != nil {
				t.Fatal(err)
			}
			defer peer2.Close()
			if err := c2.SetReadDeadline(time.Now().Add(50 * time.Millisecond)); err != nil {
				t.Fatal(err)
			}
			if err := tbRecv(t, closes, 5*time.Second, "OnClose"); !errors.Is(err, ErrReadTimeout) {
				t.Errorf("OnClose(%v), want ErrReadTimeout", err)
			}
		})
	}
}

// TestDialedConnExecuteAndDrain: a dialed connection's pool jobs (Execute)
// reply through AsyncWrite as an accepted one's do, and Stop's drain
// flushes its pending output to a slow reader before closing it.
func TestDialedConnExecuteAndDrain(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan int, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- -1
			return
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(20 * time.Second))
		time.Sleep(200 * time.Millisecond) // a slow reader: the output waits
		n, _ := io.Copy(io.Discard, c)
		got <- int(n)
	}()
	closes := make(chan error, 1)
	s := dtStartClient(t, &tbHandler{close: func(_ Conn, err error) Action { closes <- err; return None }}, WithLoops(1))
	c, err := s.eng.Dial(context.Background(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	blob := tbPattern(0, 8<<20)
	written := make(chan error, 1)
	if err := c.Execute(func() {
		if err := c.AsyncWrite(blob, func(_ Conn, err error) { written <- err }); err != nil {
			written <- err
		}
	}); err != nil {
		t.Fatal(err)
	}
	if err := tbRecv(t, written, 5*time.Second, "the job's AsyncWrite"); err != nil {
		t.Fatalf("AsyncWrite from the job: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := s.eng.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := tbRecv(t, closes, 5*time.Second, "OnClose"); err != nil {
		t.Errorf("OnClose(%v) after the drain, want nil", err)
	}
	if n := tbRecv(t, got, 20*time.Second, "the server's read"); n != len(blob) {
		t.Errorf("the server read %d bytes before EOF, want all %d", n, len(blob))
	}
}
