//go:build !race && !evloop_debug

package evloop

import (
	"crypto/tls"
	"io"
	"net"
	"testing"
	"time"
)

// TestTLSEchoAddsNoAllocation compares an echo turn of 1 KiB over TLS
// served by evloop with the same turn served by std net and crypto/tls
// (a goroutine reading and writing one tls.Conn): both count the client's
// allocations and crypto/tls's, so evloop's must not be more.
func TestTLSEchoAddsNoAllocation(t *testing.T) {
	const turns = 2000
	msg := tbPattern(0, 1024)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		raw, err := ln.Accept()
		if err != nil {
			return
		}
		sc := tls.Server(raw, tlsServerConfig(t))
		defer sc.Close()
		buf := make([]byte, 64<<10)
		for {
			n, err := sc.Read(buf)
			if err != nil {
				return
			}
			if _, err := sc.Write(buf[:n]); err != nil {
				return
			}
		}
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	std := tlsTurnMallocs(t, tls.Client(raw, tlsClientConfig(0)), msg, turns)
	raw.Close()
	<-done

	s := startEngine(t, echoHandler{}, "tcp://127.0.0.1:0", WithLoops(1), WithTLS(tlsServerConfig(t)))
	ours := tlsTurnMallocs(t, tlsDial(t, s, tlsClientConfig(0)), msg, turns)
	t.Logf("allocations per 1 KiB echo turn: std net + crypto/tls %.2f, evloop %.2f", std, ours)
	if ours > std+0.05 {
		t.Errorf("evloop allocates %.2f per TLS echo turn, std net %.2f: evloop adds %.2f", ours, std, ours-std)
	}
}

// tlsTurnMallocs warms c up, then returns the process's allocations per
// echo turn of msg.
func tlsTurnMallocs(t *testing.T, c *tls.Conn, msg []byte, turns int) float64 {
	t.Helper()
	_ = c.SetDeadline(time.Now().Add(60 * time.Second))
	got := make([]byte, len(msg))
	turn := func() error {
		if _, err := c.Write(msg); err != nil {
			return err
		}
		_, err := io.ReadFull(c, got)
		return err
	}
	for i := 0; i < 200; i++ {
		if err := turn(); err != nil {
			t.Fatalf("warm-up turn %d: %v", i, err)
		}
	}
	mallocs, err := tbCountMallocs(turns, turn)
	if err != nil {
		t.Fatal(err)
	}
	return float64(mallocs) / float64(turns)
}
