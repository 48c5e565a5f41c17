package main

import (
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
		c := newClient(tb, nc)
		c.send(tb, "PING\r\n")
		c.expect(tb, "+PONG\r\n")
		return c.expectClosed
	})
}
