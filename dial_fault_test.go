//go:build linux && !evloop_portable

package evloop

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
	"golang.org/x/sys/unix"

	"github.com/evloop/evloop/internal/socket"
)

// Dial tests that need a peer that never answers, which loopback cannot
// give: they swap the connect seam of internal/socket (hence Linux in
// their names), so they change the process's sockets only while no
// engine runs.

// dtStallConnects makes every connect the engine starts hang: the new
// socket's descriptor is replaced by the read end of an idle pipe, which
// never becomes writable, and connect reports EINPROGRESS, as for a SYN
// nobody answers. The engine still owns and closes the descriptor. It
// returns how many connects were stalled. Call it before the engine
// starts.
func dtStallConnects(tb testing.TB) *atomic.Int64 {
	tb.Helper()
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		tb.Fatal(err)
	}
	stalled := new(atomic.Int64)
	real := socket.ConnectFunc
	socket.ConnectFunc = func(fd int, _ unix.Sockaddr) error {
		if err := unix.Dup3(p[0], fd, unix.O_CLOEXEC); err != nil {
			return err
		}
		stalled.Add(1)
		return unix.EINPROGRESS
	}
	tb.Cleanup(func() {
		socket.ConnectFunc = real
		unix.Close(p[0])
		unix.Close(p[1])
	})
	return stalled
}

// dtOutcome is what a dial callback got.
type dtOutcome struct {
	c   Conn
	err error
	at  time.Duration
}

// TestDialTimeoutLinux: a connect that never completes fails when the
// dial's time is up, with ErrDialTimeout (which matches
// os.ErrDeadlineExceeded) inside a *net.OpError, reported once, from
// Loop.Dial's timeout and Engine.Dial's context deadline alike; the
// socket is closed and no handler callback runs.
func TestDialTimeoutLinux(t *testing.T) {
	fdBase := itCountFDs(t)
	stalled := dtStallConnects(t)
	h := &dtEchoClient{}
	s := dtStartClient(t, h, WithLoops(2))
	const timeout = 150 * time.Millisecond

	got := make(chan dtOutcome, 2)
	start := time.Now()
	err := s.eng.Loops()[0].Dial("tcp", "192.0.2.1:80", timeout, nil, func(c Conn, err error) {
		got <- dtOutcome{c, err, time.Since(start)}
	})
	if err != nil {
		t.Fatal(err)
	}
	o := tbRecv(t, got, 5*time.Second, "the dial callback")
	dtCheckDialError(t, o.err, "tcp", "192.0.2.1:80", ErrDialTimeout)
	if !errors.Is(o.err, os.ErrDeadlineExceeded) || o.c != nil {
		t.Errorf("callback got (%v, %v), want no connection and an error matching os.ErrDeadlineExceeded", o.c, o.err)
	}
	if o.at < timeout || o.at > timeout+time.Second {
		t.Errorf("the timeout fired after %v, want %v (within a second)", o.at, timeout)
	}
	select {
	case o := <-got:
		t.Errorf("the callback ran again: %v", o.err)
	case <-time.After(100 * time.Millisecond):
	}

	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	start = time.Now()
	c, err := s.eng.Dial(ctx, "tcp", "192.0.2.1:80")
	took := time.Since(start)
	if c != nil {
		t.Errorf("Engine.Dial returned a connection with %v", err)
	}
	dtCheckDialError(t, err, "tcp", "192.0.2.1:80", os.ErrDeadlineExceeded)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Engine.Dial = %v, want it to match context.DeadlineExceeded too", err)
	}
	if took < timeout-10*time.Millisecond || took > timeout+time.Second {
		t.Errorf("Engine.Dial returned after %v, want about %v", took, timeout)
	}
	if n := stalled.Load(); n != 2 {
		t.Errorf("%d connects started, want 2", n)
	}
	if h.opens.Load() != 0 || h.closes.Load() != 0 {
		t.Errorf("OnOpen ran %d times and OnClose %d times, want none", h.opens.Load(), h.closes.Load())
	}
	if st := s.eng.Stats(); st.DialFailures != 2 {
		t.Errorf("Stats().DialFailures = %d, want 2", st.DialFailures)
	}
	s.stop(t)
	if fds := itCountFDs(t); fds > fdBase+2 { // + the pipe
		t.Errorf("%d descriptors open after Stop, %d before (and 2 for the pipe)", fds, fdBase)
	}
}

// TestDialFallbackLinux: of several addresses, one that does not answer
// gets its share of the time and the next one is tried: the first attempt
// stalls, the second connects.
func TestDialFallbackLinux(t *testing.T) {
	addr := dtStdEcho(t, "tcp")
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	var attempts atomic.Int64
	real := socket.ConnectFunc
	socket.ConnectFunc = func(fd int, sa unix.Sockaddr) error {
		if attempts.Add(1) == 1 {
			if err := unix.Dup3(p[0], fd, unix.O_CLOEXEC); err != nil {
				return err
			}
			return unix.EINPROGRESS
		}
		return real(fd, sa)
	}
	t.Cleanup(func() { socket.ConnectFunc = real })
	h := &dtEchoClient{}
	s := dtStartClient(t, h, WithLoops(1))
	d := newDialing("tcp", addr.String())
	d.addrs = []net.Addr{addr, addr}
	d.deadline = s.eng.e.clock() + int64(4*time.Second) // 2 s for the first
	d.result = make(chan dialResult, 1)
	start := time.Now()
	if err := handDial(s.eng.e.loops[0], d); err != nil {
		t.Fatal(err)
	}
	r := tbRecv(t, d.result, 10*time.Second, "the dial's result")
	if r.err != nil {
		t.Fatalf("dial with a second address that answers: %v", r.err)
	}
	if took := time.Since(start); took < 2*time.Second || took > 4*time.Second {
		t.Errorf("connected after %v, want after the first address's 2 s share", took)
	}
	if n := attempts.Load(); n != 2 {
		t.Errorf("%d attempts, want 2", n)
	}
	_ = r.c.Close()
	dtSettle(t, h, 1)
}

// TestDialCancelLinux: cancelling Engine.Dial's context aborts a connect
// that has not completed: Dial returns context.Canceled at once, the
// socket is closed, no handler callback runs.
func TestDialCancelLinux(t *testing.T) {
	fdBase := itCountFDs(t)
	stalled := dtStallConnects(t)
	h := &dtEchoClient{}
	s := dtStartClient(t, h, WithLoops(1))
	ctx, cancel := context.WithCancel(context.Background())
	type result struct {
		c   Conn
		err error
	}
	done := make(chan result, 1)
	go func() {
		c, err := s.eng.Dial(ctx, "tcp", "192.0.2.1:80")
		done <- result{c, err}
	}()
	if !itEventually(5*time.Second, func() bool { return stalled.Load() == 1 }) {
		t.Fatal("the connect never started")
	}
	select {
	case r := <-done:
		t.Fatalf("Dial returned (%v, %v) before its context was cancelled", r.c, r.err)
	case <-time.After(50 * time.Millisecond):
	}
	cancel()
	start := time.Now()
	r := tbRecv(t, done, 5*time.Second, "Dial to return")
	if took := time.Since(start); took > time.Second {
		t.Errorf("Dial returned %v after the cancel", took)
	}
	if r.c != nil {
		t.Errorf("Dial returned a connection")
	}
	dtCheckDialError(t, r.err, "tcp", "192.0.2.1:80", context.Canceled)
	if h.opens.Load() != 0 || h.closes.Load() != 0 {
		t.Errorf("OnOpen ran %d times and OnClose %d times, want none", h.opens.Load(), h.closes.Load())
	}
	if n := s.eng.CountConnections(); n != 0 {
		t.Errorf("CountConnections = %d after the cancel, want 0", n)
	}
	// A context already done fails the dial before it starts.
	if _, err := s.eng.Dial(ctx, "tcp", "192.0.2.1:80"); !errors.Is(err, context.Canceled) {
		t.Errorf("Dial with a cancelled context = %v, want context.Canceled", err)
	}
	s.stop(t)
	if fds := itCountFDs(t); fds > fdBase+2 {
		t.Errorf("%d descriptors open after Stop, %d before (and 2 for the pipe)", fds, fdBase)
	}
}

// TestDialStopPendingLinux: Stop while dials are in progress fails each of
// them once with ErrEngineStopped (Loop.Dial's callbacks, blocked
// Engine.Dial callers), runs no handler callback for them, and leaves no
// descriptor and no goroutine behind.
func TestDialStopPendingLinux(t *testing.T) {
	leakBase := goleak.IgnoreCurrent()
	fdBase := itCountFDs(t)
	stalled := dtStallConnects(t)
	h := &dtEchoClient{}
	s := dtStartClient(t, h, WithLoops(2))
	const viaLoop, viaEngine = 40, 8
	outcomes := make(chan dtOutcome, 2*viaLoop)
	loops := s.eng.Loops()
	for i := range viaLoop {
		err := loops[i%2].Dial("tcp", "192.0.2.1:80", 0, nil, func(c Conn, err error) { outcomes <- dtOutcome{c: c, err: err} })
		if err != nil {
			t.Fatal(err)
		}
	}
	engineErrs := make(chan error, viaEngine)
	for range viaEngine {
		go func() {
			_, err := s.eng.Dial(context.Background(), "tcp", "192.0.2.1:80")
			engineErrs <- err
		}()
	}
	if !itEventually(5*time.Second, func() bool { return stalled.Load() == viaLoop+viaEngine }) {
		t.Fatalf("%d of %d connects started", stalled.Load(), viaLoop+viaEngine)
	}
	if n := s.eng.CountConnections(); n != viaLoop+viaEngine {
		t.Errorf("CountConnections = %d with %d dials in progress", n, viaLoop+viaEngine)
	}
	s.stop(t)
	for range viaLoop {
		o := tbRecv(t, outcomes, 5*time.Second, "a dial callback")
		if o.c != nil || !errors.Is(o.err, ErrEngineStopped) {
			t.Errorf("dial callback got (%v, %v), want ErrEngineStopped", o.c, o.err)
		}
	}
	for range viaEngine {
		err := tbRecv(t, engineErrs, 5*time.Second, "Engine.Dial to return")
		dtCheckDialError(t, err, "tcp", "192.0.2.1:80", ErrEngineStopped)
	}
	select {
	case o := <-outcomes:
		t.Errorf("a dial callback ran twice: %v", o.err)
	case <-time.After(50 * time.Millisecond):
	}
	if h.opens.Load() != 0 || h.closes.Load() != 0 {
		t.Errorf("OnOpen ran %d times and OnClose %d times, want none", h.opens.Load(), h.closes.Load())
	}
	if st := s.eng.Stats(); st.DialFailures != viaLoop+viaEngine {
		t.Errorf("Stats().DialFailures = %d, want %d", st.DialFailures, viaLoop+viaEngine)
	}
	if fds := itCountFDs(t); fds > fdBase+2 {
		t.Errorf("%d descriptors open after Stop, %d before (and 2 for the pipe)", fds, fdBase)
	}
	// Dials after the stop fail at once.
	if err := loops[0].Dial("tcp", "192.0.2.1:80", 0, nil, nil); !errors.Is(err, ErrEngineStopped) {
		t.Errorf("Loop.Dial after Stop = %v, want ErrEngineStopped", err)
	}
	goleak.VerifyNone(t, leakBase)
}

// dtStallLookups makes every host-name look-up hang until its context
// ends, as a resolver that does not answer; it returns how many started.
// Call it before the engine starts.
func dtStallLookups(tb testing.TB) *atomic.Int64 {
	tb.Helper()
	started := new(atomic.Int64)
	real := socket.LookupNetIPFunc
	socket.LookupNetIPFunc = func(ctx context.Context, _, _ string) ([]netip.Addr, error) {
		started.Add(1)
		<-ctx.Done()
		return nil, ctx.Err()
	}
	tb.Cleanup(func() { socket.LookupNetIPFunc = real })
	return started
}

// TestLoopDialLookupLinux: a host name that does not resolve in time fails
// Loop.Dial with ErrDialTimeout, on the loop; a stop while look-ups are in
// flight cancels them and fails their dials with ErrEngineStopped, leaving
// no goroutine behind. The look-up seam stands for a resolver that does
// not answer.
func TestLoopDialLookupLinux(t *testing.T) {
	leakBase := goleak.IgnoreCurrent()
	started := dtStallLookups(t)
	h := &dtEchoClient{}
	s := dtStartClient(t, h, WithLoops(1))
	lp := s.eng.Loops()[0]
	loopGoid := make(chan uint64, 1)
	lp.AfterFunc(0, func() { loopGoid <- tbGoroutineID() })
	onLoop := tbRecv(t, loopGoid, 5*time.Second, "the loop's goroutine")

	type outcome struct {
		dtOutcome
		goid uint64
	}
	got := make(chan outcome, 16)
	report := func(c Conn, err error) { got <- outcome{dtOutcome{c: c, err: err}, tbGoroutineID()} }
	if err := lp.Dial("tcp", "backend.example:80", 100*time.Millisecond, nil, report); err != nil {
		t.Fatal(err)
	}
	o := tbRecv(t, got, 5*time.Second, "the dial callback")
	dtCheckDialError(t, o.err, "tcp", "", ErrDialTimeout)
	if o.goid != onLoop {
		t.Errorf("the callback ran on goroutine %d, want the loop's %d", o.goid, onLoop)
	}

	const pending = 5
	for range pending {
		if err := lp.Dial("tcp", "backend.example:80", 0, nil, report); err != nil {
			t.Fatal(err)
		}
	}
	if !itEventually(5*time.Second, func() bool { return started.Load() == 1+pending }) {
		t.Fatalf("%d look-ups started, want %d", started.Load(), 1+pending)
	}
	s.stop(t)
	for range pending {
		o := tbRecv(t, got, 5*time.Second, "a dial callback")
		dtCheckDialError(t, o.err, "tcp", "", ErrEngineStopped)
		if o.goid != onLoop {
			t.Errorf("the callback ran on goroutine %d, want the loop's %d", o.goid, onLoop)
		}
	}
	if h.opens.Load() != 0 || h.closes.Load() != 0 {
		t.Errorf("OnOpen ran %d times and OnClose %d times, want none", h.opens.Load(), h.closes.Load())
	}
	goleak.VerifyNone(t, leakBase)
}

// TestDialUnreachableLinux: a connect the kernel refuses at once (no route
// to the network: ENETUNREACH, faked through the connect seam) is
// reported once, shaped as package net shapes it, with no handler call
// and no descriptor left open.
func TestDialUnreachableLinux(t *testing.T) {
	fdBase := itCountFDs(t)
	real := socket.ConnectFunc
	socket.ConnectFunc = func(int, unix.Sockaddr) error { return unix.ENETUNREACH }
	t.Cleanup(func() { socket.ConnectFunc = real })
	h := &dtEchoClient{}
	s := dtStartClient(t, h, WithLoops(1))
	_, err := s.eng.Dial(context.Background(), "tcp", "198.51.100.1:80")
	dtCheckDialError(t, err, "tcp", "198.51.100.1:80", unix.ENETUNREACH)
	got := make(chan error, 2)
	if err := s.eng.Loops()[0].Dial("tcp", "198.51.100.1:80", time.Second, nil, func(_ Conn, err error) { got <- err }); err != nil {
		t.Fatal(err)
	}
	dtCheckDialError(t, tbRecv(t, got, 5*time.Second, "the dial callback"), "tcp", "198.51.100.1:80", unix.ENETUNREACH)
	select {
	case err := <-got:
		t.Errorf("the callback ran again: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	if h.opens.Load() != 0 || h.closes.Load() != 0 {
		t.Errorf("OnOpen ran %d times and OnClose %d times, want none", h.opens.Load(), h.closes.Load())
	}
	s.stop(t)
	if fds := itCountFDs(t); fds > fdBase {
		t.Errorf("%d descriptors open after Stop, %d before", fds, fdBase)
	}
}
