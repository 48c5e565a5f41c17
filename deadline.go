//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows || evloop_portable

package evloop

import (
	"sync/atomic"
	"time"
)

// Connection deadlines, the idle timeout and the linger deadline share one
// heap entry per connection, in a connTime allocated the first time the
// connection needs one (an engine with WithIdleTimeout: at accept). The
// entry is armed at the earliest of them.
//
// Moving a deadline later, what a handler does on every message, touches
// no heap: it stores the new value, and when the entry fires at the old
// time the loop finds it moved and re-arms there (the lazy re-arm of
// nginx's and Netty's idle handlers). Activity for the idle timeout is one
// store of the loop's clock per read or write. Only a deadline set earlier
// than the armed one needs the loop, through a task.
type connTime struct {
	entry timerEntry

	// Set from any goroutine; on the engine's clock, 0: none.
	readDL  atomic.Int64
	writeDL atomic.Int64
	idle    atomic.Int64 // the idle timeout in ns; 0: off
	// armedAt mirrors entry.when for other goroutines (0: not armed), so a
	// setter can tell whether the loop must re-arm earlier.
	armedAt atomic.Int64

	lastActive int64  // loop only: the clock at the last byte in or out
	linger     int64  // loop only: when a closing connection gives up
	timers     *Timer // loop only: the connection's armed timers
}

// timeState returns c's connTime, allocating it on first use. Any
// goroutine.
func (c *conn) timeState() *connTime {
	if ct := c.tm.Load(); ct != nil {
		return ct
	}
	ct := &connTime{}
	ct.entry.idx = -1
	ct.entry.kind = timerConn
	ct.entry.c = c
	ct.lastActive = c.loop.eng.clock()
	if c.tm.CompareAndSwap(nil, ct) {
		return ct
	}
	return c.tm.Load()
}

// active records traffic for the idle timeout. Loop only.
func (c *conn) active() {
	if ct := c.tm.Load(); ct != nil {
		ct.lastActive = c.loop.now
	}
}

func (c *conn) SetDeadline(t time.Time) error      { return c.setDeadline(t, true, true) }
func (c *conn) SetReadDeadline(t time.Time) error  { return c.setDeadline(t, true, false) }
func (c *conn) SetWriteDeadline(t time.Time) error { return c.setDeadline(t, false, true) }

func (c *conn) setDeadline(t time.Time, read, write bool) error {
	if c.closed.Load() {
		return ErrClosed
	}
	ct := c.timeState()
	v := c.loop.eng.clockOf(t)
	if read {
		ct.readDL.Store(v)
	}
	if write {
		ct.writeDL.Store(v)
	}
	// The store above and this load pair with the loop's store of armedAt
	// and its reload of the deadlines in settleTime: one of the two sides
	// sees the other, so an earlier deadline is never missed.
	if a := ct.armedAt.Load(); v != 0 && (a == 0 || v < a) {
		return c.push(task{kind: taskDeadline})
	}
	return nil
}

func (c *conn) SetIdleTimeout(d time.Duration) error {
	if c.closed.Load() {
		return ErrClosed
	}
	if d < 0 {
		return ErrNegativeSize
	}
	c.timeState().idle.Store(int64(d))
	return c.push(task{kind: taskDeadline})
}

// due returns the earliest deadline that applies to c now, and the error it
// closes c with; 0 when none applies. Loop only.
func (ct *connTime) due(c *conn) (int64, error) {
	var when int64
	var why error
	consider := func(t int64, err error) {
		if t != 0 && (when == 0 || t < when) {
			when, why = t, err
		}
	}
	switch c.state {
	case connOpen:
		consider(ct.readDL.Load(), ErrReadTimeout)
		if idle := ct.idle.Load(); idle > 0 {
			consider(ct.lastActive+idle, ErrIdleTimeout)
		}
	case connClosing:
		consider(ct.linger, ErrLingerTimeout)
	}
	if !c.outbound.IsEmpty() {
		consider(ct.writeDL.Load(), ErrWriteTimeout)
	}
	return when, why
}

// settleTime closes c if one of its deadlines has passed, or arms its entry
// at the earliest one. Loop only.
func (l *loop) settleTime(c *conn) {
	ct := c.tm.Load()
	if ct == nil || c.state == connClosed {
		return
	}
	for {
		when, why := ct.due(c)
		if when == 0 {
			l.timers.remove(&ct.entry)
			ct.armedAt.Store(0)
			return
		}
		if when <= l.now {
			l.timers.remove(&ct.entry)
			ct.armedAt.Store(0)
			c.fail(why) // closed once the running callback or timer returns
			return
		}
		ct.armedAt.Store(when)
		l.timers.set(&ct.entry, when)
		// A setter that read the old armedAt may have stored an earlier
		// deadline meanwhile: look once more after publishing.
		if again, _ := ct.due(c); again == 0 || again >= when {
			return
		}
	}
}

// outputPending is called when c's output becomes pending: a write
// deadline now applies to it. Loop only.
func (c *conn) outputPending() {
	if ct := c.tm.Load(); ct != nil && ct.writeDL.Load() != 0 {
		c.loop.settleTime(c)
	}
}
