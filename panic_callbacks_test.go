package evloop

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Panics in every callback other than OnTraffic (panic_test.go) and pool
// jobs (pool_test.go, execute_test.go): each is recovered, counted in
// Stats().Panics and logged with where it happened; the connection
// concerned is closed with a *PanicError (OnClose's own panic: the
// connection is closing already; OnTick and OnShutdown: no connection);
// the engine keeps serving the others.

// pnBoom is what pnHandler panics with: the name of the callback.
type pnBoom string

// pnMark is the context of the connections pnHandler panics for.
const pnMark = "victim"

// pnClose is one OnClose of a victim.
type pnClose struct {
	c   Conn
	err error
}

// pnHandler echoes. Connections opened once armed is set are victims: it
// hands them to the test and panics for them in the callback named by
// where. A victim's "flood" message is answered with 1 MiB, so that its
// output passes the high watermark and, once read, OnWritable comes.
type pnHandler struct {
	BaseHandler
	where  string
	armed  atomic.Bool
	opened chan Conn
	closes chan pnClose

	victimCloses atomic.Int64
}

func newPNHandler(where string) *pnHandler {
	return &pnHandler{where: where, opened: make(chan Conn, 1), closes: make(chan pnClose, 1)}
}

func (h *pnHandler) victim(c Conn) bool { return c.Context() == pnMark }

func (h *pnHandler) OnOpen(c Conn) ([]byte, Action) {
	if !h.armed.Load() {
		return nil, None
	}
	c.SetContext(pnMark)
	h.opened <- c
	if h.where == "OnOpen" {
		panic(pnBoom("OnOpen"))
	}
	return nil, None
}

func (h *pnHandler) OnTraffic(c Conn) Action {
	b, _ := c.Next(-1)
	if h.victim(c) && string(b) == "flood" {
		b = itPattern(0, 1<<20)
	}
	if _, err := c.Write(b); err != nil {
		return Close
	}
	return None
}

func (h *pnHandler) OnClose(c Conn, err error) Action {
	if !h.victim(c) {
		return None
	}
	h.victimCloses.Add(1)
	h.closes <- pnClose{c: c, err: err}
	if h.where == "OnClose" {
		panic(pnBoom("OnClose"))
	}
	return None
}

func (h *pnHandler) OnWritable(c Conn) Action {
	if h.victim(c) && h.where == "OnWritable" {
		panic(pnBoom("OnWritable"))
	}
	return None
}

func (h *pnHandler) OnReadClosed(c Conn) Action {
	if h.victim(c) && h.where == "OnReadClosed" {
		panic(pnBoom("OnReadClosed"))
	}
	return Close
}

// pnPanicky returns an AsyncCallback that panics with pnBoom(where).
func pnPanicky(where string) AsyncCallback {
	return func(Conn, error) { panic(pnBoom(where)) }
}

// TestPanicInCallbacks makes one connection's callback panic, for every
// callback that concerns a connection.
func TestPanicInCallbacks(t *testing.T) {
	tests := []struct {
		name string
		// where the handler panics ("" for none: the test's callback does)
		where string
		// logged is the callback name the log must show.
		logged string
		opts   []Option
		// trigger makes the panic happen on the victim c, whose client is nc.
		trigger func(t *testing.T, c Conn, nc net.Conn)
		// closesWithPanic: OnClose gets the *PanicError; otherwise the
		// connection was closing already and OnClose gets nil.
		closesWithPanic bool
	}{
		{name: "OnOpen", where: "OnOpen", logged: "OnOpen", closesWithPanic: true,
			trigger: func(*testing.T, Conn, net.Conn) {}},
		{name: "OnClose", where: "OnClose", logged: "OnClose",
			trigger: func(t *testing.T, _ Conn, nc net.Conn) { nc.Close() }},
		{name: "OnWritable", where: "OnWritable", logged: "OnWritable", closesWithPanic: true,
			opts: []Option{WithOutboundWatermarks(64<<10, 16<<10), WithSocketSendBuffer(64 << 10)},
			trigger: func(t *testing.T, _ Conn, nc net.Conn) {
				fcSmallBuffers(t, nc)
				if _, err := io.WriteString(nc, "flood"); err != nil {
					t.Fatal(err)
				}
				// Read what comes: once the output drains, OnWritable
				// panics and the connection ends.
				if err := nc.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
					t.Fatal(err)
				}
				if _, err := io.Copy(io.Discard, nc); err != nil && !itIsReset(err) {
					t.Errorf("client read: %v, want EOF or a reset", err)
				}
			}},
		{name: "OnReadClosed", where: "OnReadClosed", logged: "OnReadClosed", closesWithPanic: true,
			opts: []Option{WithHalfClose(true)},
			trigger: func(t *testing.T, _ Conn, nc net.Conn) {
				if err := itCloseWrite(nc); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "AsyncWrite callback", logged: "AsyncCallback", closesWithPanic: true,
			trigger: func(t *testing.T, c Conn, _ net.Conn) {
				if err := c.AsyncWrite([]byte("x"), pnPanicky("AsyncWrite callback")); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "AsyncWritev callback", logged: "AsyncCallback", closesWithPanic: true,
			trigger: func(t *testing.T, c Conn, _ net.Conn) {
				if err := c.AsyncWritev([][]byte{[]byte("x"), []byte("y")}, pnPanicky("AsyncWritev callback")); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "Wake callback", logged: "AsyncCallback", closesWithPanic: true,
			trigger: func(t *testing.T, c Conn, _ net.Conn) {
				if err := c.Wake(pnPanicky("Wake callback")); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "CloseWithCallback callback", logged: "AsyncCallback",
			trigger: func(t *testing.T, c Conn, _ net.Conn) {
				if err := c.CloseWithCallback(pnPanicky("CloseWithCallback callback")); err != nil {
					t.Fatal(err)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logger, logs := itQuietLogger()
			h := newPNHandler(tt.where)
			opts := append([]Option{WithLoops(1), WithLogger(logger)}, tt.opts...)
			s := startEngine(t, h, "tcp://127.0.0.1:0", opts...)
			bystander := s.dial(t)
			if err := itPing(bystander, "before"); err != nil {
				t.Fatal(err)
			}
			h.armed.Store(true)
			nc := s.dial(t)
			c := tbRecv(t, h.opened, 5*time.Second, "the victim's OnOpen")
			h.armed.Store(false)
			tt.trigger(t, c, nc)

			cl := tbRecv(t, h.closes, 5*time.Second, "the victim's OnClose")
			if cl.c != c {
				t.Fatal("OnClose for another connection than the victim")
			}
			var perr *PanicError
			switch {
			case tt.closesWithPanic && !errors.As(cl.err, &perr):
				t.Errorf("OnClose(%v), want a *PanicError", cl.err)
			case tt.closesWithPanic && (perr.Value != pnBoom(tt.name) || len(perr.Stack) == 0):
				t.Errorf("PanicError{Value: %#v, %d-byte stack}, want Value %#v and a stack", perr.Value, len(perr.Stack), pnBoom(tt.name))
			case !tt.closesWithPanic && cl.err != nil:
				t.Errorf("OnClose(%v), want nil: the connection was closing before the panic", cl.err)
			}
			// The panic may come after OnClose (CloseWithCallback's
			// callback, OnClose's own): wait for it to be counted, then
			// echo on the bystander, served by the same loop, so that
			// everything the victim had queued has run.
			if !itEventually(5*time.Second, func() bool { return s.eng.Stats().Panics >= 1 }) {
				t.Fatal("the panic was not counted within 5s")
			}
			if err := itPing(bystander, "after"); err != nil {
				t.Errorf("the other connection after the panic: %v", err)
			}
			if n := s.eng.Stats().Panics; n != 1 {
				t.Errorf("Stats().Panics = %d, want 1", n)
			}
			if n := h.victimCloses.Load(); n != 1 {
				t.Errorf("OnClose ran %d times for the victim, want 1", n)
			}
			log := logs.String()
			if !strings.Contains(log, "recovered panic") || !strings.Contains(log, "in="+tt.logged) ||
				!strings.Contains(log, fmt.Sprint(pnBoom(tt.name))) {
				t.Errorf("the panic was not logged with where it happened (%s) and its value; log:\n%s", tt.logged, log)
			}
			if err := itPing(s.dial(t), "new"); err != nil {
				t.Errorf("a new connection after the panic: %v", err)
			}
			if n := s.eng.CountConnections(); n != 2 {
				t.Errorf("CountConnections() = %d, want 2 (the bystander and the new one)", n)
			}
		})
	}
}

// TestPanicInOnTick: a panicking OnTick is recovered, counted and logged;
// ticks go on and the connections are untouched.
func TestPanicInOnTick(t *testing.T) {
	logger, logs := itQuietLogger()
	var ticks, closes atomic.Int64
	var armed atomic.Bool
	h := &tbHandler{
		tick: func() (time.Duration, Action) {
			ticks.Add(1)
			if armed.CompareAndSwap(true, false) {
				panic(pnBoom("OnTick"))
			}
			return 5 * time.Millisecond, None
		},
		traffic: echoHandler{}.OnTraffic,
		close:   func(Conn, error) Action { closes.Add(1); return None },
	}
	s := startEngine(t, h, "tcp://127.0.0.1:0", WithLoops(1), WithTicker(true), WithLogger(logger))
	nc := s.dial(t)
	if err := itPing(nc, "before"); err != nil {
		t.Fatal(err)
	}
	armed.Store(true)
	if !itEventually(5*time.Second, func() bool { return !armed.Load() }) {
		t.Fatal("OnTick did not run within 5s")
	}
	after := ticks.Load()
	// The recovered tick asks for the next in a second.
	if !itEventually(5*time.Second, func() bool { return ticks.Load() > after }) {
		t.Fatalf("OnTick ran %d times, none after its panic", ticks.Load())
	}
	if n := s.eng.Stats().Panics; n != 1 {
		t.Errorf("Stats().Panics = %d, want 1", n)
	}
	if log := logs.String(); !strings.Contains(log, "in=OnTick") {
		t.Errorf("the panic was not logged as OnTick's; log:\n%s", log)
	}
	if err := itPing(nc, "after"); err != nil {
		t.Errorf("the connection after OnTick panicked: %v", err)
	}
	if n := closes.Load(); n != 0 {
		t.Errorf("%d connections closed after OnTick panicked, want none", n)
	}
}

// TestPanicInOnShutdown: a panicking OnShutdown is recovered, counted and
// logged; every OnClose ran before it and Run still returns nil.
func TestPanicInOnShutdown(t *testing.T) {
	logger, logs := itQuietLogger()
	var opens, closes, closesAtShutdown atomic.Int64
	h := &tbHandler{
		open:    func(Conn) ([]byte, Action) { opens.Add(1); return nil, None },
		traffic: echoHandler{}.OnTraffic,
		close:   func(Conn, error) Action { closes.Add(1); return None },
		shutdown: func(Engine) {
			closesAtShutdown.Store(closes.Load())
			panic(pnBoom("OnShutdown"))
		},
	}
	s := startEngine(t, h, "tcp://127.0.0.1:0", WithLoops(2), WithLogger(logger))
	for i := range 3 {
		if err := itPing(s.dial(t), fmt.Sprintf("client %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	s.stop(t) // fails the test unless Stop and Run return nil
	if n := s.eng.Stats().Panics; n != 1 {
		t.Errorf("Stats().Panics = %d, want 1", n)
	}
	if at, o := closesAtShutdown.Load(), opens.Load(); at != o || o != 3 {
		t.Errorf("OnShutdown ran after %d OnClose calls, want all %d (of 3 connections)", at, o)
	}
	if log := logs.String(); !strings.Contains(log, "in=OnShutdown") {
		t.Errorf("the panic was not logged as OnShutdown's; log:\n%s", log)
	}
}
