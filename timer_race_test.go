package evloop

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Cancellation races: the loop fires a timer while another goroutine stops
// or resets it. Whatever the interleaving, each arming of a timer ends in
// exactly one of two ways, it ran (once) or it was cancelled, and the
// results of Stop and Reset say which.

// trAction is what the racing goroutine does to one timer.
type trAction uint8

const (
	trStop trAction = iota
	trReset
)

// trTimer is one timer of a race and everything the test learns about it.
type trTimer struct {
	tm     *Timer
	d      time.Duration // the first arming's delay
	armed  time.Time     // just before the timer was armed
	action trAction
	at     time.Time     // when the racing goroutine acts
	d2     time.Duration // trReset: the second arming's delay

	// Set by the racing goroutine.
	called time.Time // just before Stop or Reset
	result bool      // what Stop or Reset returned

	// Set by f on the loop: how many runs, and when the first two began
	// (nanoseconds after the batch's base time).
	runs          atomic.Int32
	first, second atomic.Int64
}

// trWorkers is the number of goroutines racing each batch's timers.
const trWorkers = 4

// TestTimerStopResetRace arms 10,000 timers in batches, spread over the
// loops (by Loop.AfterFunc and Engine.AfterFunc), each due 2-12 ms later,
// and has other goroutines Stop or Reset each one at a random moment
// around its due time, from well before to well after it. Then:
//   - Stop true: the arming never runs; Stop false: it ran, exactly once;
//   - Reset true: the first arming never ran and the second runs once, at
//     least its delay after the Reset; Reset false: the first arming ran
//     once and the second runs once, at least its delay after the Reset;
//   - no run comes before its arming's delay, and nothing runs twice.
//
// Every sleep is bounded, and the wait for the last runs is too.
func TestTimerStopResetRace(t *testing.T) {
	const loops, batches, perBatch = 2, 10, 1000
	s := startEngine(t, &tbHandler{}, "tcp://127.0.0.1:0", WithLoops(loops))
	lps := s.eng.Loops()
	r := rand.New(rand.NewPCG(7, 11))
	var outcomes [2][2]int // [action][result]
	for b := range batches {
		timers, base := trArm(s.eng, lps, r, perBatch)
		trRace(timers)
		trCheck(t, b, timers, base)
		for i := range timers {
			tt := &timers[i]
			outcomes[tt.action][trIndex(tt.result)]++
		}
		if t.Failed() {
			break
		}
	}
	t.Logf("Stop true/false: %d/%d, Reset true/false: %d/%d",
		outcomes[trStop][1], outcomes[trStop][0], outcomes[trReset][1], outcomes[trReset][0])
	for a, name := range []string{"Stop", "Reset"} {
		if outcomes[a][0] == 0 || outcomes[a][1] == 0 {
			t.Errorf("%s returned true %d times and false %d times: the race was not exercised both ways",
				name, outcomes[a][1], outcomes[a][0])
		}
	}
}

func trIndex(b bool) int {
	if b {
		return 1
	}
	return 0
}

// trArm arms n timers and picks, for each, an action and its moment:
// anywhere from half the delay before the due time to half after it. The
// runs' times are recorded relative to the returned base.
func trArm(eng Engine, lps []Loop, r *rand.Rand, n int) ([]trTimer, time.Time) {
	timers := make([]trTimer, n)
	base := time.Now()
	for i := range timers {
		tt := &timers[i]
		tt.d = time.Duration(2+r.IntN(11)) * time.Millisecond
		tt.action = trAction(r.IntN(2))
		tt.d2 = time.Duration(1+r.IntN(10)) * time.Millisecond
		jitter := time.Duration(r.Int64N(int64(tt.d))) - tt.d/2
		f := func() {
			k := tt.runs.Add(1)
			now := int64(time.Since(base))
			switch k {
			case 1:
				tt.first.Store(now)
			case 2:
				tt.second.Store(now)
			}
		}
		tt.armed = time.Now()
		if i%5 == 4 {
			tt.tm = eng.AfterFunc(tt.d, f)
		} else {
			tt.tm = lps[i%len(lps)].AfterFunc(tt.d, f)
		}
		tt.at = tt.armed.Add(tt.d + jitter)
	}
	return timers, base
}

// trRace has trWorkers goroutines act on the timers, each on its share in
// order of their moments, and returns when all have acted.
func trRace(timers []trTimer) {
	var wg sync.WaitGroup
	for w := range trWorkers {
		var mine []*trTimer
		for i := w; i < len(timers); i += trWorkers {
			mine = append(mine, &timers[i])
		}
		slices.SortFunc(mine, func(a, b *trTimer) int { return a.at.Compare(b.at) })
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, tt := range mine {
				if wait := time.Until(tt.at); wait > 0 {
					time.Sleep(wait) // each at most 18 ms ahead: bounded
				}
				tt.called = time.Now()
				if tt.action == trStop {
					tt.result = tt.tm.Stop()
				} else {
					tt.result = tt.tm.Reset(tt.d2)
				}
			}
		}()
	}
	wg.Wait()
}

// trWant is how many runs a timer must end with.
func trWant(tt *trTimer) int32 {
	switch {
	case tt.action == trStop && tt.result:
		return 0 // the only arming was cancelled
	case tt.action == trStop:
		return 1 // it ran
	case tt.result:
		return 1 // the first arming was cancelled, the second ran
	}
	return 2 // both armings ran
}

// trCheck waits, bounded, for every run the results promise, then a little
// longer for runs nobody promised, and checks each timer's story.
func trCheck(t *testing.T, batch int, timers []trTimer, base time.Time) {
	t.Helper()
	var latest time.Time
	for i := range timers {
		tt := &timers[i]
		due := tt.armed.Add(tt.d)
		if tt.action == trReset {
			due = tt.called.Add(tt.d2)
		}
		if due.After(latest) {
			latest = due
		}
	}
	if !itEventually(time.Until(latest)+5*time.Second, func() bool {
		for i := range timers {
			if timers[i].runs.Load() < trWant(&timers[i]) {
				return false
			}
		}
		return true
	}) {
		// Reported per timer below.
		t.Errorf("batch %d: promised runs missing 5s after the last due time", batch)
	}
	time.Sleep(time.Until(latest.Add(50 * time.Millisecond)))

	failures := 0
	report := func(i int, format string, args ...any) {
		if failures++; failures <= 10 {
			tt := &timers[i]
			t.Errorf("batch %d, timer %d (d %v, %s at %+v, d2 %v, result %v, %d runs): %s", batch, i, tt.d,
				[]string{"Stop", "Reset"}[tt.action], tt.called.Sub(tt.armed), tt.d2, tt.result, tt.runs.Load(),
				fmt.Sprintf(format, args...))
		}
	}
	for i := range timers {
		tt := &timers[i]
		want, got := trWant(tt), tt.runs.Load()
		if got != want {
			report(i, "%d runs, want %d", got, want)
			continue
		}
		first := base.Add(time.Duration(tt.first.Load()))
		second := base.Add(time.Duration(tt.second.Load()))
		switch {
		case want == 0:
		case tt.action == trStop || !tt.result:
			// The first arming ran.
			if first.Before(tt.armed.Add(tt.d)) {
				report(i, "ran %v after it was armed for %v", first.Sub(tt.armed), tt.d)
			}
			if want == 2 && second.Before(tt.called.Add(tt.d2)) {
				report(i, "the second arming ran %v after the Reset to %v", second.Sub(tt.called), tt.d2)
			}
		default:
			// Reset true: the one run is the second arming's.
			if first.Before(tt.called.Add(tt.d2)) {
				report(i, "the Reset returned true, but the run came %v after it (reset to %v): the cancelled arming ran",
					first.Sub(tt.called), tt.d2)
			}
		}
	}
	if failures > 10 {
		t.Errorf("batch %d: %d timers failed in all", batch, failures)
	}
}

// TestTimerStopStopRace has two goroutines Stop the same timer around its
// due time: at most one Stop returns true, and a timer ends either run
// once with both Stops false, or never run with exactly one Stop true.
func TestTimerStopStopRace(t *testing.T) {
	const loops, n = 2, 2000
	s := startEngine(t, &tbHandler{}, "tcp://127.0.0.1:0", WithLoops(loops))
	lps := s.eng.Loops()
	type pair struct {
		tm   *Timer
		at   time.Time
		runs atomic.Int32
		a, b atomic.Bool
	}
	r := rand.New(rand.NewPCG(3, 5))
	timers := make([]pair, n)
	start := time.Now()
	for i := range timers {
		p := &timers[i]
		d := time.Duration(2+r.IntN(9)) * time.Millisecond
		p.at = time.Now().Add(d + time.Duration(r.Int64N(int64(d))) - d/2)
		p.tm = lps[i%loops].AfterFunc(d, func() { p.runs.Add(1) })
	}
	order := make([]*pair, n)
	for i := range timers {
		order[i] = &timers[i]
	}
	slices.SortFunc(order, func(a, b *pair) int { return a.at.Compare(b.at) })
	var wg sync.WaitGroup
	for _, side := range []int{0, 1} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, p := range order {
				if wait := time.Until(p.at); wait > 0 {
					time.Sleep(wait)
				}
				if side == 0 {
					p.a.Store(p.tm.Stop())
				} else {
					p.b.Store(p.tm.Stop())
				}
			}
		}()
	}
	wg.Wait()
	// A Stop that returned false found the run under way or done: wait,
	// bounded, for the runs so promised, then a little longer for any
	// run nobody promised (every due time is at most 15 ms after arming).
	itEventually(5*time.Second, func() bool {
		for i := range timers {
			p := &timers[i]
			if !p.a.Load() && !p.b.Load() && p.runs.Load() == 0 {
				return false
			}
		}
		return true
	})
	time.Sleep(50 * time.Millisecond)
	bad, ran := 0, 0
	for i := range timers {
		p := &timers[i]
		trues := trIndex(p.a.Load()) + trIndex(p.b.Load())
		runs := int(p.runs.Load())
		ran += runs
		if trues+runs != 1 {
			if bad++; bad <= 10 {
				t.Errorf("timer %d: %d Stops returned true and it ran %d times; want exactly one of the two", i, trues, runs)
			}
		}
	}
	t.Logf("%d of %d timers ran, %d were stopped, in %v", ran, n, n-ran, time.Since(start).Round(time.Millisecond))
}

// TestDeadlineMovedConcurrently moves the read deadlines of 8 connections
// from two goroutines each, hundreds of times, alternating between 2 s and
// an hour ahead (the earlier moves go through the loop, the later ones are
// plain stores), then sets each to 300 ms ahead from the test goroutine:
// every connection closes with ErrReadTimeout at least 300 ms after that
// last move and within 1.3 s. An earlier move lost among the concurrent
// ones shows as a connection that closes at 2 s, or never.
func TestDeadlineMovedConcurrently(t *testing.T) {
	const conns, movers, moves = 8, 2, 300
	const final = 300 * time.Millisecond
	opened := make(chan Conn, conns)
	closed := make(chan dlClosed, conns)
	h := &tbHandler{
		open:  func(c Conn) ([]byte, Action) { opened <- c; return nil, None },
		close: func(_ Conn, err error) Action { closed <- dlClosed{err: err, at: time.Now()}; return None },
	}
	s := startEngine(t, h, "tcp://127.0.0.1:0", WithLoops(2))
	cs := make([]Conn, conns)
	for i := range cs {
		tbDial(t, s.addr)
		cs[i] = tbRecv(t, opened, 5*time.Second, "OnOpen")
	}
	errs := make(chan error, conns*movers)
	var wg sync.WaitGroup
	for _, c := range cs {
		for m := range movers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range moves {
					ahead := time.Hour
					if (i+m)%2 == 0 {
						ahead = 2 * time.Second
					}
					if err := c.SetReadDeadline(time.Now().Add(ahead)); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("SetReadDeadline while moving: %v", err)
	}
	set := time.Now()
	for _, c := range cs {
		if err := c.SetReadDeadline(time.Now().Add(final)); err != nil {
			t.Fatalf("the last SetReadDeadline: %v", err)
		}
	}
	if time.Since(set) > final/2 {
		t.Skipf("setting the last deadlines took %v: too late to tell", time.Since(set))
	}
	for i := range conns {
		cl := tbRecv(t, closed, final+5*time.Second, fmt.Sprintf("OnClose %d", i))
		if !errors.Is(cl.err, ErrReadTimeout) {
			t.Errorf("OnClose(%v), want ErrReadTimeout", cl.err)
		}
		if took := cl.at.Sub(set); took < final || took > final+tmSlack {
			t.Errorf("a connection closed %v after its last deadline was set %v ahead, want within [%v, %v]", took, final, final, final+tmSlack)
		}
	}
}
