package main

import "github.com/evloop/evloop"

// maxSpare is the largest batch buffer a connection keeps for reuse; a
// bigger one, after a burst, is left to the garbage collector.
const maxSpare = 64 << 10

// relay is one connection's state in blocking mode. Pool goroutines run in
// parallel, so two jobs of one connection could reply out of order; the
// relay therefore keeps at most one job out per connection and batches what
// arrives meanwhile. Its fields are touched only on the connection's loop
// (OnTraffic, OnReadClosed and the AsyncWrite callback), so it needs no
// lock; a job sees only the batch it was given.
type relay struct {
	pending []byte // received, not yet handed to the pool
	spare   []byte // a written batch, reused as the next pending
	busy    bool   // a job is out and its reply is not written yet
	eof     bool   // the client shut down its side: close once all is sent
}

// receive takes bytes from OnTraffic. Loop only.
func (r *relay) receive(c evloop.Conn, in []byte) error {
	// The copy: in is a view of the loop's read buffer, dead after OnTraffic.
	r.pending = append(r.pending, in...)
	if r.busy {
		return nil // the running job's reply callback dispatches these
	}
	return r.dispatch(c)
}

// dispatch hands the pending bytes to the pool. With WithExecutePause a
// full pool does not refuse the job: it waits for a free goroutine while
// the connection stops reading. Loop only.
func (r *relay) dispatch(c evloop.Conn) error {
	if len(r.pending) == 0 {
		return nil
	}
	batch := r.pending
	r.pending, r.spare = r.spare[:0], nil
	r.busy = true
	err := c.Execute(func() {
		// Blocking work would run here, off the loop. The reply goes back
		// through the loop; if the connection is already gone there is
		// nobody to answer, so the error needs no handling.
		_ = c.AsyncWrite(batch, func(c evloop.Conn, err error) { r.replied(c, batch, err) })
	})
	if err != nil {
		r.busy = false
	}
	return err
}

// replied runs on the loop once the job's reply was written (or the
// connection closed), and sends what arrived meanwhile.
func (r *relay) replied(c evloop.Conn, batch []byte, err error) {
	r.busy = false
	if err != nil {
		return // closed: nothing more to send
	}
	r.recycle(batch)
	if err := r.dispatch(c); err != nil || r.finish() {
		_ = c.Close() // flushes what is pending first
	}
}

// finish reports whether the client has shut down its side and everything
// it sent has been replied to, so the connection may close. Loop only.
func (r *relay) finish() bool {
	if !r.eof {
		return false
	}
	return !r.busy && len(r.pending) == 0
}

func (r *relay) recycle(batch []byte) {
	if cap(batch) <= maxSpare && r.spare == nil {
		r.spare = batch[:0]
	}
}
