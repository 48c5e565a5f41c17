package evloop

import (
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// itRaceConn is a server connection handed to the test by OnOpen.
type itRaceConn struct {
	c      Conn
	fd     int32
	closed *atomic.Bool // set by OnClose
}

// itRaceHandler echoes, hands every new connection to the test and marks
// connections closed in OnClose.
type itRaceHandler struct {
	echoHandler
	opened   chan itRaceConn
	overflow atomic.Int64 // OnOpen found nobody waiting for its connection
}

func (h *itRaceHandler) OnOpen(c Conn) ([]byte, Action) {
	rc := itRaceConn{c: c, fd: c.(*conn).fd, closed: new(atomic.Bool)}
	c.SetContext(rc.closed)
	select {
	case h.opened <- rc:
	default:
		h.overflow.Add(1)
	}
	return nil, None
}

func (h *itRaceHandler) OnClose(c Conn, _ error) Action {
	c.Context().(*atomic.Bool).Store(true)
	return None
}

// itRaceCounters are what the hammering goroutines count.
type itRaceCounters struct {
	asyncOK    atomic.Int64 // AsyncWrite returned nil
	asyncErr   atomic.Int64 // AsyncWrite returned ErrClosed
	callbacks  atomic.Int64
	doubleCB   atomic.Int64 // a callback ran more than once
	lateOK     atomic.Int64 // AsyncWrite after OnClose whose callback got nil
	closeCalls atomic.Int64
	otherCBErr atomic.Int64 // a callback error other than ErrClosed or the peer's reset

	failMu sync.Mutex
	fails  []error
}

func (k *itRaceCounters) fail(err error) {
	k.failMu.Lock()
	defer k.failMu.Unlock()
	if len(k.fails) < 10 {
		k.fails = append(k.fails, err)
	}
}

// callback returns an AsyncCallback for a write issued when OnClose had
// (afterClose) or had not yet run for the connection.
func (k *itRaceCounters) callback(afterClose bool) AsyncCallback {
	var runs atomic.Int32
	return func(_ Conn, err error) {
		k.callbacks.Add(1)
		if runs.Add(1) > 1 {
			k.doubleCB.Add(1)
		}
		var serr *os.SyscallError
		peerGone := errors.As(err, &serr) && (errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET))
		switch {
		case err != nil && !errors.Is(err, ErrClosed) && !peerGone:
			if k.otherCBErr.Add(1) <= 3 {
				k.fail(fmt.Errorf("AsyncWrite callback got %v (%T); AsyncCallback's doc promises nil, ErrClosed or the write's syscall error", err, err))
			}
		case err == nil && afterClose:
			k.lateOK.Add(1)
		}
	}
}

// hammer calls AsyncWrite("STALE") and now and then Close on rc from one of
// 32 goroutines, until stop is closed or it has made limit calls.
func (k *itRaceCounters) hammer(rc itRaceConn, g, round, limit int, stop <-chan struct{}) {
	stale := []byte("STALE")
	// Half the rounds close from the start, half only late, after the
	// client's close has usually closed the connection already.
	closeFrom := 0
	if round%2 == 1 {
		closeFrom = limit / 4
	}
	for i := 0; i < limit; i++ {
		select {
		case <-stop:
			return
		default:
		}
		afterClose := rc.closed.Load()
		switch err := rc.c.AsyncWrite(stale, k.callback(afterClose)); {
		case err == nil:
			k.asyncOK.Add(1)
		case errors.Is(err, ErrClosed):
			k.asyncErr.Add(1)
		default:
			k.fail(fmt.Errorf("AsyncWrite = %v, want nil or ErrClosed", err))
		}
		if i >= closeFrom && (i+g)%16 == 0 {
			k.closeCalls.Add(1)
			if err := rc.c.Close(); err != nil && !errors.Is(err, ErrClosed) {
				k.fail(fmt.Errorf("Close = %v, want nil or ErrClosed", err))
			}
		}
		if afterClose {
			time.Sleep(20 * time.Microsecond) // only the fast path is left: do not starve the loop
		} else {
			runtime.Gosched()
		}
	}
}

// TestIntegrationAsyncWriteCloseRace has 32 goroutines AsyncWrite "STALE"
// to, and Close, a connection while its client closes it and reconnects:
// in even rounds at once, racing the server's close; in odd rounds once
// OnClose ran, so that the new connection gets the old one's fd number.
// The new connection must never get a stray byte, and every AsyncWrite
// that returned nil must have its callback run exactly once. The premise,
// fd reuse, must hold in at least a quarter of the rounds (the clients'
// sockets, in this process, compete for the freed numbers): rounds go on,
// up to four times as many, until it has.
func TestIntegrationAsyncWriteCloseRace(t *testing.T) {
	const hammers = 32
	rounds := itScale(200, 50)
	wantReused := rounds / 4
	maxRounds := 4 * rounds
	limit := itScale(400, 150) // calls per goroutine per round
	h := &itRaceHandler{opened: make(chan itRaceConn, 4)}
	s := startEngine(t, h, "tcp://127.0.0.1:0", WithLoops(1))
	var k itRaceCounters

	next := func() (net.Conn, itRaceConn) {
		t.Helper()
		nc := s.dial(t)
		select {
		case rc := <-h.opened:
			return nc, rc
		case <-time.After(5 * time.Second):
			t.Fatal("OnOpen did not run within 5s of a dial")
			return nil, itRaceConn{}
		}
	}
	nc, rc := next()
	reused, round := 0, 0
	for ; (round < rounds || reused < wantReused) && round < maxRounds && !t.Failed(); round++ {
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for g := 0; g < hammers; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				k.hammer(rc, g, round, limit, stop)
			}()
		}
		runtime.Gosched()
		nc.Close()
		if round%2 == 1 && !itEventually(5*time.Second, rc.closed.Load) {
			t.Fatalf("round %d: OnClose did not run within 5s of the client's close", round)
		}
		nc2, rc2 := next()
		if rc2.fd == rc.fd {
			reused++
		}
		// The hammers still target the old connection while this one is
		// checked: nothing may arrive unasked, and the echo must be exact.
		if err := nc2.SetReadDeadline(time.Now().Add(20 * time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 64)
		if n, err := nc2.Read(buf); n != 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("round %d (fd %d, old fd %d): new connection read %d stray bytes %q (err %v)",
				round, rc2.fd, rc.fd, n, buf[:n], err)
		}
		if err := itPing(nc2, fmt.Sprintf("ping-%d", round)); err != nil {
			t.Errorf("round %d: new connection: %v", round, err)
		}
		close(stop)
		wg.Wait()
		nc, rc = nc2, rc2
	}
	t.Logf("the new connection reused the old one's fd number in %d of %d rounds", reused, round)
	if reused < wantReused {
		t.Errorf("the new connection reused the old one's fd number in only %d of %d rounds, want %d: the test did not race stale writes against a reused fd", reused, round, wantReused)
	}
	t.Logf("AsyncWrite: %d returned nil, %d ErrClosed; %d Close calls",
		k.asyncOK.Load(), k.asyncErr.Load(), k.closeCalls.Load())

	panics := s.eng.Stats().Panics
	s.stop(t) // every queued task has run (or been dropped) once Run returned
	if panics != 0 {
		t.Errorf("Stats().Panics = %d, want 0", panics)
	}
	if n := h.overflow.Load(); n != 0 {
		t.Errorf("%d connections opened that the test did not expect", n)
	}
	k.failMu.Lock()
	for _, err := range k.fails {
		t.Error(err)
	}
	k.failMu.Unlock()
	if ok, cb := k.asyncOK.Load(), k.callbacks.Load(); ok != cb {
		t.Errorf("AsyncWrite returned nil %d times but callbacks ran %d times", ok, cb)
	}
	if n := k.doubleCB.Load(); n != 0 {
		t.Errorf("%d callbacks ran more than once", n)
	}
	if n := k.otherCBErr.Load(); n != 0 {
		t.Errorf("%d callbacks got an error other than ErrClosed, EPIPE or ECONNRESET (first ones above)", n)
	}
	if n := k.lateOK.Load(); n != 0 {
		t.Errorf("%d AsyncWrites issued after OnClose reported success to their callback, want ErrClosed", n)
	}
}
