package evloop

import (
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Timer contract tests: when a timer's function runs, on which goroutine,
// how often, and what Stop and Reset return around the run. Windows are
// generous: a run must come at least d after the arming and within d + 1s.

// tmSlack is how late a run may come after its due time.
const tmSlack = time.Second

// tmRun is one run of a timer's function: when, and on which goroutine.
type tmRun struct {
	at   time.Time
	goid uint64
}

// tmProbe counts the runs of a timer's function and reports each on a
// buffered channel, without ever blocking the loop that runs it.
type tmProbe struct {
	n    atomic.Int32
	runs chan tmRun
}

func newTMProbe() *tmProbe { return &tmProbe{runs: make(chan tmRun, 64)} }

func (p *tmProbe) fire() {
	p.n.Add(1)
	select {
	case p.runs <- tmRun{at: time.Now(), goid: tbGoroutineID()}:
	default:
	}
}

// tmOpened is one OnOpen: the connection's loop and the goroutine it ran on.
type tmOpened struct {
	loop Loop
	goid uint64
}

// tmServe starts an engine with n loops and learns the goroutine of each
// loop from the OnOpen of one connection per loop: the default round-robin
// balancer hands the first n connections to n different loops.
func tmServe(tb testing.TB, n int, opts ...Option) (*testServer, map[Loop]uint64) {
	tb.Helper()
	opened := make(chan tmOpened, n)
	h := &tbHandler{open: func(c Conn) ([]byte, Action) {
		select {
		case opened <- tmOpened{loop: c.Loop(), goid: tbGoroutineID()}:
		default:
		}
		return nil, None
	}}
	s := startEngine(tb, h, "tcp://127.0.0.1:0", append([]Option{WithLoops(n)}, opts...)...)
	goids := make(map[Loop]uint64, n)
	for range n {
		tbDial(tb, s.addr)
		o := tbRecv(tb, opened, 5*time.Second, "OnOpen")
		goids[o.loop] = o.goid
	}
	if len(goids) != n {
		tb.Fatalf("%d connections opened on %d loops, want one per loop", n, len(goids))
	}
	return s, goids
}

// tmCheckWindow fails unless at is at least d after from and at most d +
// tmSlack after it.
func tmCheckWindow(tb testing.TB, what string, from, at time.Time, d time.Duration) {
	tb.Helper()
	if took := at.Sub(from); took < d || took > d+tmSlack {
		tb.Errorf("%s came %v after it was armed for %v, want within [%v, %v]", what, took, d, d, d+tmSlack)
	}
}

// tmNoRun fails if p runs (again) within wait.
func tmNoRun(tb testing.TB, p *tmProbe, wait time.Duration, what string) {
	tb.Helper()
	select {
	case r := <-p.runs:
		tb.Errorf("%s: the function ran at %v", what, r.at.Format("15:04:05.000"))
	case <-time.After(wait):
	}
}

// TestTimerLoopAfterFunc: Loop.AfterFunc runs f once, at least d after the
// call, on that loop's goroutine (the one its connections' callbacks run
// on); Stop after the run returns false, every time.
func TestTimerLoopAfterFunc(t *testing.T) {
	s, goids := tmServe(t, 2)
	const d = 200 * time.Millisecond
	for _, lp := range s.eng.Loops() {
		p := newTMProbe()
		start := time.Now()
		tm := lp.AfterFunc(d, p.fire)
		r := tbRecv(t, p.runs, d+5*time.Second, "the run of "+lp.String()+"'s timer")
		tmCheckWindow(t, lp.String()+"'s timer", start, r.at, d)
		if r.goid != goids[lp] {
			t.Errorf("%v's timer ran on goroutine %d, its callbacks run on %d", lp, r.goid, goids[lp])
		}
		tmNoRun(t, p, 3*d, "after the only run")
		if n := p.n.Load(); n != 1 {
			t.Errorf("%v's timer ran %d times, want once", lp, n)
		}
		if tm.Stop() {
			t.Error("Stop after the run returned true")
		}
		if tm.Stop() {
			t.Error("a second Stop after the run returned true")
		}
	}
}

// TestTimerStopBeforeRun: Stop before the due time returns true and f
// never runs; a second Stop returns false. Reset then re-arms the stopped
// timer, returns false (it was not armed) and runs f once.
func TestTimerStopBeforeRun(t *testing.T) {
	s, _ := tmServe(t, 1)
	const d = 300 * time.Millisecond
	p := newTMProbe()
	tm := s.eng.Loops()[0].AfterFunc(d, p.fire)
	if !tm.Stop() {
		t.Fatal("Stop before the due time returned false")
	}
	if tm.Stop() {
		t.Error("a second Stop returned true")
	}
	tmNoRun(t, p, d+500*time.Millisecond, "after Stop")

	const d2 = 100 * time.Millisecond
	start := time.Now()
	if tm.Reset(d2) {
		t.Error("Reset of a stopped timer returned true, want false: it was not armed")
	}
	r := tbRecv(t, p.runs, d2+5*time.Second, "the run after Reset")
	tmCheckWindow(t, "the run after Reset", start, r.at, d2)
	tmNoRun(t, p, 3*d2, "after the run that followed Reset")
	if n := p.n.Load(); n != 1 {
		t.Errorf("ran %d times, want once", n)
	}
}

// TestTimerStopInsideCallback: Stop called by f itself returns false, as
// for time.Timer: the run it would prevent is already under way.
func TestTimerStopInsideCallback(t *testing.T) {
	s, _ := tmServe(t, 1)
	var tm atomic.Pointer[Timer]
	got := make(chan string, 1)
	t0 := s.eng.Loops()[0].AfterFunc(200*time.Millisecond, func() {
		self := tm.Load()
		if self == nil {
			got <- "f ran before AfterFunc returned"
			return
		}
		got <- fmt.Sprint("Stop inside f = ", self.Stop())
	})
	tm.Store(t0)
	if msg := tbRecv(t, got, 5*time.Second, "the run"); msg != "Stop inside f = false" {
		t.Errorf("%s, want Stop inside f = false", msg)
	}
	if t0.Stop() {
		t.Error("Stop after the run returned true")
	}
}

// TestTimerResetAfterRun: Reset after the run returns false and re-arms
// the timer: f runs a second time, at least the new d after the Reset. A
// timer that resets itself from f runs once per arming.
func TestTimerResetAfterRun(t *testing.T) {
	s, _ := tmServe(t, 1)
	lp := s.eng.Loops()[0]
	t.Run("from outside", func(t *testing.T) {
		p := newTMProbe()
		tm := lp.AfterFunc(50*time.Millisecond, p.fire)
		tbRecv(t, p.runs, 5*time.Second, "the first run")
		const d2 = 200 * time.Millisecond
		start := time.Now()
		if tm.Reset(d2) {
			t.Error("Reset after the run returned true, want false")
		}
		r := tbRecv(t, p.runs, d2+5*time.Second, "the run after Reset")
		tmCheckWindow(t, "the run after Reset", start, r.at, d2)
		tmNoRun(t, p, 3*d2, "after the second run")
		if n := p.n.Load(); n != 2 {
			t.Errorf("ran %d times, want twice", n)
		}
	})
	t.Run("from f", func(t *testing.T) {
		const d, runs = 50 * time.Millisecond, 4
		var tm atomic.Pointer[Timer]
		p := newTMProbe()
		resets := make(chan bool, runs)
		start := time.Now()
		tm.Store(lp.AfterFunc(d, func() {
			p.fire()
			if p.n.Load() < runs {
				resets <- tm.Load().Reset(d)
			}
		}))
		for i := 1; i <= runs; i++ {
			r := tbRecv(t, p.runs, 5*time.Second, fmt.Sprintf("run %d", i))
			if took := r.at.Sub(start); took < time.Duration(i)*d {
				t.Errorf("run %d came %v after the first arming, want at least %v", i, took, time.Duration(i)*d)
			}
		}
		close(resets)
		for armed := range resets {
			if armed {
				t.Error("Reset from inside f returned true, want false: the arming being run is spent")
			}
		}
		tmNoRun(t, p, 5*d, "after the last run, which did not reset")
		if n := p.n.Load(); n != runs {
			t.Errorf("ran %d times, want %d", n, runs)
		}
	})
}

// TestTimerResetBeforeRun: Reset of an armed timer returns true and moves
// its one run to the new time, earlier or later: f runs once, at least the
// new d after the Reset, and not again at the old time.
func TestTimerResetBeforeRun(t *testing.T) {
	s, _ := tmServe(t, 1)
	lp := s.eng.Loops()[0]
	tests := []struct {
		name      string
		first, d2 time.Duration
	}{
		{name: "earlier", first: 1500 * time.Millisecond, d2: 200 * time.Millisecond},
		{name: "later", first: 200 * time.Millisecond, d2: 800 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newTMProbe()
			armed := time.Now()
			tm := lp.AfterFunc(tt.first, p.fire)
			time.Sleep(20 * time.Millisecond)
			reset := time.Now()
			if !tm.Reset(tt.d2) {
				t.Fatal("Reset of an armed timer returned false")
			}
			r := tbRecv(t, p.runs, tt.d2+5*time.Second, "the run")
			tmCheckWindow(t, "the run after Reset", reset, r.at, tt.d2)
			// Past the later of the old and new due times, with margin.
			quiet := armed.Add(max(tt.first, tt.d2+20*time.Millisecond) + 300*time.Millisecond)
			tmNoRun(t, p, time.Until(quiet), "at the old due time")
			if n := p.n.Load(); n != 1 {
				t.Errorf("ran %d times, want once", n)
			}
		})
	}
}

// TestTimerEngineAfterFuncRoundRobin: Engine.AfterFunc spreads its timers
// over the loops round-robin: successive calls from one goroutine land on
// the loops in turn, each on its loop's goroutine.
func TestTimerEngineAfterFuncRoundRobin(t *testing.T) {
	const loops, perLoop = 3, 3
	s, goids := tmServe(t, loops)
	loopOf := make(map[uint64]Loop, loops)
	for lp, g := range goids {
		loopOf[g] = lp
	}
	probes := make([]*tmProbe, loops*perLoop)
	for i := range probes {
		probes[i] = newTMProbe()
		s.eng.AfterFunc(10*time.Millisecond, probes[i].fire)
	}
	where := make([]Loop, len(probes))
	for i, p := range probes {
		r := tbRecv(t, p.runs, 5*time.Second, fmt.Sprintf("the run of timer %d", i))
		lp, ok := loopOf[r.goid]
		if !ok {
			t.Fatalf("timer %d ran on goroutine %d, which is no loop's", i, r.goid)
		}
		where[i] = lp
	}
	t.Logf("loops of successive Engine.AfterFunc timers: %v", where)
	for i := range where {
		if i >= loops && where[i] != where[i-loops] {
			t.Errorf("timer %d ran on %v and timer %d on %v: not round-robin over %d loops", i, where[i], i-loops, where[i-loops], loops)
		}
		if i >= 1 && where[i] == where[i-1] {
			t.Errorf("timers %d and %d both ran on %v: not round-robin", i-1, i, where[i])
		}
	}
}

// tmPeriodic counts the runs of an Every function and the runs that began
// after the test marked the timer stopped.
type tmPeriodic struct {
	start   time.Time
	d       time.Duration
	runs    atomic.Int32
	late    atomic.Int32 // runs that began after stopped was set
	early   atomic.Int32 // run k that began less than k*d after start
	stopped atomic.Bool
	goids   atomic.Int32 // runs on a goroutine other than want
	want    uint64
	fourth  chan struct{} // closed by the fourth run
}

func (p *tmPeriodic) fire() {
	k := p.runs.Add(1)
	if p.stopped.Load() {
		p.late.Add(1)
	}
	if time.Since(p.start) < time.Duration(k)*p.d {
		p.early.Add(1)
	}
	if p.want != 0 && tbGoroutineID() != p.want {
		p.goids.Add(1)
	}
	if k == 4 {
		close(p.fourth)
	}
}

// TestTimerEvery: Loop.Every runs f again and again on the loop's
// goroutine, run k at least k*d after the call, until Stop. After Stop no
// run begins, except, when Stop comes from another goroutine, the one run
// that may already be under way as it is called.
func TestTimerEvery(t *testing.T) {
	s, goids := tmServe(t, 1)
	lp := s.eng.Loops()[0]
	const d = 60 * time.Millisecond
	tests := []struct {
		name string
		// stop stops tm once f ran four times and returns Stop's result.
		stop     func(t *testing.T, tm *Timer) bool
		inFlight int // runs that may begin after stop returns
	}{
		{name: "Stop from another goroutine", stop: func(_ *testing.T, tm *Timer) bool { return tm.Stop() }, inFlight: 1},
		{name: "Stop from the loop", stop: func(t *testing.T, tm *Timer) bool {
			res := make(chan bool, 1)
			lp.AfterFunc(0, func() { res <- tm.Stop() })
			return tbRecv(t, res, 5*time.Second, "Stop on the loop")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &tmPeriodic{d: d, want: goids[lp], fourth: make(chan struct{})}
			p.start = time.Now()
			tm := lp.Every(d, p.fire)
			select {
			case <-p.fourth:
			case <-time.After(4*d + 5*time.Second):
				t.Fatalf("Every ran %d times in %v, want 4", p.runs.Load(), 4*d+5*time.Second)
			}
			stopped := tt.stop(t, tm)
			p.stopped.Store(true)
			if tt.inFlight == 0 && !stopped {
				t.Error("Stop of a periodic timer from the loop, between runs, returned false")
			}
			time.Sleep(5 * d)
			if n := p.late.Load(); n > int32(tt.inFlight) {
				t.Errorf("%d runs began after Stop returned, want at most %d", n, tt.inFlight)
			}
			if n := p.early.Load(); n != 0 {
				t.Errorf("%d runs came before k*d", n)
			}
			if n := p.goids.Load(); n != 0 {
				t.Errorf("%d runs were not on the loop's goroutine", n)
			}
			if tm.Stop() {
				t.Error("a second Stop returned true")
			}
			t.Logf("%d runs; Stop = %v", p.runs.Load(), stopped)
		})
	}
	t.Run("Stop from f", func(t *testing.T) {
		// The third run stops its own timer: no fourth run follows.
		var tm atomic.Pointer[Timer]
		var n atomic.Int32
		runs := make(chan bool, 8)
		tm.Store(lp.Every(d, func() {
			stopped := false
			if self := tm.Load(); self != nil && n.Add(1) == 3 {
				stopped = self.Stop()
			}
			select {
			case runs <- stopped:
			default:
			}
		}))
		for range 3 {
			tbRecv(t, runs, 5*time.Second, "a run")
		}
		time.Sleep(5 * d)
		if k := len(runs); k != 0 {
			t.Errorf("%d runs after f stopped its own periodic timer", k)
		}
	})
}

// TestTimerEngineEvery: Engine.Every arms one periodic timer per loop;
// each runs on its loop's goroutine and is given that loop; after every
// Stop, at most the one run under way on each loop begins.
func TestTimerEngineEvery(t *testing.T) {
	const loops = 2
	s, goids := tmServe(t, loops)
	const d = 50 * time.Millisecond
	type run struct {
		lp   Loop
		goid uint64
	}
	var stopped atomic.Bool
	var late atomic.Int32
	runs := make(chan run, 256)
	tms := s.eng.Every(d, func(lp Loop) {
		if stopped.Load() {
			late.Add(1)
		}
		select {
		case runs <- run{lp: lp, goid: tbGoroutineID()}:
		default:
		}
	})
	if len(tms) != loops {
		t.Fatalf("Engine.Every returned %d timers, want one per loop (%d)", len(tms), loops)
	}
	seen := map[Loop]int{}
	deadline := time.After(10 * time.Second)
	for seen[s.eng.Loops()[0]] < 3 || seen[s.eng.Loops()[1]] < 3 {
		select {
		case r := <-runs:
			seen[r.lp]++
			if r.goid != goids[r.lp] {
				t.Errorf("the timer given %v ran on goroutine %d, that loop's is %d", r.lp, r.goid, goids[r.lp])
			}
		case <-deadline:
			t.Fatalf("runs per loop after 10s: %v, want 3 each", seen)
		}
	}
	for i, tm := range tms {
		if !tm.Stop() {
			t.Logf("Stop of loop %d's timer returned false (a run was under way)", i)
		}
	}
	stopped.Store(true)
	time.Sleep(5 * d)
	if n := late.Load(); n > loops {
		t.Errorf("%d runs began after every Stop returned, want at most one per loop", n)
	}
}

// TestTimerConnAfterFunc: Conn.AfterFunc runs f on the connection's loop,
// given the connection, which f may write to; it never runs once the
// connection has closed, whoever closed it, and its Stop and Reset then
// return false and do not revive it.
func TestTimerConnAfterFunc(t *testing.T) {
	t.Run("runs", func(t *testing.T) {
		const d = 200 * time.Millisecond
		type armed struct {
			at   time.Time
			goid uint64
		}
		arms := make(chan armed, 1)
		runs := make(chan string, 2)
		h := &tbHandler{open: func(c Conn) ([]byte, Action) {
			arms <- armed{at: time.Now(), goid: tbGoroutineID()}
			c.AfterFunc(d, func(got Conn) {
				switch {
				case got != c:
					runs <- "f was given another connection"
				default:
					if _, err := got.Write([]byte("tick")); err != nil {
						runs <- fmt.Sprint("Write from f: ", err)
						return
					}
					runs <- fmt.Sprint("goroutine ", tbGoroutineID())
				}
			})
			return nil, None
		}}
		s := startEngine(t, h, "tcp://127.0.0.1:0", WithLoops(1))
		nc := tbDial(t, s.addr)
		a := tbRecv(t, arms, 5*time.Second, "OnOpen")
		if err := nc.SetReadDeadline(time.Now().Add(d + 5*time.Second)); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 4)
		if _, err := nc.Read(buf); err != nil || string(buf) != "tick" {
			t.Fatalf("client read %q, %v; want what f wrote, tick", buf, err)
		}
		tmCheckWindow(t, "the tick", a.at, time.Now(), d)
		if msg := tbRecv(t, runs, 5*time.Second, "f's report"); msg != fmt.Sprint("goroutine ", a.goid) {
			t.Errorf("f: %s; want it on the loop's goroutine %d", msg, a.goid)
		}
	})

	tests := []struct {
		name  string
		close func(t *testing.T, nc net.Conn, c Conn)
	}{
		{name: "closed by the client", close: func(_ *testing.T, nc net.Conn, _ Conn) {
			_ = nc.Close()
		}},
		{name: "closed by the server", close: func(t *testing.T, _ net.Conn, c Conn) {
			if err := c.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const d = 400 * time.Millisecond
			type opened struct {
				c  Conn
				tm *Timer
			}
			opens := make(chan opened, 1)
			closes := make(chan error, 1)
			p := newTMProbe()
			h := &tbHandler{
				open: func(c Conn) ([]byte, Action) {
					opens <- opened{c: c, tm: c.AfterFunc(d, func(Conn) { p.fire() })}
					return nil, None
				},
				close: func(_ Conn, err error) Action { closes <- err; return None },
			}
			s := startEngine(t, h, "tcp://127.0.0.1:0", WithLoops(1))
			nc := tbDial(t, s.addr)
			o := tbRecv(t, opens, 5*time.Second, "OnOpen")
			tt.close(t, nc, o.c)
			tbRecv(t, closes, 5*time.Second, "OnClose")
			tmNoRun(t, p, d+300*time.Millisecond, "after the connection closed")
			if o.tm.Stop() {
				t.Error("Stop of a timer cancelled by its connection's close returned true")
			}
			if o.tm.Reset(10 * time.Millisecond) {
				t.Error("Reset of a timer cancelled by its connection's close returned true")
			}
			tmNoRun(t, p, 300*time.Millisecond, "after Reset of a timer whose connection closed")
		})
	}

	t.Run("due as the connection closes", func(t *testing.T) {
		// f is due at once, but the callback that armed it also closes the
		// connection: the close comes first, so f never runs.
		p := newTMProbe()
		tms := make(chan *Timer, 1)
		closes := make(chan error, 1)
		h := &tbHandler{
			traffic: func(c Conn) Action {
				tms <- c.AfterFunc(0, func(Conn) { p.fire() })
				return Close
			},
			close: func(_ Conn, err error) Action { closes <- err; return None },
		}
		s := startEngine(t, h, "tcp://127.0.0.1:0", WithLoops(1))
		nc := tbDial(t, s.addr)
		if _, err := nc.Write([]byte("x")); err != nil {
			t.Fatal(err)
		}
		tm := tbRecv(t, tms, 5*time.Second, "OnTraffic")
		tbRecv(t, closes, 5*time.Second, "OnClose")
		tmNoRun(t, p, 300*time.Millisecond, "after a Close returned by the callback that armed it")
		if tm.Stop() {
			t.Error("Stop returned true for a timer cancelled by the close")
		}
	})
}

// TestTimerZeroValues: the zero Engine, the zero Loop and a nil *Timer
// are usable: AfterFunc and Every do not panic and never run f, and Stop
// and Reset return false.
func TestTimerZeroValues(t *testing.T) {
	p := newTMProbe()
	tests := []struct {
		name string
		arm  func() []*Timer
	}{
		{name: "Engine.AfterFunc", arm: func() []*Timer { return []*Timer{Engine{}.AfterFunc(time.Millisecond, p.fire)} }},
		{name: "Engine.Every", arm: func() []*Timer { return Engine{}.Every(time.Millisecond, func(Loop) { p.fire() }) }},
		{name: "Loop.AfterFunc", arm: func() []*Timer { return []*Timer{Loop{}.AfterFunc(time.Millisecond, p.fire)} }},
		{name: "Loop.Every", arm: func() []*Timer { return []*Timer{Loop{}.Every(time.Millisecond, p.fire)} }},
		{name: "nil *Timer", arm: func() []*Timer { return []*Timer{nil} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tms []*Timer
			if msg := tmCatch(func() { tms = tt.arm() }); msg != "" {
				t.Fatalf("arming panicked: %s", msg)
			}
			for _, tm := range tms {
				var stopped, reset bool
				if msg := tmCatch(func() { stopped, reset = tm.Stop(), tm.Reset(time.Millisecond) }); msg != "" {
					t.Fatalf("Stop or Reset panicked: %s", msg)
				}
				if stopped || reset {
					t.Errorf("Stop = %v, Reset = %v; want false, false", stopped, reset)
				}
			}
		})
	}
	tmNoRun(t, p, 200*time.Millisecond, "a timer of a zero value")
}

// tmCatch runs f and returns what it panicked with, or "".
func tmCatch(f func()) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprint(r)
		}
	}()
	f()
	return ""
}

// TestTimerClosedConn: AfterFunc on a connection that has closed, called
// in OnClose or later from another goroutine, returns a timer that never
// runs and whose Stop returns false.
func TestTimerClosedConn(t *testing.T) {
	p := newTMProbe()
	inClose := make(chan *Timer, 1)
	conns := make(chan Conn, 1)
	h := &tbHandler{
		open: func(c Conn) ([]byte, Action) { conns <- c; return nil, None },
		close: func(c Conn, _ error) Action {
			inClose <- c.AfterFunc(time.Millisecond, func(Conn) { p.fire() })
			return None
		},
	}
	s := startEngine(t, h, "tcp://127.0.0.1:0", WithLoops(1))
	nc := tbDial(t, s.addr)
	c := tbRecv(t, conns, 5*time.Second, "OnOpen")
	_ = nc.Close()
	tms := []*Timer{tbRecv(t, inClose, 5*time.Second, "OnClose")}
	var after *Timer
	if msg := tmCatch(func() { after = c.AfterFunc(time.Millisecond, func(Conn) { p.fire() }) }); msg != "" {
		t.Fatalf("AfterFunc on a closed connection panicked: %s", msg)
	}
	tms = append(tms, after)
	tmNoRun(t, p, 300*time.Millisecond, "a timer armed on a closed connection")
	for i, tm := range tms {
		if tm.Stop() {
			t.Errorf("timer %d: Stop of a timer armed on a closed connection returned true", i)
		}
	}
}

// TestTimerAfterEngineStop: the engine's stop cancels every timer still
// armed, of every kind: none runs after Run returned, and Stop and Reset
// on them return false (the stop, not the call, prevented the run) at once
// (nothing waits for a loop that is gone). A timer armed on a stopped
// engine never runs either. goleak checks that nothing is left.
func TestTimerAfterEngineStop(t *testing.T) {
	const d = 300 * time.Millisecond
	p := newTMProbe()
	conns := make(chan Conn, 1)
	h := &tbHandler{open: func(c Conn) ([]byte, Action) { conns <- c; return nil, None }}
	s := startEngine(t, h, "tcp://127.0.0.1:0", WithLoops(2))
	tbDial(t, s.addr)
	c := tbRecv(t, conns, 5*time.Second, "OnOpen")
	lp := s.eng.Loops()[0]
	tms := []*Timer{
		lp.AfterFunc(d, p.fire),
		lp.Every(d, p.fire),
		s.eng.AfterFunc(d, p.fire),
		c.AfterFunc(d, func(Conn) { p.fire() }),
	}
	tms = append(tms, s.eng.Every(d, func(Loop) { p.fire() })...)
	s.stop(t)
	tmNoRun(t, p, d+300*time.Millisecond, "after the engine stopped")

	var late *Timer
	if msg := tmCatch(func() { late = lp.AfterFunc(time.Millisecond, p.fire) }); msg != "" {
		t.Fatalf("Loop.AfterFunc on a stopped engine panicked: %s", msg)
	}
	tms = append(tms, late)
	if msg := tmCatch(func() { tms = append(tms, s.eng.AfterFunc(time.Millisecond, p.fire)) }); msg != "" {
		t.Fatalf("Engine.AfterFunc on a stopped engine panicked: %s", msg)
	}
	// Stop and Reset from a goroutine of their own, bounded: neither may
	// wait for a loop that is gone.
	type result struct{ stopped, reset bool }
	done := make(chan []result, 1)
	go func() {
		res := make([]result, len(tms))
		for i, tm := range tms {
			res[i] = result{tm.Stop(), tm.Reset(time.Millisecond)}
		}
		done <- res
	}()
	for i, r := range tbRecv(t, done, 2*time.Second, "Stop and Reset of every timer") {
		if r.stopped || r.reset {
			t.Errorf("timer %d: Stop = %v, Reset = %v after the engine stopped; want false, false: the stop cancelled it", i, r.stopped, r.reset)
		}
	}
	tmNoRun(t, p, 300*time.Millisecond, "after Reset on a stopped engine")
}

// TestTimerStopAfterConnClose: a Conn.AfterFunc timer that ran, and whose
// connection then closed, can never run again: Reset returns false and
// does not revive it, and Stop, as the Timer doc says for a timer
// cancelled by its connection's close, returns false. Stop true would
// claim a run it did not prevent. The loop is kept busy so that Stop comes
// before the loop has seen the Reset.
func TestTimerStopAfterConnClose(t *testing.T) {
	p := newTMProbe()
	type opened struct {
		c  Conn
		tm *Timer
	}
	opens := make(chan opened, 1)
	closes := make(chan error, 1)
	h := &tbHandler{
		open: func(c Conn) ([]byte, Action) {
			opens <- opened{c: c, tm: c.AfterFunc(10*time.Millisecond, func(Conn) { p.fire() })}
			return nil, None
		},
		close: func(_ Conn, err error) Action { closes <- err; return None },
	}
	s := startEngine(t, h, "tcp://127.0.0.1:0", WithLoops(1))
	nc := tbDial(t, s.addr)
	o := tbRecv(t, opens, 5*time.Second, "OnOpen")
	tbRecv(t, p.runs, 5*time.Second, "the run")
	_ = nc.Close()
	tbRecv(t, closes, 5*time.Second, "OnClose")

	// Keep the loop busy (bounded) so it cannot act on the Reset yet.
	blocked, release := make(chan struct{}, 1), make(chan struct{})
	unblock := sync.OnceFunc(func() { close(release) })
	defer unblock()
	s.eng.Loops()[0].AfterFunc(0, func() {
		blocked <- struct{}{}
		select {
		case <-release:
		case <-time.After(5 * time.Second):
		}
	})
	tbRecv(t, blocked, 5*time.Second, "the loop to be busy")
	if o.tm.Reset(10 * time.Millisecond) {
		t.Error("Reset of a timer whose connection closed returned true")
	}
	if o.tm.Stop() {
		t.Error("Stop of a timer whose connection closed returned true: it claims to have prevented a run that could never happen")
	}
	unblock()
	tmNoRun(t, p, 300*time.Millisecond, "after Reset of a timer whose connection closed")
}
