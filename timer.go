//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows || evloop_portable

package evloop

import (
	"sync/atomic"
	"time"
)

// A Timer runs a function on one loop after a delay (AfterFunc) or
// periodically (Every). Its methods are safe from any goroutine; the
// function runs on the loop's goroutine, like a handler callback: it may use
// the loop-only methods of the loop's connections and must not block.
//
// Contract, as for time.Timer: the function runs at most once per arming
// (AfterFunc, Reset), never before its delay. Stop returns true exactly when
// the call prevented a run; false when the function already ran or is
// running, when the timer was already stopped, or when it was cancelled by
// its connection's close (Conn.AfterFunc) or by the engine's stop. A timer
// from Conn.AfterFunc never runs once its connection is closed, and closing
// the connection releases it. Nothing blocks on a Timer: there is no
// channel to drain.
//
// The nil *Timer is valid: Stop and Reset return false.
type Timer struct {
	entry  timerEntry // loop only
	l      *loop
	c      *conn  // Conn.AfterFunc; nil otherwise
	f      func() // Loop.AfterFunc, Engine.AfterFunc, Every
	cf     func(Conn)
	period atomic.Int64 // Every: the period in ns (> 0); 0 for one-shot timers

	// state is the arming's sequence number and status, in one word so
	// that Stop, Reset and the loop's fire decide with one CAS:
	//
	//	bits 63..2  sequence number of the latest arming
	//	bits  1..0  timerIdle, timerArmed or timerDead
	state atomic.Uint64

	armSeq uint64 // loop only: the arming the heap entry is for
	// loop only: the connection's timers, to cancel them at its close.
	prev, next *Timer
}

const (
	timerIdle  = 0 // not armed: ran, stopped, or never armed
	timerArmed = 1 // will run unless stopped
	timerDead  = 2 // cancelled for good (its connection closed, or it could not be armed)
	statusMask = 3
)

func newTimer(l *loop) *Timer {
	t := &Timer{l: l}
	t.entry.idx = -1
	t.entry.kind = timerUser
	t.entry.t = t
	return t
}

// Stop prevents the timer's run if it has not started, and reports whether
// it did; a periodic timer (Every) runs no more after Stop returns, except
// for a run already in progress. Any goroutine.
func (t *Timer) Stop() bool {
	if t == nil {
		return false
	}
	for {
		s := t.state.Load()
		if s&statusMask != timerArmed {
			return false
		}
		if t.state.CompareAndSwap(s, s&^statusMask|timerIdle) {
			// Its heap entry stays until due; the loop sweeps when such
			// entries pile up (a timer per request, stopped on reply).
			t.l.stoppedTimers.Add(1)
			return true
		}
	}
}

// Reset arms the timer to run d from now (a periodic timer: every d from
// now), whether it ran, was stopped or is armed, and reports whether it was
// armed (whether this call prevented the pending run). A timer cancelled
// by its connection's close or the engine's stop stays cancelled: Reset
// returns false and it does not run. Any goroutine.
func (t *Timer) Reset(d time.Duration) bool {
	if t == nil {
		return false
	}
	if t.period.Load() > 0 {
		t.period.Store(int64(max(d, time.Millisecond)))
	}
	wasArmed, ok := t.arm(d)
	return ok && wasArmed
}

// arm starts a new arming d from now and hands it to the loop. ok is false
// when the timer is dead.
func (t *Timer) arm(d time.Duration) (wasArmed, ok bool) {
	if t.c != nil && t.c.closed.Load() {
		// Its connection is closing or closed: the timer can never run.
		t.kill()
		return false, false
	}
	var seq uint64
	for {
		s := t.state.Load()
		if s&statusMask == timerDead {
			return false, false
		}
		seq = s>>2 + 1
		if t.state.CompareAndSwap(s, seq<<2|timerArmed) {
			wasArmed = s&statusMask == timerArmed
			break
		}
	}
	when := t.l.eng.clock() + int64(max(d, 0))
	if err := t.l.q.Push(task{kind: taskTimer, timer: t, seq: seq, when: when}); err != nil {
		// The loop has exited: the engine stopped, nothing will run.
		t.kill()
	}
	return wasArmed, true
}

// kill cancels the timer for good.
func (t *Timer) kill() {
	for {
		s := t.state.Load()
		if s&statusMask == timerDead || t.state.CompareAndSwap(s, s&^statusMask|timerDead) {
			return
		}
	}
}

// deadTimer is what AfterFunc returns when it cannot arm: a closed
// connection, a stopped engine, the zero Loop. It never runs.
func deadTimer() *Timer {
	t := &Timer{}
	t.entry.idx = -1
	t.state.Store(timerDead)
	return t
}

// AfterFunc runs f on the connection's loop after d, with the connection,
// unless the connection closes first: a connection's timers are cancelled
// with it. Any goroutine.
func (c *conn) AfterFunc(d time.Duration, f func(Conn)) *Timer {
	if c.closed.Load() {
		return deadTimer()
	}
	t := newTimer(c.loop)
	t.c, t.cf = c, f
	t.arm(d)
	return t
}

// AfterFunc runs f on this loop after d. On the zero Loop it returns a timer
// that never runs. Any goroutine.
func (lp Loop) AfterFunc(d time.Duration, f func()) *Timer {
	if lp.l == nil {
		return deadTimer()
	}
	t := newTimer(lp.l)
	t.f = f
	t.arm(d)
	return t
}

// Every runs f on this loop every d (at least 1 ms) until the timer is
// stopped; the first run is d from now. Runs do not overlap or catch up: the
// next one is due d after the previous one began. Any goroutine.
func (lp Loop) Every(d time.Duration, f func()) *Timer {
	if lp.l == nil {
		return deadTimer()
	}
	d = max(d, time.Millisecond)
	t := newTimer(lp.l)
	t.f = f
	t.period.Store(int64(d))
	t.arm(d)
	return t
}

// AfterFunc runs f after d on one of the engine's loops, chosen round-robin
// (use Loop.AfterFunc to choose). On the zero Engine, or after the engine
// stopped, it returns a timer that never runs. Any goroutine.
func (eng Engine) AfterFunc(d time.Duration, f func()) *Timer {
	e := eng.e
	if e == nil || e.stopped.Load() {
		return deadTimer()
	}
	l := e.loops[int(e.timerNext.Add(1)-1)%len(e.loops)]
	return Loop{l}.AfterFunc(d, f)
}

// Every runs f on every loop every d, each on its own loop with that loop's
// handle: per-loop housekeeping (a cache sweep, a stats flush) that needs no
// lock because each loop touches only its own state. It returns the
// timers, one per loop in Engine.Loops order; stop each to stop it. Any
// goroutine.
func (eng Engine) Every(d time.Duration, f func(Loop)) []*Timer {
	if eng.e == nil {
		return nil
	}
	ts := make([]*Timer, len(eng.e.loops))
	for i, l := range eng.e.loops {
		lp := Loop{l}
		ts[i] = lp.Every(d, func() { f(lp) })
	}
	return ts
}
