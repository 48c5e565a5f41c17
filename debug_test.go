//go:build (linux || darwin || dragonfly || freebsd || netbsd || openbsd) && !evloop_portable && evloop_debug

package evloop

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

// Run with: go test -race -tags evloop_debug -run Debug .

// tbLoopOnlyCalls calls each loop-only method of c once.
var tbLoopOnlyCalls = []struct {
	method string
	call   func(c Conn)
}{
	{"Read", func(c Conn) { _, _ = c.Read(make([]byte, 1)) }},
	{"Peek", func(c Conn) { _, _ = c.Peek(1) }},
	{"Next", func(c Conn) { _, _ = c.Next(1) }},
	{"Discard", func(c Conn) { _, _ = c.Discard(1) }},
	{"InboundBuffered", func(c Conn) { _ = c.InboundBuffered() }},
	{"Write", func(c Conn) { _, _ = c.Write([]byte("x")) }},
	{"Writev", func(c Conn) { _, _ = c.Writev([][]byte{[]byte("x")}) }},
	{"Flush", func(c Conn) { _ = c.Flush() }},
	{"OutboundBuffered", func(c Conn) { _ = c.OutboundBuffered() }},
	{"Context", func(c Conn) { _ = c.Context() }},
	{"SetContext", func(c Conn) { c.SetContext(1) }},
}

// tbPanicOf runs f and returns what it panicked with, or nil.
func tbPanicOf(f func()) (r any) {
	defer func() { r = recover() }()
	f()
	return nil
}

// TestDebugOffLoopCallPanics: with -tags evloop_debug every loop-only
// method called from a goroutine that is not the connection's loop panics
// with a message naming the method and the loop, before it does anything.
func TestDebugOffLoopCallPanics(t *testing.T) {
	opened := make(chan Conn, 1)
	h := &tbHandler{open: func(c Conn) ([]byte, Action) { opened <- c; return nil, None }}
	s := startEngine(t, h, "tcp://127.0.0.1:0", WithLoops(2))
	nc := s.dial(t)
	c := tbRecv(t, opened, 10*time.Second, "OnOpen")
	idx := c.(*conn).loop.idx
	for _, tt := range tbLoopOnlyCalls {
		r := tbPanicOf(func() { tt.call(c) })
		msg, _ := r.(string)
		want := fmt.Sprintf("evloop: Conn.%s called off its loop goroutine (loop %d); ", tt.method, idx)
		if !strings.HasPrefix(msg, want) {
			t.Errorf("%s off the loop panicked with %v, want a message starting %q", tt.method, r, want)
		}
	}
	// The panics came first: the Write and Writev above sent nothing.
	if err := itExpectNoMore(nc, 50*time.Millisecond); err != nil {
		t.Error(err)
	}
}

// TestDebugPoolJobWritePanics: the common mistake, Write from a pool job
// instead of AsyncWrite, is caught: the job panics with the hint, and the
// engine closes the connection with that panic.
func TestDebugPoolJobWritePanics(t *testing.T) {
	closed := make(chan error, 1)
	h := &tbHandler{
		traffic: func(c Conn) Action {
			_, _ = c.Next(-1)
			if err := c.Submit(func() { _, _ = c.Write([]byte("reply")) }); err != nil {
				return Close
			}
			return None
		},
		close: func(_ Conn, err error) Action { closed <- err; return None },
	}
	s := startEngine(t, h, "tcp://127.0.0.1:0", WithLoops(1), WithLogger(tbQuietLogger()))
	if _, err := io.WriteString(s.dial(t), "request"); err != nil {
		t.Fatal(err)
	}
	err := tbRecv(t, closed, 10*time.Second, "OnClose")
	var pe *PanicError
	if !errors.As(err, &pe) {
		t.Fatalf("OnClose(%v), want a *PanicError from the job", err)
	}
	msg, _ := pe.Value.(string)
	if !strings.Contains(msg, "Conn.Write called off its loop goroutine") || !strings.Contains(msg, "use AsyncWrite") {
		t.Errorf("the job panicked with %q, want the off-loop Write message with its hint", msg)
	}
}

// TestDebugSameLoopOtherConnAllowed: inside a callback, the loop-only
// methods of another connection on the same loop run on that loop's
// goroutine, which is allowed: nothing panics, and a Write to the other
// connection reaches its peer.
func TestDebugSameLoopOtherConnAllowed(t *testing.T) {
	opened := make(chan Conn, 2)
	var first Conn // set in the first OnOpen, read on the same loop
	results := make(chan any, 1)
	h := &tbHandler{
		open: func(c Conn) ([]byte, Action) {
			if first == nil {
				first = c
			}
			opened <- c
			return nil, None
		},
		traffic: func(c Conn) Action {
			_, _ = c.Next(-1)
			if c == first {
				return None
			}
			// Every loop-only method of the first connection, from the
			// second's callback.
			results <- tbPanicOf(func() {
				for _, tt := range tbLoopOnlyCalls {
					tt.call(first)
				}
				_, _ = first.Write([]byte("from the other connection"))
			})
			return None
		},
	}
	s := startEngine(t, h, "tcp://127.0.0.1:0", WithLoops(1))
	a := s.dial(t)
	tbRecv(t, opened, 10*time.Second, "first OnOpen")
	b := s.dial(t)
	tbRecv(t, opened, 10*time.Second, "second OnOpen")
	if _, err := io.WriteString(b, "go"); err != nil {
		t.Fatal(err)
	}
	if r := tbRecv(t, results, 10*time.Second, "the second connection's OnTraffic"); r != nil {
		t.Fatalf("a loop-only call on another connection of the same loop panicked: %v", r)
	}
	// The calls above wrote "x" twice (Write, Writev) before the message.
	want := "xxfrom the other connection"
	got := make([]byte, len(want))
	if err := a.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(a, got); err != nil || string(got) != want {
		t.Fatalf("the first connection's peer read %q, %v; want %q", got, err, want)
	}
}
