package main

import (
	"bytes"

	"github.com/evloop/evloop"
	"github.com/evloop/evloop/examples/http/h1"
)

// Blocking mode (-blocking) serves each request from the engine's goroutine
// pool, the way a server whose handlers block (a database query, a call to
// another service) must: the loop parses, copies what the job needs and
// hands it to c.Execute; the job builds the response and sends it with
// c.AsyncWrite. Execute runs one connection's jobs one at a time, in the
// order they were given, so pipelined requests are answered in order even
// though the jobs run on different goroutines. Each response carries the
// request's target in an X-Path field, which lets a client check that
// order.
//
// A request that ends the connection (Connection: close, or bytes that are
// not a request) is the last one handed to the pool: its job closes the
// connection after its reply, and until then whatever else arrives is
// dropped. Jobs of one connection queue behind each other, so that close
// comes after every earlier reply.

var (
	xPathName  = []byte("X-Path: ")
	crlf       = []byte("\r\n")
	headMethod = []byte("HEAD")
)

// poolRequest is what a job needs of a request: copies, because the
// request's bytes are discarded when OnTraffic returns.
type poolRequest struct {
	status    int    // 0: answer with hello; otherwise send this error status and close
	pathField []byte // "X-Path: <target>\r\n"
	head      bool
	minor     int
	keepAlive bool
}

// onTrafficBlocking hands every complete request buffered on c to the
// pool, in order.
func (h *handler) onTrafficBlocking(c evloop.Conn) evloop.Action {
	if st := stateOf(c); st != nil && st.closing {
		_, _ = c.Discard(c.InboundBuffered())
		return evloop.None
	}
	in, _ := c.Peek(-1)
	used := 0
	// Bounded: every pass consumes n > 0 bytes of in, or ends the loop.
	for used < len(in) {
		var req h1.Request
		n, err := h1.Parse(in[used:], &req)
		if n == 0 && err == nil {
			break // the rest of a request is still to come
		}
		r := &poolRequest{status: h1.StatusFor(err)}
		if err == nil {
			used += n
			r.status = 0
			r.head = bytes.Equal(req.Method, headMethod)
			r.minor, r.keepAlive = req.Minor, req.KeepAlive
			// Parse admits only visible ASCII in a target: safe in a field.
			r.pathField = append(append(append(make([]byte, 0, len(xPathName)+len(req.Path)+len(crlf)),
				xPathName...), req.Path...), crlf...)
		}
		if err := c.Execute(func() { h.serveFromPool(c, r) }); err != nil {
			// No reply can go out of turn, and this one cannot be queued
			// (the pool is full, or the connection is gone): give up on
			// the connection.
			return evloop.Close
		}
		if r.status != 0 || !r.keepAlive {
			ensureState(c).closing = true
			used = len(in)
			break
		}
	}
	h.watchHeader(c, in[used:], used > 0)
	_, _ = c.Discard(used)
	return evloop.None
}

// serveFromPool answers one request; it runs on a pool goroutine.
func (h *handler) serveFromPool(c evloop.Conn, r *poolRequest) {
	// A handler that blocks would do its work here, off the loop.
	bp := h.batches.Get().(*[]byte)
	out := r.appendResponse((*bp)[:0], h.dates.Get())
	err := c.AsyncWrite(out, nil) // copies out
	if cap(out) <= maxBatch {
		*bp = out[:0]
		h.batches.Put(bp)
	}
	if err != nil {
		return // the connection is gone: nobody is waiting for the answer
	}
	if r.status != 0 || !r.keepAlive {
		_ = c.Close() // queued behind the reply, which is flushed first
	}
}

// appendResponse appends the response to r.
func (r *poolRequest) appendResponse(out, date []byte) []byte {
	if r.status != 0 {
		return h1.AppendResponse(out, r.status, date, nil, nil, false)
	}
	req := h1.Request{Minor: r.minor, KeepAlive: r.keepAlive}
	if r.head {
		req.Method = headMethod
	}
	start := len(out)
	out = appendHello(out, &req, date)
	// The field goes right after the status line.
	at := start + bytes.Index(out[start:], crlf) + len(crlf)
	return insert(out, at, r.pathField)
}
