package evloop

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

// asCall runs call on its own goroutine and returns its error, or a
// description of a panic or of a call that blocked.
func asCall(call func() error) error {
	done := make(chan error, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- fmt.Errorf("panicked: %v", r)
			}
		}()
		done <- call()
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(2 * time.Second):
		return errors.New("blocked for 2s")
	}
}

// asCounted returns an AsyncCallback that counts its runs in runs and the
// runs beyond the first in twice.
func asCounted(runs, twice *atomic.Int64) AsyncCallback {
	var mine atomic.Int64
	return func(Conn, error) {
		runs.Add(1)
		if mine.Add(1) > 1 {
			twice.Add(1)
		}
	}
}

// TestAfterStop uses a Conn and the Engine after Run returned. Every Conn
// method safe from any goroutine fails at once with ErrClosed (or
// ErrEngineStopped) and never runs its callback, or returns what it
// returned before (the addresses); every Engine method answers without
// blocking: Stop nil, CountConnections 0, Addrs and Stats as they were,
// Submit, Dial, EnrollFD (and Loop.Dial) ErrEngineStopped. AsyncWrites racing the stop run their
// callback exactly once each.
func TestAfterStop(t *testing.T) {
	opened := make(chan Conn, 1)
	var closes atomic.Int64
	h := &tbHandler{
		open:    func(c Conn) ([]byte, Action) { opened <- c; return nil, None },
		traffic: echoHandler{}.OnTraffic,
		close:   func(Conn, error) Action { closes.Add(1); return None },
	}
	s := startEngine(t, h, "tcp://127.0.0.1:0", WithLoops(1))
	if err := itPing(s.dial(t), "hello"); err != nil {
		t.Fatal(err)
	}
	c := tbRecv(t, opened, 5*time.Second, "OnOpen")
	eng := s.eng
	local, remote, addrs := c.LocalAddr().String(), c.RemoteAddr().String(), fmt.Sprint(eng.Addrs())

	// AsyncWrites racing the stop, until one is refused. They are spaced
	// out: the stop's drain waits for a moment with nothing queued, which
	// a producer writing flat out would never leave it.
	var accepted, runs, twice atomic.Int64
	racerDone := make(chan error, 1)
	racing := make(chan struct{})
	go func() {
		until := time.Now().Add(10 * time.Second)
		for i := 0; time.Now().Before(until); i++ {
			if i == 100 {
				close(racing)
			}
			time.Sleep(20 * time.Microsecond)
			switch err := c.AsyncWrite([]byte("x"), asCounted(&runs, &twice)); {
			case err == nil:
				accepted.Add(1)
			case errors.Is(err, ErrClosed) || errors.Is(err, ErrEngineStopped):
				racerDone <- nil
				return
			default:
				racerDone <- fmt.Errorf("AsyncWrite racing the stop = %v", err)
				return
			}
		}
		racerDone <- fmt.Errorf("%d AsyncWrites were accepted in 10s: the stop never refused one", accepted.Load())
	}()
	tbRecv(t, racing, 5*time.Second, "the racing AsyncWrites")
	s.stop(t) // fails the test unless Stop and Run return nil
	if err := tbRecv(t, racerDone, 10*time.Second, "the racing AsyncWrites to be refused"); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d AsyncWrites accepted before the stop refused them", accepted.Load())
	// Run has returned: every accepted write was run or dropped by then.
	if a, r := accepted.Load(), runs.Load(); a != r || twice.Load() != 0 {
		t.Errorf("%d AsyncWrites racing the stop were accepted, their callbacks ran %d times (%d beyond the first)", a, r, twice.Load())
	}
	if n := closes.Load(); n != 1 {
		t.Errorf("OnClose ran %d times, want 1", n)
	}

	var cbRuns, cbTwice atomic.Int64
	cb := asCounted(&cbRuns, &cbTwice)
	connCalls := []struct {
		name string
		call func() error
	}{
		{name: "AsyncWrite", call: func() error { return c.AsyncWrite([]byte("late"), cb) }},
		{name: "AsyncWritev", call: func() error { return c.AsyncWritev([][]byte{[]byte("la"), []byte("te")}, cb) }},
		{name: "Wake", call: func() error { return c.Wake(cb) }},
		{name: "Close", call: c.Close},
		{name: "CloseWithCallback", call: func() error { return c.CloseWithCallback(cb) }},
		{name: "CloseWrite", call: c.CloseWrite},
		{name: "Abort", call: c.Abort},
		{name: "PauseReading", call: c.PauseReading},
		{name: "ResumeReading", call: c.ResumeReading},
		{name: "Submit", call: func() error { return c.Submit(func() { cb(c, nil) }) }},
		{name: "Execute", call: func() error { return c.Execute(func() { cb(c, nil) }) }},
	}
	for _, tc := range connCalls {
		err := asCall(tc.call)
		if !errors.Is(err, ErrClosed) && !errors.Is(err, ErrEngineStopped) {
			t.Errorf("Conn.%s after Run returned = %v, want ErrClosed or ErrEngineStopped", tc.name, err)
		}
		// No loop or pool is left to run a callback later: one that runs
		// at all runs during the call.
		if n := cbRuns.Load(); n != 0 {
			t.Errorf("Conn.%s after Run returned ran its callback or job", tc.name)
			cbRuns.Store(0)
		}
	}
	addrCalls := []struct {
		name string
		got  func() string
		want string
	}{
		{name: "Conn.LocalAddr", got: func() string { return c.LocalAddr().String() }, want: local},
		{name: "Conn.RemoteAddr", got: func() string { return c.RemoteAddr().String() }, want: remote},
		{name: "Engine.Addrs", got: func() string { return fmt.Sprint(eng.Addrs()) }, want: addrs},
	}
	for _, tc := range addrCalls {
		var got string
		if err := asCall(func() error { got = tc.got(); return nil }); err != nil {
			t.Errorf("%s after Run returned: %v", tc.name, err)
		} else if got != tc.want {
			t.Errorf("%s after Run returned = %s, want %s as before", tc.name, got, tc.want)
		}
	}

	if err := asCall(func() error { return eng.Stop(context.Background()) }); err != nil {
		t.Errorf("Engine.Stop after Run returned = %v, want nil", err)
	}
	var count int
	if err := asCall(func() error { count = eng.CountConnections(); return nil }); err != nil || count != 0 {
		t.Errorf("Engine.CountConnections after Run returned = %d (%v), want 0", count, err)
	}
	if err := asCall(func() error { return eng.Submit(func() { cb(c, nil) }) }); !errors.Is(err, ErrEngineStopped) {
		t.Errorf("Engine.Submit after Run returned = %v, want ErrEngineStopped", err)
	}
	dialCalls := []struct {
		name string
		call func() error
	}{
		{name: "Engine.Dial", call: func() error {
			_, err := eng.Dial(context.Background(), "tcp", "127.0.0.1:1")
			return err
		}},
		{name: "Engine.EnrollFD", call: func() error { _, err := eng.EnrollFD(0); return err }},
		{name: "Loop.Dial", call: func() error {
			return c.Loop().Dial("tcp", "127.0.0.1:1", 0, nil, func(Conn, error) { cb(c, nil) })
		}},
	}
	for _, tc := range dialCalls {
		if err := asCall(tc.call); !errors.Is(err, ErrEngineStopped) {
			t.Errorf("%s after Run returned = %v, want ErrEngineStopped", tc.name, err)
		}
	}
	var st Stats
	if err := asCall(func() error { st = eng.Stats(); return nil }); err != nil {
		t.Errorf("Engine.Stats after Run returned: %v", err)
	} else if st.Accepted != 1 || st.Panics != 0 {
		t.Errorf("Engine.Stats after Run returned = %+v, want 1 accepted, no panic", st)
	}
	if n := cbRuns.Load(); n != 0 {
		t.Errorf("%d callbacks or jobs ran for calls made after Run returned", n)
	}
}
