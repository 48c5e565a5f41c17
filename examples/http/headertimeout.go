package main

import (
	"bytes"

	"github.com/evloop/evloop"
	"github.com/evloop/evloop/examples/http/h1"
)

// The read-header timeout (-read-header-timeout) gives a request's header
// a fixed time from its first byte: a client that sends half a header and
// stalls, or trickles it a byte at a time to hold the connection
// (slowloris), gets "408 Request Timeout" and a close.
//
// Most requests arrive whole in one read and never touch a timer: a
// connection's one timer is made the first time a callback leaves an
// incomplete request buffered, and re-armed with Reset when a later
// request is left incomplete in turn. More bytes of the same request do
// not re-arm it (that would let a trickle last forever); a request
// completed in the same callback means the bytes left are a new request,
// whose time starts now. Once the header is complete the timer stops,
// even if the body is still to come.

// crlfcrlf ends a header section: the first empty line after the request
// line. Parse rejects an empty line before a request line, so the first
// occurrence in a request's bytes is its end.
var crlfcrlf = []byte("\r\n\r\n")

// connState is what a connection keeps between callbacks. Most never need
// one: it is made the first time a connection leaves an incomplete request
// buffered, or, in blocking mode, hands its last request to the pool. Its
// fields are touched only on the connection's loop.
type connState struct {
	headerTimer *evloop.Timer // nil until the first incomplete request
	waiting     bool          // headerTimer is armed for the request buffered now
	// closing: the connection's last answer is decided (a close request
	// went to the pool, or the header timed out); bytes that arrive
	// before the close takes effect are dropped.
	closing bool
}

// stateOf returns c's state, nil when it has none yet. Loop only.
func stateOf(c evloop.Conn) *connState {
	st, _ := c.Context().(*connState)
	return st
}

// ensureState returns c's state, making it on first use. Loop only.
func ensureState(c evloop.Conn) *connState {
	st := stateOf(c)
	if st == nil {
		st = &connState{}
		c.SetContext(st)
	}
	return st
}

// watchHeader starts, keeps or stops c's header timer once a callback has
// taken the complete requests from the front of the inbound bytes. rest is
// what it leaves buffered (valid only until the Discard that follows);
// fresh says that rest starts a request the previous callback had not seen
// (a request completed in this one). Loop only.
func (h *handler) watchHeader(c evloop.Conn, rest []byte, fresh bool) {
	if h.readHeaderTimeout <= 0 {
		return
	}
	if len(rest) == 0 || bytes.Contains(rest[:min(len(rest), h1.MaxHeaderBytes)], crlfcrlf) {
		if st := stateOf(c); st != nil && st.waiting {
			st.headerTimer.Stop()
			st.waiting = false
		}
		return
	}
	st := ensureState(c)
	switch {
	case st.headerTimer == nil:
		st.headerTimer = c.AfterFunc(h.readHeaderTimeout, h.headerTimedOut)
	case !st.waiting || fresh:
		st.headerTimer.Reset(h.readHeaderTimeout)
	default:
		return // the same request, still incomplete: its time runs on
	}
	st.waiting = true
}

// onHeaderTimeout is the header timer's function: it answers 408 and
// closes the connection. In blocking mode the answer goes through the pool
// behind the replies still being made, so that it comes after them. It
// runs on the connection's loop, never after the connection closed.
func (h *handler) onHeaderTimeout(c evloop.Conn) {
	st := stateOf(c)
	if st == nil || !st.waiting || st.closing {
		return // stopped or re-armed before this run
	}
	st.waiting = false
	st.closing = true
	_, _ = c.Discard(c.InboundBuffered())
	if h.blocking {
		r := &poolRequest{status: 408}
		if err := c.Execute(func() { h.serveFromPool(c, r) }); err != nil {
			_ = c.Close() // the pool is full or the connection is gone
		}
		return
	}
	var buf [256]byte // fits the response; Write copies what it keeps
	_, _ = c.Write(h1.AppendResponse(buf[:0], 408, h.dates.Get(), nil, nil, false))
	_ = c.Close() // after the answer is flushed
}
