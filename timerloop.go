//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows || evloop_portable

package evloop

import (
	"time"

	"github.com/evloop/evloop/poller"
)

// The loop's side of time: its clock, the wait timeout, and running what
// is due. Loop only.

// clock is the engine's monotonic clock: nanoseconds since it started. Any
// goroutine.
func (e *engine) clock() int64 { return int64(time.Since(e.base)) }

// clockOf converts an absolute time to the engine's clock; a time at or
// before the start maps to 1 (due at once), the zero time to 0 (none).
func (e *engine) clockOf(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return max(int64(t.Sub(e.base)), 1)
}

// tock reads the clock into l.now once per iteration, at the first event
// after the wait returned (or after the wait, if none): activity stamped by
// reads and writes then has the time the events arrived, not the time the
// loop last woke. Loop only.
func (l *loop) tock() {
	if l.stale {
		l.now = l.eng.clock()
		l.stale = false
	}
}

// timeout is how long the next wait may block: until the earliest timer,
// or forever.
func (l *loop) timeout() int {
	next := l.timers.peek()
	if next == nil {
		return -1
	}
	d := next.when - l.eng.clock()
	if d <= 0 {
		return 0
	}
	// Rounded up, so a wait never returns just before its deadline.
	return int((d + int64(time.Millisecond) - 1) / int64(time.Millisecond))
}

// runTimers runs every entry that is due, then settles what they failed.
// Entries re-armed while running are due strictly later than now, so the
// loop ends.
func (l *loop) runTimers() {
	if n := l.stoppedTimers.Load(); n > sweepAfter && n > int64(l.timers.len()/2) {
		l.sweepStopped()
	}
	for {
		e := l.timers.peek()
		if e == nil || e.when > l.now {
			break
		}
		l.timers.remove(e)
		switch e.kind {
		case timerUser:
			l.fire(e.t)
		case timerConn:
			l.settleTime(e.c)
		case timerListener:
			l.resumeListener(e.ln)
		case timerDial:
			l.dialTimedOut(e.c)
		case timerTick:
			delay, action := l.tick()
			l.timers.set(e, l.now+max(int64(delay), 1))
			if action == Shutdown {
				l.eng.requestStop(nil, nil)
			}
		}
		// A timer's callback may have written to (and failed) a
		// connection: settle it now, as the loop may wait a long time
		// for its next event.
		l.afterDispatch()
	}
}

// sweepAfter is how many Stops may leave entries in a heap before the loop
// considers sweeping them; it sweeps once they are also half the heap, so
// each O(n) sweep is paid for by n/2 Stops.
const sweepAfter = 1024

// sweepStopped takes the entries of stopped timers out of the heap: Stop
// leaves them there (it may run on any goroutine), and a server that arms a
// long timer per request and stops it on reply would otherwise keep them
// all until they are due.
func (l *loop) sweepStopped() {
	l.stoppedTimers.Store(0)
	l.timers.filter(func(e *timerEntry) bool {
		if e.kind != timerUser {
			return true
		}
		s := e.t.state.Load()
		if s>>2 == e.t.armSeq && s&statusMask == timerArmed {
			return true
		}
		l.unlinkTimer(e.t)
		return false
	})
}

// armTimer is the loop's half of Timer.arm: it puts the arming seq in the
// heap, unless a later arming, a Stop or the connection's close came first.
func (l *loop) armTimer(t *Timer, seq uint64, when int64) {
	s := t.state.Load()
	if s>>2 != seq || s&statusMask != timerArmed {
		return // stopped, or re-armed again: that task comes next
	}
	if c := t.c; c != nil {
		if c.state == connClosed {
			t.kill()
			return
		}
		ct := c.timeState()
		if t.prev == nil && ct.timers != t {
			t.next = ct.timers // link it, to be cancelled with c
			if t.next != nil {
				t.next.prev = t
			}
			ct.timers = t
		}
	}
	t.armSeq = seq
	l.timers.set(&t.entry, when)
}

// fire runs a due timer if its arming is still the latest and nobody
// stopped it. A periodic timer stays armed while it runs, so that Stop
// during the run (from f itself or another goroutine) ends it.
func (l *loop) fire(t *Timer) {
	s := t.state.Load()
	if s>>2 != t.armSeq || s&statusMask != timerArmed {
		l.unlinkTimer(t)
		return
	}
	if c := t.c; c != nil && c.state == connClosed {
		t.kill()
		l.unlinkTimer(t)
		return
	}
	period := t.period.Load()
	if period == 0 {
		if !t.state.CompareAndSwap(s, s&^statusMask|timerIdle) {
			l.unlinkTimer(t) // Stop won the race
			return
		}
		l.unlinkTimer(t)
	}
	l.runTimer(t)
	if period > 0 && t.state.Load() == s {
		// Still the same arming, not stopped: due again one period after
		// this run began.
		l.timers.set(&t.entry, l.now+max(t.period.Load(), 1))
	} else if period > 0 && t.entry.idx < 0 && t.state.Load()&statusMask != timerArmed {
		l.unlinkTimer(t)
	}
}

// runTimer calls the timer's function with the panic policy of callbacks.
func (l *loop) runTimer(t *Timer) {
	if t.c != nil {
		l.timerCallback(t.c, t.cf)
		return
	}
	l.loopCallback("timer", t.f)
}

// unlinkTimer takes a connection's timer off its list. Loop only.
func (l *loop) unlinkTimer(t *Timer) {
	c := t.c
	if c == nil {
		return
	}
	ct := c.tm.Load()
	if ct == nil {
		return
	}
	if t.prev != nil {
		t.prev.next = t.next
	} else if ct.timers == t {
		ct.timers = t.next
	} else {
		return // not linked
	}
	if t.next != nil {
		t.next.prev = t.prev
	}
	t.prev, t.next = nil, nil
}

// cancelTimers cancels every timer of a closing connection and takes its
// deadline entry out of the heap: nothing of it runs later, and nothing
// keeps it reachable.
func (l *loop) cancelTimers(c *conn) {
	ct := c.tm.Load()
	if ct == nil {
		return
	}
	l.timers.remove(&ct.entry)
	ct.armedAt.Store(0)
	for t := ct.timers; t != nil; {
		next := t.next
		t.kill()
		l.timers.remove(&t.entry)
		t.prev, t.next = nil, nil
		t = next
	}
	ct.timers = nil
}

// killTimers cancels the timers still armed when the loop exits: they will
// never run, and Stop must say so.
func (l *loop) killTimers() {
	for _, e := range l.timers.items {
		if e.kind == timerUser {
			e.t.kill()
		}
		e.idx = -1
	}
	clear(l.timers.items)
	l.timers.items = nil
}

// pauseListener arms the back-off of a listener that stopped accepting.
func (l *loop) pauseListener(ln *listener) {
	if ln.retryAt.IsZero() || ln.timer.idx >= 0 {
		return
	}
	ln.timer.kind, ln.timer.ln = timerListener, ln
	l.timers.set(&ln.timer, l.eng.clock()+int64(ln.backoff))
}

// resumeListener watches a paused listener again; the level-triggered
// poller then reports any connection that waited.
func (l *loop) resumeListener(ln *listener) {
	if ln.retryAt.IsZero() || ln.sock == nil {
		return
	}
	ln.retryAt = time.Time{}
	if err := l.poller.Mod(ln.fd, listenerGen, poller.Readable); err != nil {
		// Try again later rather than lose the listener.
		ln.retryAt = time.Now().Add(ln.backoff)
		l.timers.set(&ln.timer, l.now+int64(ln.backoff))
	}
}
