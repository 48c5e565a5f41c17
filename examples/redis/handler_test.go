package main

import (
	"strings"
	"testing"

	"github.com/evloop/evloop"
	"github.com/evloop/evloop/examples/redis/store"
)

// TestLargeValueParsedOnce: while a large value arrives, read after read,
// OnTraffic does not look at the bytes again until the command can be
// whole: the parser said how many bytes it needs.
func TestLargeValueParsedOnce(t *testing.T) {
	h := newHandler(config{maxValue: defaultMaxValue}, store.New())
	c := newFakeConn(h)
	cmd := multibulk("SET", "big", strings.Repeat("v", 1<<20))
	const chunk = 64 << 10
	c.in = []byte(cmd[:chunk])
	h.OnTraffic(c)
	if c.peeks != 1 || len(c.in) != chunk {
		t.Fatalf("after the first chunk: %d peeks, %d bytes left; want 1 and the chunk", c.peeks, len(c.in))
	}
	for end := 2 * chunk; end < len(cmd); end += chunk {
		c.in = []byte(cmd[:end])
		if a := h.OnTraffic(c); a != evloop.None {
			t.Fatalf("action %v", a)
		}
	}
	if c.peeks != 1 {
		t.Fatalf("%d peeks while the value was arriving, want none after the first", c.peeks-1)
	}
	c.in = []byte(cmd)
	h.OnTraffic(c)
	if c.peeks != 2 || string(c.out) != ok || len(c.in) != 0 {
		t.Fatalf("once whole: %d peeks, reply %q, %d bytes left; want 2, +OK and none", c.peeks, c.out, len(c.in))
	}
}

func TestOnTraffic(t *testing.T) {
	tests := []struct {
		name       string
		in         string
		wantOut    string
		wantLeft   string
		wantAction evloop.Action
	}{
		{name: "nothing yet", in: ""},
		{name: "partial", in: "*1\r\n$4\r\nPI", wantLeft: "*1\r\n$4\r\nPI"},
		{name: "two and a partial", in: "PING\r\nPING\r\nPI", wantOut: "+PONG\r\n+PONG\r\n", wantLeft: "PI"},
		{name: "empty lines only", in: "\r\n\r\n"},
		{name: "quit drops the rest", in: "PING\r\nQUIT\r\nPING\r\n", wantOut: "+PONG\r\n+OK\r\n", wantAction: evloop.Close},
		{name: "protocol error after a command", in: "PING\r\n*-5\r\nPING\r\n",
			wantOut: "+PONG\r\n-ERR Protocol error: invalid multibulk length\r\n", wantAction: evloop.Close},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHandler(config{maxValue: defaultMaxValue}, store.New())
			c := newFakeConn(h)
			c.in = []byte(tt.in)
			if a := h.OnTraffic(c); a != tt.wantAction {
				t.Fatalf("action %v, want %v", a, tt.wantAction)
			}
			if string(c.out) != tt.wantOut || string(c.in) != tt.wantLeft {
				t.Fatalf("wrote %q, left %q; want %q and %q", c.out, c.in, tt.wantOut, tt.wantLeft)
			}
			if c.writes > 1 {
				t.Fatalf("%d writes, want one per batch", c.writes)
			}
		})
	}
}

// fakeConn is the part of evloop.Conn that OnTraffic uses, over a plain
// byte slice, so that the handler can be driven without a network. Calling
// any other method panics on the nil embedded interface, which would fail
// the test loudly.
type fakeConn struct {
	evloop.Conn
	in     []byte // buffered inbound bytes
	out    []byte // everything written
	writes int
	peeks  int
	ctx    any
}

func (f *fakeConn) Context() any          { return f.ctx }
func (f *fakeConn) SetContext(ctx any)    { f.ctx = ctx }
func (f *fakeConn) InboundBuffered() int  { return len(f.in) }
func (f *fakeConn) OutboundBuffered() int { return 0 }

func (f *fakeConn) Peek(n int) ([]byte, error) {
	f.peeks++
	if n < 0 || n > len(f.in) {
		n = len(f.in)
	}
	return f.in[:n:n], nil
}

func (f *fakeConn) Discard(n int) (int, error) {
	n = min(n, len(f.in))
	f.in = f.in[n:]
	return n, nil
}

func (f *fakeConn) Write(p []byte) (int, error) {
	f.writes++
	f.out = append(f.out, p...)
	return len(p), nil
}

// newFakeConn returns a connection opened by h, with room for replies.
func newFakeConn(h *handler) *fakeConn {
	c := &fakeConn{out: make([]byte, 0, 64<<10)}
	h.OnOpen(c)
	return c
}
