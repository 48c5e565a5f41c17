//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows || evloop_portable

package evloop

import (
	"bytes"
	"fmt"
	"runtime"
	"strconv"
	"time"
)

// The watchdog finds loops stuck inside one callback or task, as Envoy's
// guard dog does for its workers. A loop with WithWatchdog records what it
// starts running, one store per callback or task plus one before each wait
// (an activity word: a sequence number and what runs); the watchdog
// goroutine looks at every loop's word a few times per threshold, and a
// word that has not changed for longer than the threshold, and is not the
// loop's "waiting", is a stall. It is reported once (logger Warn: the loop,
// what it runs, the connection, for how long, the loop goroutine's stack)
// and counted; with WithWatchdogKill, a stall that reaches the kill time
// panics the process with that stack, for deployments that prefer a
// restart to a stuck worker.

// activity says what a loop runs, in the low byte of its activity word.
type activity uint8

const (
	actWaiting activity = iota // in epoll_wait, or between callbacks
	actOnOpen
	actOnTraffic
	actOnClose
	actOnWritable
	actOnReadClosed
	actOnTick
	actAsyncCallback
	actTimer
	actTask
	actDatagram
	actDialCallback
)

var activityNames = [...]string{
	actWaiting:       "waiting",
	actOnOpen:        "OnOpen",
	actOnTraffic:     "OnTraffic",
	actOnClose:       "OnClose",
	actOnWritable:    "OnWritable",
	actOnReadClosed:  "OnReadClosed",
	actOnTick:        "OnTick",
	actAsyncCallback: "AsyncCallback",
	actTimer:         "timer",
	actTask:          "task",
	actDatagram:      "OnTraffic (datagram)",
	actDialCallback:  "DialCallback",
}

func (a activity) String() string {
	if int(a) < len(activityNames) {
		return activityNames[a]
	}
	return "activity " + strconv.Itoa(int(a))
}

// enter records that the loop starts running a of c (nil when no
// connection is concerned). Loop only; called only WithWatchdog.
func (l *loop) enter(a activity, c *conn) {
	l.actSeq++
	l.actConn.Store(c)
	l.act.Store(l.actSeq<<8 | uint64(a))
}

// watchdog is the goroutine that watches the loops.
type watchdog struct {
	e         *engine
	threshold time.Duration
	kill      time.Duration // 0: never
	stop      chan struct{}
	done      chan struct{}
}

// watchState is what the watchdog knows of one loop.
type watchState struct {
	word     uint64    // the activity word last seen
	since    time.Time // when it was first seen
	reported bool      // this stall was reported
}

func newWatchdog(e *engine) *watchdog {
	return &watchdog{e: e, threshold: e.opts.watchdog, kill: e.opts.watchdogKill,
		stop: make(chan struct{}), done: make(chan struct{})}
}

// run looks at the loops every quarter threshold until stopped.
func (w *watchdog) run() {
	defer close(w.done)
	states := make([]watchState, len(w.e.loops))
	tick := time.NewTicker(w.threshold / 4)
	defer tick.Stop()
	for {
		select {
		case <-w.stop:
			return
		case now := <-tick.C:
			for i, l := range w.e.loops {
				w.check(l, &states[i], now)
			}
		}
	}
}

func (w *watchdog) check(l *loop, st *watchState, now time.Time) {
	word := l.act.Load()
	if word != st.word {
		*st = watchState{word: word, since: now}
		return
	}
	a := activity(word & 0xff)
	if a == actWaiting {
		return
	}
	stuck := now.Sub(st.since)
	if !st.reported && stuck >= w.threshold {
		st.reported = true
		l.stalls.Add(1)
		w.e.log.Warn("evloop: loop stalled", "loop", l.idx, "in", a.String(), "conn", describe(l.actConn.Load()),
			"for", stuck, "threshold", w.threshold, "stack", string(goroutineStack(l.goid.Load())))
	}
	if w.kill > 0 && stuck >= w.kill {
		panic(fmt.Sprintf("evloop: loop %d stuck in %s for %v (kill time %v); its stack:\n%s",
			l.idx, a, stuck, w.kill, goroutineStack(l.goid.Load())))
	}
}

// describe names a connection for the watchdog's report: its remote
// address, fixed once the connection is published.
func describe(c *conn) string {
	if c == nil {
		return "none"
	}
	if a := c.RemoteAddr(); a != nil {
		return a.String()
	}
	return "unknown"
}

// goroutineStack returns the stack of goroutine id, from a dump of all of
// them (the runtime offers no other way); empty when it is gone.
func goroutineStack(id uint64) []byte {
	buf := make([]byte, 1<<16)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	head := []byte("goroutine " + strconv.FormatUint(id, 10) + " [")
	for len(buf) > 0 {
		block := buf
		if i := bytes.Index(buf, []byte("\n\n")); i >= 0 {
			block, buf = buf[:i], buf[i+2:]
		} else {
			buf = nil
		}
		if bytes.HasPrefix(block, head) {
			return block
		}
	}
	return nil
}
