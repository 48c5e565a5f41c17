package main

import "github.com/evloop/evloop"

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
