package main

import (
	"bytes"
	"time"

	"github.com/evloop/evloop"
)

// Blocking mode (-blocking) runs commands on the engine's goroutine pool,
// the way a server whose commands block (a disk, another service) must:
// the loop finds the complete commands buffered, copies their bytes and
// hands them to c.Execute as one job; the job runs them and sends their
// replies with c.AsyncWrite. Execute runs one connection's jobs one at a
// time, in the order they were given, so pipelined commands are answered
// in order even though their jobs run on different goroutines.
//
// A batch that ends the connection (QUIT, or bytes that are not a command)
// is the last one handed to the pool: its job closes the connection after
// its replies, and whatever arrives meanwhile is dropped. Jobs of one
// connection queue behind each other, so that close comes after every
// earlier reply.

// onTrafficBlocking hands the complete commands buffered on c to the pool.
func (h *handler) onTrafficBlocking(c evloop.Conn, cl *client) evloop.Action {
	in, _ := c.Peek(-1)
	b := h.getBatch(cl, 0)
	used := 0
	var fatal error
	cl.need = 0
	// Bounded: every pass consumes n > 0 bytes of in, or ends the loop.
	for used < len(in) {
		n, err := h.parser.Parse(in[used:], &b.cmd)
		if err != nil {
			fatal, cl.closing = err, true
			break
		}
		if n == 0 {
			cl.need = b.cmd.Need
			break
		}
		used += n
		if len(b.cmd.Args) > 0 && equalFold(b.cmd.Args[0], "quit") {
			cl.closing = true
			break
		}
	}
	h.putBatch(b)
	if used > 0 || fatal != nil {
		// The copy: in is the connection's buffer, reused once this
		// callback returns.
		cmds := bytes.Clone(in[:used])
		if err := c.Execute(func() { h.runOnPool(c, cl, cmds, fatal) }); err != nil {
			// The pool cannot take it, or the connection is gone: no reply
			// can go out of turn, so give up on the connection.
			return evloop.Close
		}
	}
	if cl.closing {
		used = len(in)
	}
	_, _ = c.Discard(used)
	return evloop.None
}

// runOnPool runs the commands in cmds, all complete, and sends their
// replies, then fatal's when the bytes after them were not a command. It
// runs on a pool goroutine.
func (h *handler) runOnPool(c evloop.Conn, cl *client, cmds []byte, fatal error) {
	b := h.getBatch(cl, time.Now().UnixMilli())
	r := &b.req
	for used := 0; used < len(cmds) && !r.quit; {
		n, err := h.parser.Parse(cmds[used:], &b.cmd)
		if n == 0 || err != nil {
			break // cannot happen: the loop parsed these bytes whole
		}
		used += n
		if len(b.cmd.Args) > 0 {
			r.args = b.cmd.Args
			h.commands.dispatch(r)
		}
	}
	if fatal != nil {
		r.fail("ERR " + fatal.Error())
	}
	err := c.AsyncWrite(r.out, nil) // copies r.out
	last := r.quit || fatal != nil
	h.putBatch(b)
	if err != nil || last {
		// A reply that cannot be queued would leave the client waiting
		// for it forever: close instead. Close is queued behind the
		// replies and flushes them first.
		_ = c.Close()
	}
}

// OnReadClosed runs in blocking mode (WithHalfClose) once the client has
// shut down its side: the connection closes once the jobs already handed
// to the pool have sent their replies.
func (h *handler) OnReadClosed(c evloop.Conn) evloop.Action {
	if err := c.Execute(func() { _ = c.Close() }); err != nil {
		return evloop.Close
	}
	return evloop.None
}
