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
// and pool as well as the test's clients and backends). Goroutines that
// exist before the first test are ignored: importing ants starts its
// package-level pool.
func TestMain(m *testing.M) {
	if exampletest.RunMain("proxy", main) {
		return
	}
	goleak.VerifyTestMain(m, goleak.IgnoreCurrent())
}

// TestMainStopsOnSignal runs the command as a process in front of an echo
// backend: it announces its address, proxies, and exits 0 on SIGINT and on
// SIGTERM.
func TestMainStopsOnSignal(t *testing.T) {
	b := startBackend(t, "tcp", echo)
	_, address := b.flag()
	exampletest.MainStopsOnSignal(t, "proxy", func(tb testing.TB, c net.Conn) func(testing.TB) {
		tb.Helper()
		if err := c.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
			tb.Fatal(err)
		}
		if _, err := c.Write([]byte("ping")); err != nil {
			tb.Fatal(err)
		}
		got := make([]byte, 4)
		if _, err := io.ReadFull(c, got); err != nil || string(got) != "ping" {
			tb.Fatalf("read %q, %v through the proxy; want ping", got, err)
		}
		return func(tb testing.TB) {
			tb.Helper()
			if _, err := c.Read(make([]byte, 1)); err != io.EOF {
				tb.Fatalf("read after the proxy exited: %v, want EOF", err)
			}
		}
	}, "-backend", "tcp://"+address)
}
