package evloop

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// itLifecycle echoes and counts the engine's callbacks, checking that
// OnShutdown comes after every OnClose. On "stop" it calls Engine.Stop from
// inside OnTraffic; on "shutdown" it returns Shutdown.
type itLifecycle struct {
	echoHandler
	eng                 Engine
	opens, closes       atomic.Int64
	shutdowns           atomic.Int64
	closesAtShutdown    atomic.Int64
	stopInside          chan error // Stop's result when called from OnTraffic
	stopInsideTook      atomic.Int64
	trafficAfterStopped atomic.Int64
}

func (h *itLifecycle) OnBoot(eng Engine) Action {
	h.eng = eng
	return None
}

func (h *itLifecycle) OnOpen(Conn) ([]byte, Action) {
	h.opens.Add(1)
	return nil, None
}

func (h *itLifecycle) OnClose(Conn, error) Action {
	h.closes.Add(1)
	return None
}

func (h *itLifecycle) OnShutdown(Engine) {
	h.closesAtShutdown.Store(h.closes.Load())
	h.shutdowns.Add(1)
}

func (h *itLifecycle) OnTraffic(c Conn) Action {
	b, _ := c.Peek(-1)
	switch {
	case bytes.Equal(b, []byte("stop")):
		_, _ = c.Discard(len(b))
		start := time.Now()
		err := h.eng.Stop(context.Background())
		h.stopInsideTook.Store(int64(time.Since(start)))
		select {
		case h.stopInside <- err:
		default:
		}
		return None
	case bytes.Equal(b, []byte("shutdown")):
		_, _ = c.Discard(len(b))
		return Shutdown
	}
	return h.echoHandler.OnTraffic(c)
}

// check verifies the callback counts once Run has returned.
func (h *itLifecycle) check(tb testing.TB) {
	tb.Helper()
	if n := h.shutdowns.Load(); n != 1 {
		tb.Errorf("OnShutdown ran %d times, want 1", n)
	}
	if o, c := h.opens.Load(), h.closes.Load(); o != c {
		tb.Errorf("OnOpen ran %d times, OnClose %d times", o, c)
	}
	if at, o := h.closesAtShutdown.Load(), h.opens.Load(); at != o {
		tb.Errorf("OnShutdown ran after %d OnClose calls, want all %d first", at, o)
	}
}

// itDialPinged dials n clients and checks each one echoes.
func itDialPinged(tb testing.TB, s *testServer, n int) []net.Conn {
	tb.Helper()
	conns := make([]net.Conn, n)
	for i := range conns {
		conns[i] = s.dial(tb)
		if err := itPing(conns[i], fmt.Sprintf("hello-%d", i)); err != nil {
			tb.Fatalf("client %d: %v", i, err)
		}
	}
	return conns
}

// itExpectClosedByServer checks that the server closed nc within 5 s.
func itExpectClosedByServer(tb testing.TB, nc net.Conn) {
	tb.Helper()
	if err := nc.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		tb.Fatal(err)
	}
	buf := make([]byte, 64)
	for {
		n, err := nc.Read(buf)
		if err != nil {
			if !errors.Is(err, io.EOF) && !itIsReset(err) {
				tb.Errorf("client read = %v, want EOF or a reset once the server stopped", err)
			}
			return
		}
		if n == 0 {
			tb.Error("client read returned 0 bytes without an error")
			return
		}
	}
}

// itIsReset reports whether err is a connection reset or broken pipe.
func itIsReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// itLoadClient echoes random messages of up to 16 KiB until the server goes
// away or stop is closed. Errors after stopping began are expected unless
// the echo came back wrong.
func itLoadClient(address string, seed uint64, stopping *atomic.Bool, stop <-chan struct{}, trips *atomic.Int64) error {
	nc, err := itDial("tcp", address)
	if err != nil {
		return err
	}
	defer nc.Close()
	if err := nc.SetDeadline(time.Now().Add(60 * time.Second)); err != nil {
		return err
	}
	r := rand.New(rand.NewPCG(seed, 3))
	block := itBlock()
	buf := make([]byte, 16<<10)
	for i := 0; i < 1_000_000; i++ {
		select {
		case <-stop:
			return nil
		default:
		}
		n := 1 + r.IntN(len(buf))
		off := r.IntN(len(block) - n)
		msg := block[off : off+n]
		if _, err := nc.Write(msg); err != nil {
			if stopping.Load() {
				return nil
			}
			return fmt.Errorf("write: %w", err)
		}
		if _, err := io.ReadFull(nc, buf[:n]); err != nil {
			if stopping.Load() {
				return nil
			}
			return fmt.Errorf("read echo: %w", err)
		}
		if !bytes.Equal(buf[:n], msg) {
			return fmt.Errorf("echo of %d bytes differs from what was sent", n)
		}
		trips.Add(1)
	}
	return nil
}

// TestIntegrationStopUnderLoad stops an engine while 50 clients echo through
// its pool: Stop and Run return nil, every OnOpen has its OnClose, every
// accepted AsyncWrite its callback, and no connection, goroutine or
// descriptor is left.
func TestIntegrationStopUnderLoad(t *testing.T) {
	// Let the runtime open its own poller first so that it is part of the
	// descriptor baseline.
	if ln, err := net.Listen("tcp", "127.0.0.1:0"); err == nil {
		ln.Close()
	}
	leakBase := goleak.IgnoreCurrent()
	fdBase, grBase := itCountFDs(t), runtime.NumGoroutine()

	const clients = 50
	h := &itPoolEcho{}
	s := startEngine(t, h, "tcp://127.0.0.1:0", WithLoops(2))
	var stopping atomic.Bool
	var trips atomic.Int64
	stopClients := make(chan struct{})
	errc := make(chan error, clients)
	var wg sync.WaitGroup
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := itLoadClient(s.addr.String(), uint64(i), &stopping, stopClients, &trips); err != nil {
				errc <- fmt.Errorf("client %d: %w", i, err)
			}
		}()
	}
	defer func() { // whatever happens below, no client outlives the test
		close(stopClients)
		wg.Wait()
	}()
	loadStart := time.Now()
	if !itEventually(10*time.Second, func() bool {
		return trips.Load() >= 10*clients && time.Since(loadStart) >= 300*time.Millisecond
	}) {
		t.Fatalf("only %d round trips in 10s", trips.Load())
	}

	stopping.Store(true)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stopErr := make(chan error, 1)
	start := time.Now()
	go func() { stopErr <- s.eng.Stop(ctx) }()
	if err := itAwaitRun(t, s, 15*time.Second); err != nil {
		t.Errorf("Run returned %v after Stop, want nil", err)
	}
	select {
	case err := <-stopErr:
		if err != nil {
			t.Errorf("Stop = %v after %v, want nil", err, time.Since(start))
		}
	case <-time.After(5 * time.Second):
		t.Error("Stop did not return within 5s of Run")
	}
	t.Logf("Stop under load of %d clients took %v (%d round trips before)", clients, time.Since(start), trips.Load())
	if n := s.eng.CountConnections(); n != 0 {
		t.Errorf("CountConnections() = %d after Stop, want 0", n)
	}

	wg.Wait() // the server closed every connection, so every client returns
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	h.check(t)
	if h.opens.Load() < clients {
		t.Errorf("OnOpen ran %d times, want at least %d", h.opens.Load(), clients)
	}

	var fds int
	if !itEventually(2*time.Second, func() bool { fds = itCountFDs(t); return fds <= fdBase }) {
		t.Errorf("%d descriptors open after Stop, %d before the engine started", fds, fdBase)
	}
	if n, ok := itSettleGoroutines(2*time.Second, grBase); !ok {
		t.Errorf("%d goroutines after Stop, %d before the engine started", n, grBase)
	}
	goleak.VerifyNone(t, leakBase)
}

// TestIntegrationStopTwiceConcurrently calls Stop from two goroutines at
// once, and again after the engine stopped: every call returns nil.
func TestIntegrationStopTwiceConcurrently(t *testing.T) {
	h := &itLifecycle{}
	s := startEngine(t, h, "tcp://127.0.0.1:0", WithLoops(2))
	conns := itDialPinged(t, s, 5)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	begin := make(chan struct{})
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			<-begin
			errs <- s.eng.Stop(ctx)
		}()
	}
	close(begin)
	for i := range 2 {
		select {
		case err := <-errs:
			if err != nil {
				t.Errorf("concurrent Stop %d = %v, want nil", i, err)
			}
		case <-time.After(12 * time.Second):
			t.Fatal("concurrent Stop did not return within 12s")
		}
	}
	if err := itAwaitRun(t, s, 5*time.Second); err != nil {
		t.Errorf("Run = %v, want nil", err)
	}
	again := make(chan error, 1)
	go func() { again <- s.eng.Stop(ctx) }()
	select {
	case err := <-again:
		if err != nil {
			t.Errorf("Stop after the engine stopped = %v, want nil", err)
		}
	case <-time.After(time.Second):
		t.Error("Stop after the engine stopped blocked")
	}
	h.check(t)
	for _, nc := range conns {
		itExpectClosedByServer(t, nc)
	}
}

// TestIntegrationStopFromTraffic calls Engine.Stop inside OnTraffic: it
// must return at once (not wait for the loop it runs on), and the engine
// must then stop as usual.
func TestIntegrationStopFromTraffic(t *testing.T) {
	h := &itLifecycle{stopInside: make(chan error, 1)}
	s := startEngine(t, h, "tcp://127.0.0.1:0", WithLoops(2))
	conns := itDialPinged(t, s, 3)
	if _, err := io.WriteString(conns[0], "stop"); err != nil {
		t.Fatalf("write stop: %v", err)
	}
	select {
	case err := <-h.stopInside:
		if err != nil {
			t.Errorf("Stop inside OnTraffic = %v, want nil", err)
		}
		if took := time.Duration(h.stopInsideTook.Load()); took > time.Second {
			t.Errorf("Stop inside OnTraffic blocked the loop for %v", took)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Stop inside OnTraffic did not return within 10s (deadlock?)")
	}
	if err := itAwaitRun(t, s, 10*time.Second); err != nil {
		t.Errorf("Run = %v, want nil", err)
	}
	h.check(t)
	for _, nc := range conns {
		itExpectClosedByServer(t, nc)
	}
}

// TestIntegrationShutdownAction returns Shutdown from OnTraffic: the engine
// closes every connection, runs OnShutdown and Run returns nil.
func TestIntegrationShutdownAction(t *testing.T) {
	h := &itLifecycle{}
	s := startEngine(t, h, "tcp://127.0.0.1:0", WithLoops(2))
	conns := itDialPinged(t, s, 3)
	if _, err := io.WriteString(conns[1], "shutdown"); err != nil {
		t.Fatalf("write shutdown: %v", err)
	}
	if err := itAwaitRun(t, s, 10*time.Second); err != nil {
		t.Errorf("Run = %v after a Shutdown action, want nil", err)
	}
	h.check(t)
	for _, nc := range conns {
		itExpectClosedByServer(t, nc)
	}
}

// itStuckClose writes payload from OnOpen and returns Close, so the
// connection is closing with its output pending for as long as the client
// does not read. It hands the connection to the test from OnOpen and counts
// OnClose calls.
type itStuckClose struct {
	BaseHandler
	payload []byte
	opened  chan Conn
	closes  atomic.Int64
	closed  chan error
}

func (h *itStuckClose) OnOpen(c Conn) ([]byte, Action) {
	h.opened <- c
	return h.payload, Close
}

func (h *itStuckClose) OnClose(_ Conn, err error) Action {
	h.closes.Add(1)
	select {
	case h.closed <- err:
	default:
	}
	return None
}

// TestIntegrationStopWithStuckClose stops an engine holding a connection
// that was closed with output pending to a client that never reads: the
// drain gives up when ctx ends, so Stop reports ctx's error; the connection
// is closed anyway, with exactly one OnClose; and Run returns nil.
func TestIntegrationStopWithStuckClose(t *testing.T) {
	h := &itStuckClose{payload: itPattern(0, 16<<20), opened: make(chan Conn, 1), closed: make(chan error, 1)}
	s := startEngine(t, h, "tcp://127.0.0.1:0", WithLoops(1))
	nc := s.dial(t)
	c := tbRecv(t, h.opened, 5*time.Second, "OnOpen")
	// The Close action takes effect when OnOpen returns: from then on the
	// connection refuses calls from other goroutines.
	if !itEventually(5*time.Second, func() bool { return errors.Is(c.Wake(nil), ErrClosed) }) {
		t.Fatal("the connection did not start closing after its Close action")
	}
	if n := h.closes.Load(); n != 0 {
		t.Fatalf("OnClose ran %d times while 16 MiB could not be sent", n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	stopErr := make(chan error, 1)
	go func() { stopErr <- s.eng.Stop(ctx) }()
	if err := itAwaitRun(t, s, 10*time.Second); err != nil {
		t.Errorf("Run = %v, want nil", err)
	}
	select {
	case err := <-stopErr:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Stop = %v, want context.DeadlineExceeded: the drain was cut short by ctx", err)
		}
	case <-time.After(5 * time.Second):
		t.Error("Stop did not return")
	}
	if n := h.closes.Load(); n != 1 {
		t.Errorf("OnClose ran %d times for the connection that could not flush, want 1", n)
	}
	if n := s.eng.CountConnections(); n != 0 {
		t.Errorf("CountConnections() = %d after Stop, want 0", n)
	}
	_ = nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.Copy(io.Discard, nc); err != nil && !itIsReset(err) {
		t.Errorf("client: %v, want EOF or a reset after the stop", err)
	}
}
