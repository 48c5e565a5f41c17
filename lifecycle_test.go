package evloop

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/evloop/evloop/internal/cputime"
)

// Lifecycle tests: a graceful close with output pending, the linger bound
// on it, an abortive close, and pausing reads by hand.

// fcConnHandler hands every connection to the test, and on "go" writes
// payload in 1 MiB Writes and returns closeAfter; OnClose errors and their
// times go to closes.
type fcConnHandler struct {
	BaseHandler
	payload    []byte
	closeAfter Action
	conns      chan Conn
	wrote      chan time.Time // when the payload was written
	closes     chan fcClosed
	traffic    chan int // bytes of each OnTraffic, when not nil
}

// fcClosed is one OnClose.
type fcClosed struct {
	err error
	at  time.Time
}

func newFCConnHandler(payload []byte, closeAfter Action) *fcConnHandler {
	return &fcConnHandler{payload: payload, closeAfter: closeAfter, conns: make(chan Conn, 1),
		wrote: make(chan time.Time, 1), closes: make(chan fcClosed, 1)}
}

func (h *fcConnHandler) OnOpen(c Conn) ([]byte, Action) {
	h.conns <- c
	return nil, None
}

func (h *fcConnHandler) OnTraffic(c Conn) Action {
	b, _ := c.Next(-1)
	if h.traffic != nil {
		h.traffic <- len(b)
	}
	if !bytes.Equal(b, []byte("go")) {
		return None
	}
	const chunk = 1 << 20
	for off := 0; off < len(h.payload); off += chunk {
		if _, err := c.Write(h.payload[off:min(off+chunk, len(h.payload))]); err != nil {
			return Close
		}
	}
	h.wrote <- time.Now()
	return h.closeAfter
}

func (h *fcConnHandler) OnClose(_ Conn, err error) Action {
	h.closes <- fcClosed{err: err, at: time.Now()}
	return None
}

// fcSmallBuffers shrinks a client's kernel buffers so that megabytes stay
// pending on the server while the client does not read.
func fcSmallBuffers(tb testing.TB, nc net.Conn) {
	tb.Helper()
	tc := nc.(*net.TCPConn)
	if err := errors.Join(tc.SetReadBuffer(64<<10), tc.SetWriteBuffer(64<<10)); err != nil {
		tb.Fatal(err)
	}
}

// TestLifecycleCloseFlushesAsyncWrites: 8 MiB queued with AsyncWrite from
// another goroutine, then Close (or CloseWithCallback) from that goroutine:
// the client, reading only later, gets all 8 MiB in order, then EOF;
// every callback reports success and OnClose gets nil. An engine whose
// Close drops pending output fails the read.
func TestLifecycleCloseFlushesAsyncWrites(t *testing.T) {
	const chunk = 1 << 20
	total := itScale(8<<20, 4<<20)
	tests := []struct {
		name         string
		withCallback bool
	}{
		{name: "Close"},
		{name: "CloseWithCallback", withCallback: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newFCConnHandler(nil, None)
			s := startEngine(t, h, "tcp://127.0.0.1:0", WithLoops(1), WithSocketSendBuffer(64<<10))
			nc := s.dial(t)
			fcSmallBuffers(t, nc)
			c := fcRecvConn(t, h.conns)
			cbs := make(chan error, total/chunk+1)
			for off := 0; off < total; off += chunk {
				if err := c.AsyncWrite(itPattern(off, chunk), func(_ Conn, err error) { cbs <- err }); err != nil {
					t.Fatalf("AsyncWrite at %d: %v", off, err)
				}
			}
			if tt.withCallback {
				if err := c.CloseWithCallback(func(_ Conn, err error) { cbs <- err }); err != nil {
					t.Fatalf("CloseWithCallback: %v", err)
				}
			} else if err := c.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			time.Sleep(200 * time.Millisecond) // the close meets pending output
			if err := nc.SetReadDeadline(time.Now().Add(30 * time.Second)); err != nil {
				t.Fatal(err)
			}
			if got, err := itReadPattern(nc, total); err != nil {
				t.Fatalf("client got %d of %d bytes: %v", got, total, err)
			}
			if k, err := nc.Read(make([]byte, 16)); k != 0 || !errors.Is(err, io.EOF) {
				t.Errorf("read after all bytes = %d, %v; want 0, EOF", k, err)
			}
			for range cap(cbs) - 1 {
				if err := tbRecv(t, cbs, 5*time.Second, "an AsyncWrite callback"); err != nil {
					t.Errorf("AsyncWrite callback: %v", err)
				}
			}
			if tt.withCallback {
				if err := tbRecv(t, cbs, 5*time.Second, "the close callback"); err != nil {
					t.Errorf("CloseWithCallback callback: %v", err)
				}
			}
			if cl := tbRecv(t, h.closes, 5*time.Second, "OnClose"); cl.err != nil {
				t.Errorf("OnClose(%v), want nil", cl.err)
			}
		})
	}
}

// TestLifecycleLingerTimeout: a connection closed with 8 MiB pending to a
// client that never reads is closed with ErrLingerTimeout once WithLinger
// (200 ms) has passed, within about a second, and the client sees the
// connection end without the rest. An engine without the linger bound
// keeps the connection until the client reads (OnClose never comes).
func TestLifecycleLingerTimeout(t *testing.T) {
	const linger = 200 * time.Millisecond
	h := newFCConnHandler(itPattern(0, 8<<20), Close)
	s := startEngine(t, h, "tcp://127.0.0.1:0", WithLoops(1), WithLinger(linger),
		WithOutboundLimit(32<<20), WithSocketSendBuffer(64<<10))
	nc := s.dial(t)
	fcSmallBuffers(t, nc)
	if _, err := nc.Write([]byte("go")); err != nil {
		t.Fatal(err)
	}
	closedAt := tbRecv(t, h.wrote, 5*time.Second, "the payload write")
	cl := tbRecv(t, h.closes, 5*time.Second, "OnClose")
	took := cl.at.Sub(closedAt)
	t.Logf("OnClose(%v) %v after the Close action", cl.err, took.Round(time.Millisecond))
	if !errors.Is(cl.err, ErrLingerTimeout) {
		t.Errorf("OnClose(%v), want ErrLingerTimeout", cl.err)
	}
	if took < linger-10*time.Millisecond || took > time.Second {
		t.Errorf("closed %v after the Close action, want between the linger %v and 1s", took, linger)
	}
	if err := nc.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	got, err := itReadPattern(nc, len(h.payload))
	t.Logf("client then read %d bytes and %v", got, err)
	if err == nil || got >= len(h.payload) {
		t.Errorf("client read all %d bytes of a connection closed for lingering", got)
	}
	if errors.Is(err, io.EOF) || itIsReset(err) {
		return
	}
	t.Errorf("client read ended with %v, want EOF or a reset", err)
}

// TestLifecycleAbort: Conn.Abort resets the connection at once, dropping
// pending output: the client sees ECONNRESET (or EOF before all the
// pending bytes) within a second, and later calls get ErrClosed. An engine
// whose Abort closes gracefully lets the client read everything.
func TestLifecycleAbort(t *testing.T) {
	tests := []struct {
		name    string
		pending int
	}{
		{name: "idle", pending: 0},
		{name: "8 MiB pending", pending: 8 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newFCConnHandler(itPattern(0, tt.pending), None)
			s := startEngine(t, h, "tcp://127.0.0.1:0", WithLoops(1), WithSocketSendBuffer(64<<10))
			nc := s.dial(t)
			fcSmallBuffers(t, nc)
			c := fcRecvConn(t, h.conns)
			if tt.pending > 0 {
				if _, err := nc.Write([]byte("go")); err != nil {
					t.Fatal(err)
				}
				tbRecv(t, h.wrote, 5*time.Second, "the payload write")
			}
			abortAt := time.Now()
			if err := c.Abort(); err != nil {
				t.Fatalf("Abort: %v", err)
			}
			cl := tbRecv(t, h.closes, 5*time.Second, "OnClose")
			if err := nc.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
				t.Fatal(err)
			}
			got, err := io.Copy(io.Discard, nc)
			took := time.Since(abortAt)
			t.Logf("OnClose(%v); client read %d bytes and %v, %v after Abort", cl.err, got, err, took.Round(time.Millisecond))
			switch {
			case itIsReset(err):
			case err == nil && got < int64(tt.pending): // io.Copy turns EOF into nil
			default:
				t.Errorf("client read %d of %d pending bytes and %v, want ECONNRESET or EOF short of the pending bytes", got, tt.pending, err)
			}
			if took > time.Second {
				t.Errorf("the client learnt of the abort after %v, want within 1s", took)
			}
			done := make(chan error, 1)
			if err := c.AsyncWrite([]byte("x"), func(_ Conn, err error) { done <- err }); err != nil {
				done <- err
			}
			if err := tbRecv(t, done, 5*time.Second, "AsyncWrite after Abort"); !errors.Is(err, ErrClosed) {
				t.Errorf("AsyncWrite after Abort: %v, want ErrClosed", err)
			}
		})
	}
}

// TestLifecyclePauseResume: PauseReading from another goroutine stops
// OnTraffic while the peer sends, without the loop spinning on the
// readable socket; ResumeReading delivers what waited. An engine that
// ignores the pause delivers the bytes at once; one that pauses by
// skipping events on a level-triggered fd burns a core.
func TestLifecyclePauseResume(t *testing.T) {
	h := newFCConnHandler(nil, None)
	h.traffic = make(chan int, 64)
	s := startEngine(t, h, "tcp://127.0.0.1:0", WithLoops(1))
	nc := s.dial(t)
	c := fcRecvConn(t, h.conns)
	if err := c.PauseReading(); err != nil {
		t.Fatalf("PauseReading: %v", err)
	}
	// A Wake runs behind the pause in the loop's queue: once its callback
	// has run, the pause is in effect. Wake itself runs OnTraffic once.
	if _, _, err := fcLoopBuffers(c, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if n := tbRecv(t, h.traffic, 5*time.Second, "the Wake's OnTraffic"); n != 0 {
		t.Fatalf("the Wake's OnTraffic saw %d bytes, want 0", n)
	}
	const msg = 4 << 10
	if _, err := nc.Write(itPattern(0, msg)); err != nil {
		t.Fatal(err)
	}
	cpu0, wall0 := cputime.Process(t), time.Now()
	select {
	case n := <-h.traffic:
		t.Fatalf("OnTraffic with %d bytes while reading was paused", n)
	case <-time.After(300 * time.Millisecond):
	}
	cpu, wall := cputime.Process(t)-cpu0, time.Since(wall0)
	t.Logf("CPU while paused with %d bytes waiting: %v in %v", msg, cpu, wall.Round(time.Millisecond))
	if cpu > wall/2 {
		t.Errorf("process used %v CPU in %v while paused: a loop spins on the readable socket", cpu, wall)
	}
	if err := c.ResumeReading(); err != nil {
		t.Fatalf("ResumeReading: %v", err)
	}
	got := 0
	for got < msg {
		got += tbRecv(t, h.traffic, 5*time.Second, fmt.Sprintf("OnTraffic after the resume (%d of %d bytes so far)", got, msg))
	}
	if got != msg {
		t.Errorf("OnTraffic saw %d bytes after the resume, want %d", got, msg)
	}
}
