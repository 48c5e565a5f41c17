//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows || evloop_portable

package evloop

import (
	"sync/atomic"
	"time"
)

// LoopStats are one event loop's counters since the engine started, and a
// few gauges of now. The loop counts in plain fields of its own (no atomic
// operation per message) and publishes them at most once a millisecond
// while busy and before every wait that may block, so a reader sees figures
// at most about a millisecond old; Engine.Stats reads the published copy
// from any goroutine. A loop stuck in a callback stops publishing: its
// Stalls (counted by the watchdog) still move.
type LoopStats struct {
	// Index is the loop's position in Engine.Loops.
	Index int `json:"index"`
	// Connections is the number of open connections now.
	Connections int64 `json:"connections"`
	// Opened counts connections the loop started serving.
	Opened uint64 `json:"opened"`
	// BytesIn and BytesOut count the bytes read from and written to its
	// connections' sockets; Reads and Writes count the read(2) and
	// write(2)/writev(2) calls that did it, including those that returned
	// EAGAIN.
	BytesIn  uint64 `json:"bytes_in"`
	BytesOut uint64 `json:"bytes_out"`
	Reads    uint64 `json:"reads"`
	Writes   uint64 `json:"writes"`
	// WritesBlocked counts writes the kernel took only in part or not at
	// all (EAGAIN): the rest waited in the outbound buffer for EPOLLOUT.
	WritesBlocked uint64 `json:"writes_blocked"`
	// PendingOut is the bytes waiting in the connections' outbound buffers
	// now.
	PendingOut int64 `json:"pending_out"`
	// NotReading is the number of open connections not reading now:
	// paused by flow control, PauseReading, half-close, a pool wait, or
	// closing while they flush.
	NotReading int64 `json:"not_reading"`
	// Queued is the number of tasks waiting in the loop's queue now;
	// TasksRun counts the tasks it ran.
	Queued   int    `json:"queued"`
	TasksRun uint64 `json:"tasks_run"`
	// Iterations counts waits for readiness; Wakes those that a task
	// queued from another goroutine ended.
	Iterations uint64 `json:"iterations"`
	Wakes      uint64 `json:"wakes"`
	// Timers is the number of timers armed now (deadlines, AfterFunc,
	// the tick, listener back-offs).
	Timers int `json:"timers"`
	// Busy is how long the loop worked between waits, as a histogram:
	// Busy[i] counts iterations that took less than BusyBounds[i] (the
	// last, longer than every bound); MaxBusy is the longest. A long busy
	// iteration is latency for every connection of the loop.
	Busy    [len(BusyBounds) + 1]uint64 `json:"busy"`
	MaxBusy time.Duration               `json:"max_busy"`
	// Callbacks and MaxCallback are the same for single callbacks (event
	// handler methods, AsyncCallbacks, timer functions), measured only
	// WithCallbackTiming(true): that costs two clock reads per callback.
	Callbacks   [len(BusyBounds) + 1]uint64 `json:"callbacks,omitempty"`
	MaxCallback time.Duration               `json:"max_callback,omitempty"`
	// Stalls counts the times the watchdog (WithWatchdog) found the loop
	// inside one callback or task for longer than its threshold.
	Stalls uint64 `json:"stalls"`
	// Panics counts panics recovered in the loop's callbacks.
	Panics uint64 `json:"panics"`
}

// BusyBounds are the upper bounds of LoopStats.Busy's and
// LoopStats.Callbacks' buckets.
var BusyBounds = [...]time.Duration{
	10 * time.Microsecond, 100 * time.Microsecond, time.Millisecond,
	10 * time.Millisecond, 100 * time.Millisecond,
}

// loopCounters are a loop's own counters: plain fields, touched only by
// the loop.
type loopCounters struct {
	opened, bytesIn, bytesOut, reads, writes, blocked uint64
	pendingOut, notReading                            int64
	tasks, iterations, wakes                          uint64
	busy, callbacks                                   [len(BusyBounds) + 1]uint64
	maxBusy, maxCallback                              int64
	panics                                            uint64
}

// loopPublished is the copy of loopCounters other goroutines read.
type loopPublished struct {
	opened, bytesIn, bytesOut, reads, writes, blocked atomic.Uint64
	pendingOut, notReading                            atomic.Int64
	tasks, iterations, wakes                          atomic.Uint64
	busy, callbacks                                   [len(BusyBounds) + 1]atomic.Uint64
	maxBusy, maxCallback                              atomic.Int64
	panics                                            atomic.Uint64
	timers                                            atomic.Int64
	at                                                int64 // loop only: when it last published
}

// publishEvery is how often a busy loop publishes its counters.
const publishEvery = int64(time.Millisecond)

// publish copies the counters for Engine.Stats. Loop only.
func (l *loop) publish(now int64) {
	s, p := &l.st, &l.pub
	p.at = now
	p.opened.Store(s.opened)
	p.bytesIn.Store(s.bytesIn)
	p.bytesOut.Store(s.bytesOut)
	p.reads.Store(s.reads)
	p.writes.Store(s.writes)
	p.blocked.Store(s.blocked)
	p.pendingOut.Store(s.pendingOut)
	p.notReading.Store(s.notReading)
	p.tasks.Store(s.tasks)
	p.iterations.Store(s.iterations)
	p.wakes.Store(s.wakes)
	for i := range s.busy {
		p.busy[i].Store(s.busy[i])
		p.callbacks[i].Store(s.callbacks[i])
	}
	p.maxBusy.Store(s.maxBusy)
	p.maxCallback.Store(s.maxCallback)
	p.panics.Store(s.panics)
	p.timers.Store(int64(l.timers.len()))
}

// stats reads the published counters. Any goroutine.
func (l *loop) stats() LoopStats {
	p := &l.pub
	st := LoopStats{
		Index:         l.idx,
		Connections:   int64(l.count.Load()),
		Opened:        p.opened.Load(),
		BytesIn:       p.bytesIn.Load(),
		BytesOut:      p.bytesOut.Load(),
		Reads:         p.reads.Load(),
		Writes:        p.writes.Load(),
		WritesBlocked: p.blocked.Load(),
		PendingOut:    p.pendingOut.Load(),
		NotReading:    p.notReading.Load(),
		Queued:        l.q.Waiting(),
		TasksRun:      p.tasks.Load(),
		Iterations:    p.iterations.Load(),
		Wakes:         p.wakes.Load(),
		Timers:        int(p.timers.Load()),
		MaxBusy:       time.Duration(p.maxBusy.Load()),
		MaxCallback:   time.Duration(p.maxCallback.Load()),
		Stalls:        l.stalls.Load(),
		Panics:        p.panics.Load(),
	}
	for i := range st.Busy {
		st.Busy[i] = p.busy[i].Load()
		st.Callbacks[i] = p.callbacks[i].Load()
	}
	return st
}

// bucket returns the histogram bucket of d nanoseconds.
func bucket(d int64) int {
	for i, b := range BusyBounds {
		if d < int64(b) {
			return i
		}
	}
	return len(BusyBounds)
}

// endIteration counts an iteration that worked from l.now (the wait's
// return) to now, and publishes the counters when they are a millisecond
// old or the next wait may block. Loop only.
func (l *loop) endIteration(blocking bool) {
	s := &l.st
	s.iterations++
	now := l.eng.clock()
	d := now - l.now
	s.busy[bucket(d)]++
	if d > s.maxBusy {
		s.maxBusy = d
	}
	if blocking || now-l.pub.at >= publishEvery {
		l.publish(now)
	}
}

// timed records one callback that began at start (WithCallbackTiming).
func (l *loop) timed(start int64) {
	d := l.eng.clock() - start
	l.st.callbacks[bucket(d)]++
	if d > l.st.maxCallback {
		l.st.maxCallback = d
	}
}
