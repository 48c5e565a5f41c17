package evloop

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime/debug"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/evloop/evloop/internal/socket"
)

// Every test in this package must leave no goroutine behind: loops,
// acceptors, pool workers and test clients alike. IgnoreCurrent spares only
// what exists before any test runs: ants starts its package-level default
// pool (two goroutines) when it is imported.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreCurrent())
}

// raceEnabled reports whether the tests run under the race detector, which
// makes memory-heavy work several times slower: tests scale their sizes
// down. The build records the flag, so no build-tagged file is needed.
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

// testServer is an engine running on its own goroutine for one test.
type testServer struct {
	eng  Engine
	addr net.Addr
	errc chan error
}

// bootHook captures the Engine in OnBoot and then defers to the handler.
type bootHook struct {
	EventHandler
	booted chan Engine
}

func (b *bootHook) OnBoot(e Engine) Action {
	b.booted <- e
	return b.EventHandler.OnBoot(e)
}

// forwarding returns the hook with exactly the optional handler interfaces
// h implements: the engine detects them on the handler it is given, and the
// hook alone would hide them.
func (b *bootHook) forwarding(h EventHandler) EventHandler {
	w, isW := h.(WritableHandler)
	r, isR := h.(ReadCloseHandler)
	switch {
	case isW && isR:
		return struct {
			*bootHook
			WritableHandler
			ReadCloseHandler
		}{b, w, r}
	case isW:
		return struct {
			*bootHook
			WritableHandler
		}{b, w}
	case isR:
		return struct {
			*bootHook
			ReadCloseHandler
		}{b, r}
	}
	return b
}

// startEngine runs h on addr (use "tcp://127.0.0.1:0" or a unix path in
// t.TempDir) and stops it when the test ends, failing the test if Run
// returns an error or the stop takes longer than 10 s.
func startEngine(tb testing.TB, h EventHandler, addr string, opts ...Option) *testServer {
	tb.Helper()
	hook := &bootHook{EventHandler: h, booted: make(chan Engine, 1)}
	s := &testServer{errc: make(chan error, 1)}
	wrapped := hook.forwarding(h)
	go func() { s.errc <- Run(wrapped, addr, opts...) }()
	select {
	case s.eng = <-hook.booted:
	case err := <-s.errc:
		tb.Fatalf("Run returned before boot: %v", err)
	case <-time.After(10 * time.Second):
		tb.Fatal("engine did not boot within 10s")
	}
	s.addr = s.eng.Addrs()[0]
	tb.Cleanup(func() { s.stop(tb) })
	return s
}

// stop stops the engine (idempotent) and checks that Run returned nil.
func (s *testServer) stop(tb testing.TB) {
	tb.Helper()
	if s.errc == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.eng.Stop(ctx); err != nil {
		tb.Errorf("Stop: %v", err)
	}
	select {
	case err := <-s.errc:
		if err != nil {
			tb.Errorf("Run returned %v after Stop", err)
		}
	case <-time.After(10 * time.Second):
		tb.Error("Run did not return within 10s of Stop")
	}
	s.errc = nil
}

// dial connects to the server with a deadline on every operation.
func (s *testServer) dial(tb testing.TB) net.Conn {
	tb.Helper()
	c, err := net.DialTimeout(s.addr.Network(), s.addr.String(), 5*time.Second)
	if err != nil {
		tb.Fatalf("dial %v: %v", s.addr, err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// echoHandler writes back whatever it receives, on the loop.
type echoHandler struct{ BaseHandler }

func (echoHandler) OnTraffic(c Conn) Action {
	b, _ := c.Next(-1)
	if _, err := c.Write(b); err != nil {
		return Close
	}
	return None
}

// tbAsyncEcho replies through AsyncWrite, so each turn also takes the task
// queue, the wake and a pooled buffer.
type tbAsyncEcho struct{ BaseHandler }

func (tbAsyncEcho) OnTraffic(c Conn) Action {
	b, _ := c.Next(-1)
	if err := c.AsyncWrite(b, nil); err != nil {
		return Close
	}
	return None
}

// tbOpenFDs counts a process's open descriptors, or returns -1 where there
// is no /proc.
func tbOpenFDs(pid int) int {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return -1
	}
	return len(ents)
}

// tbSkipUnlessReusePortBalances skips a test of WithReusePort with more
// than one loop where Run refuses that, because the kernel does not
// balance between the loops' listeners (macOS, NetBSD, OpenBSD).
func tbSkipUnlessReusePortBalances(tb testing.TB) {
	tb.Helper()
	if err := socket.ReusePortBalancing(); err != nil {
		tb.Skipf("WithReusePort is refused here: %v", err)
	}
}

// tbWrapAccept routes the engine's accepts through wrap, which calls
// accept for the real one, until the test ends, through the accept seam
// every backend shares (socket.Accept4Func). Call it before starting an
// engine.
func tbWrapAccept(tb testing.TB, wrap func(accept func() (int, netip.AddrPort, error)) (int, netip.AddrPort, error)) {
	tb.Helper()
	orig := socket.Accept4Func
	tb.Cleanup(func() { socket.Accept4Func = orig })
	socket.Accept4Func = func(fd, flags int) (int, netip.AddrPort, error) {
		return wrap(func() (int, netip.AddrPort, error) { return orig(fd, flags) })
	}
}

// tbCountSockets counts the sockets the engine creates (socket.CreatedFunc)
// until the test ends. Call it while no engine runs.
func tbCountSockets(tb testing.TB) *atomic.Int32 {
	tb.Helper()
	var n atomic.Int32
	orig := socket.CreatedFunc
	tb.Cleanup(func() { socket.CreatedFunc = orig })
	socket.CreatedFunc = func(fd int) {
		n.Add(1)
		orig(fd)
	}
	return &n
}
