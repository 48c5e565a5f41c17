package main

import (
	"io"
	"net"
	"testing"

	"go.uber.org/goleak"

	"github.com/evloop/evloop/examples/internal/exampletest"
)

// TestMain runs the command for TestMainStopsOnSignal, or else the tests,
// failing them if a goroutine is left behind (the engine's loops, acceptor
// and pool as well as the test's clients). Goroutines that exist before the
// first test are ignored: importing ants starts its package-level pool.
func TestMain(m *testing.M) {
	if exampletest.RunMain("echo", main) {
		return
	}
	goleak.VerifyTestMain(m, goleak.IgnoreCurrent())
}

// TestMainStopsOnSignal runs the command as a process: it announces its
// address, echoes, and exits 0 on SIGINT and on SIGTERM.
func TestMainStopsOnSignal(t *testing.T) {
	exampletest.MainStopsOnSignal(t, "echo", func(tb testing.TB, c net.Conn) func(testing.TB) {
		tb.Helper()
		if err := echoOnce(c, []byte("ping")); err != nil {
			tb.Fatal(err)
		}
		return func(tb testing.TB) {
			tb.Helper()
			if _, err := c.Read(make([]byte, 1)); err != io.EOF {
				tb.Fatalf("read after the server exited: %v, want EOF", err)
			}
		}
	})
}
