package evloop

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"
)

// Idle tests: WithIdleTimeout and Conn.SetIdleTimeout close a connection
// that neither received nor sent for d, with ErrIdleTimeout; traffic either
// way keeps it open.

// idCheckIdleErr fails unless err is ErrIdleTimeout and, being no
// deadline, does not match os.ErrDeadlineExceeded.
func idCheckIdleErr(tb testing.TB, err error) {
	tb.Helper()
	if !errors.Is(err, ErrIdleTimeout) {
		tb.Errorf("OnClose(%v), want ErrIdleTimeout", err)
	}
	if errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, ErrReadTimeout) || errors.Is(err, ErrWriteTimeout) {
		tb.Errorf("OnClose(%v) matches os.ErrDeadlineExceeded or a deadline error; an idle timeout must not", err)
	}
}

// TestIdleTimeoutCloses: WithIdleTimeout(d) closes a connection that does
// nothing with ErrIdleTimeout, at least d after it opened (measured from
// before the dial, which precedes the accept) and within d + 1 s of
// OnOpen.
func TestIdleTimeoutCloses(t *testing.T) {
	const d = 300 * time.Millisecond
	s := dlServe(t, nil, nil, WithIdleTimeout(d))
	dialed := time.Now()
	nc := tbDial(t, s.addr)
	o := tbRecv(t, s.opened, 5*time.Second, "OnOpen")
	cl := dlAwaitCloseWithin(t, s, ErrIdleTimeout, dialed.Add(d), o.at.Add(d+tmSlack))
	idCheckIdleErr(t, cl.err)
	dlClientSeesClose(t, nc)
}

// TestIdleServerWritesKeepOpen: under WithIdleTimeout(d), a connection
// that only receives, what the server writes to it every d/3 from a
// Loop.Every timer or from a Conn.AfterFunc timer that re-arms itself,
// stays open for four times d: output is activity too. Once the writes
// stop, it closes with ErrIdleTimeout at least d after the last one began
// and within d + 1 s of the stop.
func TestIdleServerWritesKeepOpen(t *testing.T) {
	const d = 300 * time.Millisecond
	tests := []struct {
		name string
		// push has the loop write "." to c every d/3, recording in last
		// when each write began, and returns a function that stops it.
		push func(c Conn, last *atomic.Int64) (stop func())
	}{
		{name: "server writes from Loop.Every", push: func(c Conn, last *atomic.Int64) func() {
			tm := c.Loop().Every(d/3, func() {
				last.Store(time.Now().UnixNano())
				_, _ = c.Write([]byte("."))
			})
			return func() { tm.Stop() }
		}},
		{name: "server writes from Conn.AfterFunc", push: func(c Conn, last *atomic.Int64) func() {
			var tm *Timer
			var stopped atomic.Bool
			// f runs on the loop after OnOpen, which sets tm, returned. A
			// run under way when Stop is called would re-arm the timer:
			// the flag ends the chain at the next run.
			tm = c.AfterFunc(d/3, func(c Conn) {
				if stopped.Load() {
					return
				}
				last.Store(time.Now().UnixNano())
				_, _ = c.Write([]byte("."))
				tm.Reset(d / 3)
			})
			return func() { stopped.Store(true); tm.Stop() }
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stops := make(chan func(), 1)
			var last atomic.Int64
			s := dlServe(t, func(c Conn) { stops <- tt.push(c, &last) }, nil, WithIdleTimeout(d))
			nc := tbDial(t, s.addr)
			tbRecv(t, s.opened, 5*time.Second, "OnOpen")
			stop := tbRecv(t, stops, time.Second, "the pusher")
			if err := nc.SetReadDeadline(time.Now().Add(4*d + 5*time.Second)); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			buf := make([]byte, 64)
			got := 0
			for time.Since(start) < 4*d {
				n, err := nc.Read(buf)
				if err != nil {
					t.Fatalf("client read %d bytes in %v, then %v", got, time.Since(start).Round(time.Millisecond), err)
				}
				got += n
			}
			select {
			case cl := <-s.closed:
				t.Fatalf("closed with %v while the server wrote every %v", cl.err, d/3)
			default:
			}
			stop()
			stopped := time.Now()
			cl := tbRecv(t, s.closed, d+5*time.Second, "OnClose after the server stopped writing")
			idCheckIdleErr(t, cl.err)
			// No write begins after the close: last is the final one.
			lastWrite := time.Unix(0, last.Load())
			if took := cl.at.Sub(lastWrite); took < d || cl.at.After(stopped.Add(d+tmSlack)) {
				t.Errorf("closed %v after the last write, %v after the writes stopped; want at least %v and within %v of the stop",
					took, cl.at.Sub(stopped), d, d+tmSlack)
			}
			t.Logf("client received %d bytes before the server stopped writing", got)
		})
	}
}

// TestIdleOverride: Conn.SetIdleTimeout overrides WithIdleTimeout for one
// connection: longer, shorter (taking effect before the engine's timeout
// would), 0 for off, or on an engine without the option; set on the loop
// or from another goroutine. The connection closes at least the override
// after it opened and within the override + 1 s of the call.
func TestIdleOverride(t *testing.T) {
	const never = -1 // want: the connection stays open
	tests := []struct {
		name   string
		option time.Duration // WithIdleTimeout; 0: not given
		d      time.Duration // SetIdleTimeout's argument
		onLoop bool          // set in OnOpen rather than from the test goroutine
		want   time.Duration // when it closes after the override, or never
	}{
		{name: "longer", option: 200 * time.Millisecond, d: 1200 * time.Millisecond, onLoop: true, want: 1200 * time.Millisecond},
		{name: "shorter", option: 10 * time.Second, d: 200 * time.Millisecond, onLoop: true, want: 200 * time.Millisecond},
		{name: "shorter from another goroutine", option: 10 * time.Second, d: 200 * time.Millisecond, want: 200 * time.Millisecond},
		{name: "off", option: 200 * time.Millisecond, d: 0, onLoop: true, want: never},
		{name: "without the option", d: 300 * time.Millisecond, onLoop: true, want: 300 * time.Millisecond},
		{name: "without the option, from another goroutine", d: 300 * time.Millisecond, want: 300 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opts []Option
			if tt.option != 0 {
				opts = append(opts, WithIdleTimeout(tt.option))
			}
			setErr := make(chan error, 1)
			var open func(Conn)
			if tt.onLoop {
				open = func(c Conn) { setErr <- c.SetIdleTimeout(tt.d) }
			}
			s := dlServe(t, open, nil, opts...)
			dialed := time.Now() // before the accept: the idle time may count from it
			nc := tbDial(t, s.addr)
			o := tbRecv(t, s.opened, 5*time.Second, "OnOpen")
			set := o.at
			if !tt.onLoop {
				set = time.Now()
				setErr <- o.c.SetIdleTimeout(tt.d)
				if tt.option > 0 && set.Sub(o.at) > tt.option/2 {
					t.Skipf("the override came %v after OnOpen: too late to tell", set.Sub(o.at))
				}
			}
			if err := tbRecv(t, setErr, time.Second, "SetIdleTimeout"); err != nil {
				t.Fatalf("SetIdleTimeout(%v): %v", tt.d, err)
			}
			if tt.want == never {
				dlNoClose(t, s, 4*tt.option, "with the idle timeout off for this connection")
				if err := tbEcho(nc, []byte("still here"), time.Second); err != nil {
					t.Errorf("echo: %v", err)
				}
				return
			}
			cl := dlAwaitCloseWithin(t, s, ErrIdleTimeout, dialed.Add(tt.want), set.Add(tt.want+tmSlack))
			idCheckIdleErr(t, cl.err)
		})
	}
}

// TestIdleOptionValidation: a negative WithIdleTimeout makes Run fail with
// ErrInvalidOption before it creates a socket or boots; 0 (off) and a
// positive one are accepted.
func TestIdleOptionValidation(t *testing.T) {
	tests := []struct {
		name  string
		d     time.Duration
		valid bool
	}{
		{name: "negative", d: -time.Second},
		{name: "minus 1ns", d: -1},
		{name: "off", d: 0, valid: true},
		{name: "1ms", d: time.Millisecond, valid: true},
		{name: "1h", d: time.Hour, valid: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sockets := tbCountSockets(t)
			booted, err := tbRunToEnd(t, "tcp://127.0.0.1:0", WithLoops(1), WithIdleTimeout(tt.d))
			if tt.valid {
				if err != nil || !booted {
					t.Fatalf("Run = %v (booted %v), want a served and stopped engine", err, booted)
				}
				return
			}
			if !errors.Is(err, ErrInvalidOption) {
				t.Errorf("Run = %v, want an error wrapping ErrInvalidOption", err)
			}
			if booted {
				t.Error("OnBoot ran although the idle timeout is negative")
			}
			if n := sockets.Load(); n != 0 {
				t.Errorf("Run created %d sockets before rejecting the option", n)
			}
		})
	}
}

// TestIdleClientTrafficKeepsOpen: under WithIdleTimeout(d), what the
// client sends (and reads back from the echo) is activity: a connection
// that exchanged one message closes at least d after it was sent, and
// one whose client sends every d/3 or every 2d/3 stays open for four
// times d, then closes at least d after its last message.
func TestIdleClientTrafficKeepsOpen(t *testing.T) {
	const d = 300 * time.Millisecond
	t.Run("after a message", func(t *testing.T) {
		s := dlServe(t, nil, nil, WithIdleTimeout(d))
		nc := tbDial(t, s.addr)
		tbRecv(t, s.opened, 5*time.Second, "OnOpen")
		time.Sleep(d / 2)
		sent := time.Now()
		if err := tbEcho(nc, []byte("once"), d/2); err != nil {
			t.Fatal(err)
		}
		cl := dlAwaitCloseWithin(t, s, ErrIdleTimeout, sent.Add(d), time.Now().Add(d+tmSlack))
		idCheckIdleErr(t, cl.err)
	})

	for _, every := range []time.Duration{d / 3, 2 * d / 3} {
		t.Run(fmt.Sprintf("client sends every %v", every), func(t *testing.T) {
			s := dlServe(t, nil, nil, WithIdleTimeout(d))
			nc := tbDial(t, s.addr)
			tbRecv(t, s.opened, 5*time.Second, "OnOpen")
			sent, echoed := dlKeepTalking(t, s, nc, every, 4*d)
			cl := dlAwaitCloseWithin(t, s, ErrIdleTimeout, sent.Add(d), echoed.Add(d+tmSlack))
			idCheckIdleErr(t, cl.err)
		})
	}
}
