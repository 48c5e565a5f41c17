package main

import (
	"errors"

	"github.com/evloop/evloop"
)

// maxSpare is the largest batch buffer a connection keeps for reuse; a
// bigger one, after a burst, is left to the garbage collector.
const maxSpare = 64 << 10

// relay is one connection's state in blocking mode. Pool goroutines run in
// parallel, so two jobs of one connection could reply out of order; the
// relay therefore keeps at most one job out per connection and batches what
// arrives meanwhile. Its fields are touched only on the connection's loop
// (OnTraffic and the AsyncWrite callback), so it needs no lock; a job sees
// only the batch it was given.
type relay struct {
	pending []byte // received, not yet handed to the pool
	spare   []byte // a written batch, reused as the next pending
	busy    bool   // a job is out and its reply is not written yet
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

// dispatch hands the pending bytes to the pool. Loop only.
func (r *relay) dispatch(c evloop.Conn) error {
	if len(r.pending) == 0 {
		return nil
	}
	batch := r.pending
	r.pending, r.spare = r.spare[:0], nil
	r.busy = true
	err := c.Submit(func() {
		// Blocking work would run here, off the loop. The reply goes back
		// through the loop; if the connection is already gone there is
		// nobody to answer, so the error needs no handling.
		_ = c.AsyncWrite(batch, func(c evloop.Conn, err error) { r.replied(c, batch, err) })
	})
	if err == nil {
		return nil
	}
	r.busy = false
	if !errors.Is(err, evloop.ErrPoolOverload) {
		return err
	}
	// The pool is full: reply synchronously, here on the loop, rather than
	// drop the bytes or block the loop until a worker frees up. No reply is
	// in flight (busy was false), so this one cannot overtake an earlier one.
	_, err = c.Write(batch)
	r.recycle(batch)
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
	if err := r.dispatch(c); err != nil {
		_ = c.Close()
	}
}

func (r *relay) recycle(batch []byte) {
	if cap(batch) <= maxSpare && r.spare == nil {
		r.spare = batch[:0]
	}
}
