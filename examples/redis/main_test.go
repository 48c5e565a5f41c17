package main

import (
	"io"
	"net"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/evloop/evloop/examples/internal/exampletest"
)

// TestMain runs the command for TestMainStopsOnSignal, or else the tests,
// failing them if a goroutine is left behind (the engine's loops, acceptor
// and pool as well as the test's clients). Goroutines that exist before the
// first test are ignored: importing ants starts its package-level pool.
func TestMain(m *testing.M) {
	if exampletest.RunMain("redis", main) {
		return
	}
	goleak.VerifyTestMain(m, goleak.IgnoreCurrent())
}

// TestMainStopsOnSignal runs the command as a process: it announces its
// address, answers, and exits 0 on SIGINT and on SIGTERM.
func TestMainStopsOnSignal(t *testing.T) {
	exampletest.MainStopsOnSignal(t, "redis", func(tb testing.TB, nc net.Conn) func(testing.TB) {
		tb.Helper()
		if err := nc.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
			tb.Fatal(err)
		}
		if _, err := io.WriteString(nc, "PING\r\n"); err != nil {
			tb.Fatalf("write: %v", err)
		}
		got := make([]byte, len("+PONG\r\n"))
		if _, err := io.ReadFull(nc, got); err != nil || string(got) != "+PONG\r\n" {
			tb.Fatalf("reply %q, %v; want +PONG", got, err)
		}
		return func(tb testing.TB) {
			tb.Helper()
			if n, err := nc.Read(make([]byte, 1)); err != io.EOF {
				tb.Fatalf("read after the server exited: %d bytes, %v; want EOF", n, err)
			}
		}
	})
}
