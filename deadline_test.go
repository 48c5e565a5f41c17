package evloop

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// Deadline tests: a read deadline that passes closes the connection with
// ErrReadTimeout; a write deadline that passes with output pending closes
// it with ErrWriteTimeout and a reset; moving or clearing a deadline, from
// the loop or from any goroutine, takes effect.

// dlOpened is one OnOpen, with the time taken just before the handler's
// open hook set anything.
type dlOpened struct {
	c  Conn
	at time.Time
}

// dlClosed is one OnClose.
type dlClosed struct {
	err error
	at  time.Time
}

// dlServer is an engine whose connections the test watches.
type dlServer struct {
	*testServer
	opened chan dlOpened
	closed chan dlClosed
}

// dlServe starts an echo engine on one loop; open, when not nil, runs in
// OnOpen and traffic, when not nil, runs in OnTraffic after the echo.
func dlServe(tb testing.TB, open, traffic func(c Conn), opts ...Option) *dlServer {
	tb.Helper()
	s := &dlServer{opened: make(chan dlOpened, 4), closed: make(chan dlClosed, 4)}
	h := &tbHandler{
		open: func(c Conn) ([]byte, Action) {
			at := time.Now()
			if open != nil {
				open(c)
			}
			s.opened <- dlOpened{c: c, at: at}
			return nil, None
		},
		traffic: func(c Conn) Action {
			b, _ := c.Next(-1)
			if _, err := c.Write(b); err != nil {
				return Close
			}
			if traffic != nil {
				traffic(c)
			}
			return None
		},
		close: func(_ Conn, err error) Action {
			s.closed <- dlClosed{err: err, at: time.Now()}
			return None
		},
	}
	s.testServer = startEngine(tb, h, "tcp://127.0.0.1:0", append([]Option{WithLoops(1)}, opts...)...)
	return s
}

// dlAwaitClose waits for OnClose and checks that it came with want (by
// errors.Is) at least d after from and within d + 1 s.
func dlAwaitClose(tb testing.TB, s *dlServer, want error, from time.Time, d time.Duration) dlClosed {
	tb.Helper()
	return dlAwaitCloseWithin(tb, s, want, from.Add(d), from.Add(d+tmSlack))
}

// dlAwaitCloseWithin waits for OnClose and checks that it came with want
// (by errors.Is) between earliest and latest.
func dlAwaitCloseWithin(tb testing.TB, s *dlServer, want error, earliest, latest time.Time) dlClosed {
	tb.Helper()
	cl := tbRecv(tb, s.closed, time.Until(latest)+5*time.Second, "OnClose")
	if !errors.Is(cl.err, want) {
		tb.Errorf("OnClose(%v), want %v", cl.err, want)
	}
	switch {
	case cl.at.Before(earliest):
		tb.Errorf("closed %v before the earliest time it may close", earliest.Sub(cl.at).Round(time.Microsecond))
	case cl.at.After(latest):
		tb.Errorf("closed %v after the latest time it may close", cl.at.Sub(latest).Round(time.Microsecond))
	}
	return cl
}

// dlNoClose fails if the connection closes within wait.
func dlNoClose(tb testing.TB, s *dlServer, wait time.Duration, what string) {
	tb.Helper()
	select {
	case cl := <-s.closed:
		tb.Fatalf("%s: the connection closed with %v", what, cl.err)
	case <-time.After(wait):
	}
}

// dlClientSeesClose checks that the client's connection was closed by the
// server (EOF or a reset) rather than left open.
func dlClientSeesClose(tb testing.TB, nc net.Conn) {
	tb.Helper()
	if err := nc.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		tb.Fatal(err)
	}
	_, err := io.Copy(io.Discard, nc)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		tb.Errorf("client still connected 5s after OnClose: %v", err)
	}
}

// TestDeadlineReadTimeout: a read deadline that passes closes the
// connection with ErrReadTimeout, which matches os.ErrDeadlineExceeded,
// at least d after it was set and within d + 1 s, whether it was set on
// the loop, from a pool job or from another goroutine, alone or with
// SetDeadline (nothing is pending, so the write deadline closes nothing).
// A deadline in the past closes within a second.
func TestDeadlineReadTimeout(t *testing.T) {
	const d = 300 * time.Millisecond
	set := make(chan time.Time, 1) // when an off-loop setter set it
	setErr := make(chan error, 1)
	tests := []struct {
		name  string
		d     time.Duration // the window's d
		open  func(c Conn)
		after func(t *testing.T, c Conn) time.Time // sets it off the loop; returns when
	}{
		{name: "SetReadDeadline in OnOpen", d: d, open: func(c Conn) { _ = c.SetReadDeadline(time.Now().Add(d)) }},
		{name: "SetDeadline in OnOpen", d: d, open: func(c Conn) { _ = c.SetDeadline(time.Now().Add(d)) }},
		{name: "in the past", d: 0, open: func(c Conn) { _ = c.SetReadDeadline(time.Now().Add(-time.Second)) }},
		{name: "SetDeadline from a pool job", d: d, open: func(c Conn) {
			if err := c.Submit(func() {
				at := time.Now()
				setErr <- c.SetDeadline(at.Add(d))
				set <- at
			}); err != nil {
				setErr <- err
				set <- time.Now()
			}
		}, after: func(t *testing.T, _ Conn) time.Time {
			if err := tbRecv(t, setErr, 5*time.Second, "the pool job"); err != nil {
				t.Fatalf("SetDeadline from a pool job: %v", err)
			}
			return tbRecv(t, set, time.Second, "the pool job's time")
		}},
		{name: "SetReadDeadline from the test goroutine", d: d, after: func(t *testing.T, c Conn) time.Time {
			at := time.Now()
			if err := c.SetReadDeadline(at.Add(d)); err != nil {
				t.Fatalf("SetReadDeadline: %v", err)
			}
			return at
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := dlServe(t, tt.open, nil)
			nc := tbDial(t, s.addr)
			o := tbRecv(t, s.opened, 5*time.Second, "OnOpen")
			from := o.at
			if tt.after != nil {
				from = tt.after(t, o.c)
			}
			cl := dlAwaitClose(t, s, ErrReadTimeout, from, tt.d)
			if !errors.Is(cl.err, os.ErrDeadlineExceeded) {
				t.Errorf("OnClose(%v) does not match os.ErrDeadlineExceeded", cl.err)
			}
			if errors.Is(cl.err, ErrWriteTimeout) || errors.Is(cl.err, ErrIdleTimeout) {
				t.Errorf("OnClose(%v) also matches ErrWriteTimeout or ErrIdleTimeout", cl.err)
			}
			dlClientSeesClose(t, nc)
		})
	}
}

// TestDeadlineReadMovedKeepsOpen: a handler that moves the read deadline d
// ahead on every message keeps a connection that sends every d/3 open for
// four times d; once the client goes quiet, the connection closes with
// ErrReadTimeout at least d after the last message was sent and within d
// + 1 s of its echo.
func TestDeadlineReadMovedKeepsOpen(t *testing.T) {
	const d = 300 * time.Millisecond
	move := func(c Conn) { _ = c.SetReadDeadline(time.Now().Add(d)) }
	s := dlServe(t, move, move)
	nc := tbDial(t, s.addr)
	tbRecv(t, s.opened, 5*time.Second, "OnOpen")
	sent, echoed := dlKeepTalking(t, s, nc, d/3, 4*d)
	dlAwaitCloseWithin(t, s, ErrReadTimeout, sent.Add(d), echoed.Add(d+tmSlack))
}

// dlKeepTalking echoes a message every `every` for span, failing the test
// if the server closes the connection meanwhile; it returns when the last
// message was sent and when its echo came back.
func dlKeepTalking(tb testing.TB, s *dlServer, nc net.Conn, every, span time.Duration) (sent, echoed time.Time) {
	tb.Helper()
	start := time.Now()
	for i := 0; time.Since(start) < span; i++ {
		sent = time.Now()
		if err := tbEcho(nc, []byte(fmt.Sprintf("message %d", i)), every/2); err != nil {
			tb.Fatalf("message %d, %v after the first: %v", i, sent.Sub(start).Round(time.Millisecond), err)
		}
		echoed = time.Now()
		select {
		case cl := <-s.closed:
			tb.Fatalf("closed with %v %v after the first message, %v after the last echo, although the client sends every %v",
				cl.err, cl.at.Sub(start).Round(time.Millisecond), cl.at.Sub(echoed).Round(time.Millisecond), every)
		case <-time.After(every - time.Since(sent)):
		}
	}
	return sent, echoed
}

// TestDeadlineMoved: a deadline moved earlier takes effect at the earlier
// time (an engine that only re-checks at the first time closes late); one
// moved later closes at the later time, not the first.
func TestDeadlineMoved(t *testing.T) {
	tests := []struct {
		name        string
		first, then time.Duration
	}{
		{name: "earlier", first: 10 * time.Second, then: 200 * time.Millisecond},
		{name: "later", first: 200 * time.Millisecond, then: 800 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := dlServe(t, func(c Conn) { _ = c.SetReadDeadline(time.Now().Add(tt.first)) }, nil)
			tbDial(t, s.addr)
			o := tbRecv(t, s.opened, 5*time.Second, "OnOpen")
			at := time.Now()
			if err := o.c.SetReadDeadline(at.Add(tt.then)); err != nil {
				t.Fatalf("SetReadDeadline: %v", err)
			}
			if at.Sub(o.at) > tt.first/2 {
				t.Skipf("the test goroutine moved the deadline %v after it was set: too late to tell", at.Sub(o.at))
			}
			dlAwaitClose(t, s, ErrReadTimeout, at, tt.then)
		})
	}
}

// TestDeadlineZeroClears: the zero time clears a deadline, through
// SetReadDeadline or SetDeadline: a connection whose deadline was set d
// after OnOpen by that method and cleared by it on the first message stays
// open for three times d, and still echoes.
func TestDeadlineZeroClears(t *testing.T) {
	const d = 500 * time.Millisecond
	tests := []struct {
		name string
		set  func(c Conn, t time.Time) error
	}{
		{name: "SetReadDeadline", set: Conn.SetReadDeadline},
		{name: "SetDeadline", set: Conn.SetDeadline},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cleared := make(chan error, 1)
			s := dlServe(t, func(c Conn) { _ = tt.set(c, time.Now().Add(d)) }, func(c Conn) {
				select {
				case cleared <- tt.set(c, time.Time{}):
				default:
				}
			})
			nc := tbDial(t, s.addr)
			o := tbRecv(t, s.opened, 5*time.Second, "OnOpen")
			if err := tbEcho(nc, []byte("clear"), d/2); err != nil {
				t.Fatal(err)
			}
			if err := tbRecv(t, cleared, time.Second, "the clear"); err != nil {
				t.Fatalf("clearing: %v", err)
			}
			if time.Since(o.at) > d/2 {
				t.Skipf("the deadline was cleared %v after OnOpen: too late to tell", time.Since(o.at))
			}
			dlNoClose(t, s, 3*d, "after the deadline was cleared")
			if err := tbEcho(nc, []byte("still here"), time.Second); err != nil {
				t.Errorf("echo after the cleared deadline: %v", err)
			}
		})
	}
}

// TestDeadlineWriteTimeout: a write deadline that passes while output is
// pending (the client does not read) closes the connection with
// ErrWriteTimeout, which matches os.ErrDeadlineExceeded, at least d after
// it was set and within d + 1 s, whether it was set after the output was
// written or before; the output is dropped and the client sees a reset,
// not an orderly end of a cut stream. A deadline that passed while nothing
// was pending closes the connection within a second of output becoming
// pending again.
func TestDeadlineWriteTimeout(t *testing.T) {
	const d = 300 * time.Millisecond
	payload := itPattern(0, 8<<20)
	tests := []struct {
		name      string
		before    bool          // set in OnOpen rather than after the write
		d         time.Duration // the deadline's distance from when it is set
		goAfter   time.Duration // how long the client waits before "go"
		fromWrite bool          // the close is due at once once the payload is pending
	}{
		{name: "set after the output", d: d},
		{name: "set before the output", before: true, d: d},
		{name: "passed before the output", before: true, d: 100 * time.Millisecond, goAfter: 400 * time.Millisecond, fromWrite: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set := make(chan time.Time, 1)
			wrote := make(chan time.Time, 1)
			var open func(c Conn)
			if tt.before {
				open = func(c Conn) {
					at := time.Now()
					_ = c.SetWriteDeadline(at.Add(tt.d))
					set <- at
				}
			}
			s := dlServe(t, open, func(c Conn) {
				if c.OutboundBuffered() > 0 {
					return // the payload was written already
				}
				if _, err := c.Write(payload); err != nil {
					return
				}
				at := time.Now()
				if !tt.before {
					_ = c.SetWriteDeadline(at.Add(tt.d))
					set <- at
				}
				wrote <- at
			}, WithSocketSendBuffer(64<<10))
			nc := tbDial(t, s.addr)
			fcSmallBuffers(t, nc)
			time.Sleep(tt.goAfter)
			if _, err := nc.Write([]byte("go")); err != nil {
				t.Fatal(err)
			}
			at := tbRecv(t, set, 5*time.Second, "the deadline")
			written := tbRecv(t, wrote, 5*time.Second, "the payload write")
			var cl dlClosed
			switch {
			case tt.fromWrite:
				cl = dlAwaitClose(t, s, ErrWriteTimeout, written, 0)
			default:
				if written.After(at.Add(tt.d / 2)) {
					t.Skipf("the payload was written %v after the deadline was set: too late to tell", written.Sub(at))
				}
				cl = dlAwaitClose(t, s, ErrWriteTimeout, at, tt.d)
			}
			if !errors.Is(cl.err, os.ErrDeadlineExceeded) {
				t.Errorf("OnClose(%v) does not match os.ErrDeadlineExceeded", cl.err)
			}
			if errors.Is(cl.err, ErrReadTimeout) || errors.Is(cl.err, ErrIdleTimeout) {
				t.Errorf("OnClose(%v) also matches ErrReadTimeout or ErrIdleTimeout", cl.err)
			}
			if err := nc.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
				t.Fatal(err)
			}
			got, err := io.Copy(io.Discard, nc)
			t.Logf("client read %d bytes (2 echoed), then %v", got, err)
			if !itIsReset(err) {
				t.Errorf("client read %d bytes, then %v; want a reset (ECONNRESET)", got, err)
			}
		})
	}
}

// TestDeadlineWriteNothingPending: a write deadline that passes with
// nothing pending closes nothing: neither on a connection that never had
// output waiting, nor on one whose 4 MiB of pending output the client read
// before the deadline. Both still echo afterwards.
func TestDeadlineWriteNothingPending(t *testing.T) {
	const d = 500 * time.Millisecond
	payload := itPattern(0, 4<<20)
	tests := []struct {
		name    string
		payload []byte // written with the deadline on "go", read at once
	}{
		{name: "never pending"},
		{name: "drained before the deadline", payload: payload},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wrote := make(chan time.Time, 1)
			first := true // loop only
			s := dlServe(t, nil, func(c Conn) {
				if !first {
					return
				}
				first = false
				if len(tt.payload) > 0 {
					if _, err := c.Write(tt.payload); err != nil {
						return
					}
				}
				at := time.Now()
				_ = c.SetWriteDeadline(at.Add(d))
				wrote <- at
			}, WithSocketSendBuffer(64<<10))
			nc := tbDial(t, s.addr)
			if err := nc.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
				t.Fatal(err)
			}
			if _, err := nc.Write([]byte("go")); err != nil {
				t.Fatal(err)
			}
			want := append([]byte("go"), tt.payload...)
			got := make([]byte, len(want))
			if _, err := io.ReadFull(nc, got); err != nil || !bytes.Equal(got, want) {
				t.Fatalf("client read %d bytes (%v), want the echo and the %d-byte payload", len(got), err, len(tt.payload))
			}
			at := tbRecv(t, wrote, time.Second, "the deadline's time")
			if time.Since(at) > d/2 {
				t.Skipf("the client read everything %v after the deadline was set: too late to tell", time.Since(at))
			}
			dlNoClose(t, s, time.Until(at.Add(d+500*time.Millisecond)), "after the write deadline passed with nothing pending")
			if err := tbEcho(nc, []byte("still here"), time.Second); err != nil {
				t.Errorf("echo after the write deadline passed: %v", err)
			}
		})
	}
}

// TestDeadlineClosedConn: SetDeadline, SetReadDeadline, SetWriteDeadline
// and SetIdleTimeout on a closed connection return ErrClosed, both inside
// OnClose and later from another goroutine.
func TestDeadlineClosedConn(t *testing.T) {
	setters := func(c Conn) []error {
		soon := time.Now().Add(time.Second)
		return []error{c.SetDeadline(soon), c.SetReadDeadline(soon), c.SetWriteDeadline(soon),
			c.SetDeadline(time.Time{}), c.SetIdleTimeout(time.Second)}
	}
	names := []string{"SetDeadline", "SetReadDeadline", "SetWriteDeadline", "SetDeadline(zero)", "SetIdleTimeout"}
	inClose := make(chan []error, 1)
	conns := make(chan Conn, 1)
	h := &tbHandler{
		open:  func(c Conn) ([]byte, Action) { conns <- c; return nil, None },
		close: func(c Conn, _ error) Action { inClose <- setters(c); return None },
	}
	s := startEngine(t, h, "tcp://127.0.0.1:0", WithLoops(1))
	nc := tbDial(t, s.addr)
	c := tbRecv(t, conns, 5*time.Second, "OnOpen")
	_ = nc.Close()
	check := func(where string, errs []error) {
		for i, err := range errs {
			if !errors.Is(err, ErrClosed) {
				t.Errorf("%s %s = %v, want ErrClosed", names[i], where, err)
			}
		}
	}
	check("in OnClose", tbRecv(t, inClose, 5*time.Second, "OnClose"))
	check("from another goroutine", setters(c))
}
