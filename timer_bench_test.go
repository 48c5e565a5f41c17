package evloop

import (
	"runtime"
	"testing"
	"time"
)

// The timer benchmarks build one loop in-process, with its poller and task
// queue but no sockets, and give it tmbConns connections' worth of
// deadlines: the heap is as large as a loop serving that many clients
// would have, and the connections are plain structs.

// tmbConns is how many connections' deadlines the heap holds.
const tmbConns = 100_000

// tmbLoop is a loop with no goroutine: the benchmark runs its side (the
// task queue, the timers) on its own goroutine.
type tmbLoop struct {
	l     *loop
	conns []*conn
}

// newTMBLoop builds the loop and n connections without deadlines.
func newTMBLoop(tb testing.TB, n int) *tmbLoop {
	tb.Helper()
	o := defaultOptions()
	o.readBufferSize = 4 << 10
	e := &engine{opts: o, log: tbQuietLogger(), base: time.Now()}
	l, err := newLoop(0, e)
	if err != nil {
		tb.Fatal(err)
	}
	e.loops = []*loop{l}
	tb.Cleanup(func() {
		l.q.Close()
		_ = l.poller.Close()
	})
	l.now = e.clock()
	t := &tmbLoop{l: l, conns: make([]*conn, n)}
	for i := range t.conns {
		l.gen++
		t.conns[i] = &conn{fd: int32(i), gen: l.gen, loop: l}
	}
	return t
}

// drain runs every queued task, as the loop does after a wake.
func (t *tmbLoop) drain() {
	for {
		if _, more := t.l.q.Drain(t.l); !more {
			return
		}
	}
}

// arm gives every connection a read deadline an hour or so ahead, spread
// over a second so the heap is not degenerate, and lets the loop put them
// in its heap.
func (t *tmbLoop) arm(tb testing.TB) {
	tb.Helper()
	far := time.Now().Add(time.Hour)
	for i, c := range t.conns {
		if err := c.SetReadDeadline(far.Add(time.Duration(i%1000) * time.Millisecond)); err != nil {
			tb.Fatal(err)
		}
		if i%256 == 255 {
			t.drain()
		}
	}
	t.drain()
	if n := t.l.timers.len(); n != len(t.conns) {
		tb.Fatalf("the heap holds %d entries, want %d", n, len(t.conns))
	}
}

// tmbHeapBytes returns the live heap after a collection.
func tmbHeapBytes() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// BenchmarkTimerDeadlines measures deadlines on a heap of tmbConns
// connections. memory: what a connection's deadline state and heap slot
// add to it (bytes/deadline), and what a Loop.AfterFunc timer costs
// (bytes/timer). move-later: SetReadDeadline a little later than before,
// what a handler does on every message, an atomic store and no heap
// operation. fire-rearm: the loop's half of that, when the old deadline
// comes and the entry re-arms at the new one (remove the root, sift
// down). move-earlier: SetReadDeadline earlier than the armed one, a task
// to the loop and a sift up, run by the loop at once; the eventfd write
// that wakes a sleeping loop (at most one per loop iteration) is not in
// it, as no wait runs here to clear the wake flag.
//
//	go test -run '^$' -bench TimerDeadlines -benchmem .
func BenchmarkTimerDeadlines(b *testing.B) {
	b.Run("memory", func(b *testing.B) {
		t := newTMBLoop(b, tmbConns)
		before := tmbHeapBytes()
		t.arm(b)
		deadlines := tmbHeapBytes()
		lp := Loop{t.l}
		f := func() {}
		timers := make([]*Timer, tmbConns)
		afterSlice := tmbHeapBytes()
		for i := range timers {
			timers[i] = lp.AfterFunc(time.Hour+time.Duration(i%1000)*time.Millisecond, f)
			if i%256 == 255 {
				t.drain()
			}
		}
		t.drain()
		after := tmbHeapBytes()
		runtime.KeepAlive(t)
		runtime.KeepAlive(timers)
		for b.Loop() {
		}
		b.ReportMetric(float64(deadlines-before)/tmbConns, "bytes/deadline")
		b.ReportMetric(float64(after-afterSlice)/tmbConns, "bytes/timer")
	})
	b.Run("move-later", func(b *testing.B) {
		t := newTMBLoop(b, tmbConns)
		t.arm(b)
		later := time.Now().Add(2 * time.Hour)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if err := t.conns[i%tmbConns].SetReadDeadline(later.Add(time.Duration(i))); err != nil {
				b.Fatal(err)
			}
			i++
		}
		if q := t.l.q.Len(); q != 0 {
			b.Fatalf("moving deadlines later queued %d tasks, want none", q)
		}
	})
	b.Run("fire-rearm", func(b *testing.B) {
		t := newTMBLoop(b, tmbConns)
		t.arm(b)
		l := t.l
		b.ReportAllocs()
		for b.Loop() {
			e := l.timers.peek()
			ct := e.c.tm.Load()
			ct.readDL.Store(e.when + int64(time.Hour)) // moved later since it was armed
			l.now = e.when                             // its old deadline has come
			l.timers.remove(e)
			l.settleTime(e.c)
		}
		if n := l.timers.len(); n != tmbConns {
			b.Fatalf("the heap holds %d entries, want %d", n, tmbConns)
		}
	})
	b.Run("move-earlier", func(b *testing.B) {
		t := newTMBLoop(b, tmbConns)
		t.arm(b)
		earlier := time.Now().Add(time.Hour) // before every armed deadline
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if err := t.conns[i%tmbConns].SetReadDeadline(earlier.Add(-time.Duration(i))); err != nil {
				b.Fatal(err)
			}
			t.drain()
			i++
		}
	})
}

// TestDeadlineMoveZeroAlloc: moving a read deadline, later (the per-message
// case) or earlier, allocates nothing once the heap and the task queue
// have grown.
func TestDeadlineMoveZeroAlloc(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	const n = 1000
	tl := newTMBLoop(t, n)
	tl.arm(t)
	later, earlier := time.Now().Add(2*time.Hour), time.Now().Add(time.Hour)
	i := 0
	if a := testing.AllocsPerRun(1000, func() {
		_ = tl.conns[i%n].SetReadDeadline(later.Add(time.Duration(i)))
		i++
	}); a != 0 {
		t.Errorf("moving a deadline later: %v allocations, want 0", a)
	}
	if a := testing.AllocsPerRun(1000, func() {
		_ = tl.conns[i%n].SetReadDeadline(earlier.Add(-time.Duration(i)))
		tl.drain()
		i++
	}); a != 0 {
		t.Errorf("moving a deadline earlier: %v allocations, want 0", a)
	}
}

// dlEchoHandler echoes on the loop like echoHandler and moves the read
// deadline a minute ahead on every message, as a server that drops silent
// clients does.
type dlEchoHandler struct{ BaseHandler }

func (dlEchoHandler) OnTraffic(c Conn) Action {
	b, _ := c.Next(-1)
	if _, err := c.Write(b); err != nil {
		return Close
	}
	if err := c.SetReadDeadline(time.Now().Add(time.Minute)); err != nil {
		return Close
	}
	return None
}

// BenchmarkEchoDeadline measures what a deadline costs an echo server:
// BenchmarkEcho's traffic (tbEchoConns clients, 64-byte messages) against
// the same loop echo without a deadline, with the read deadline moved on
// every message, and with an idle timeout (which should cost nothing per
// message either). The sub-benchmarks are named key=value so benchstat can
// put them side by side; on a shared machine, interleave the rounds:
//
//	for i in 1 2 3 4 5; do go test -run '^$' -bench EchoDeadline -benchmem . ; done > echo.txt
//	benchstat -col /deadline echo.txt
func BenchmarkEchoDeadline(b *testing.B) {
	servers := []struct {
		name string
		h    EventHandler
		opts []Option
	}{
		{name: "none", h: echoHandler{}},
		{name: "read", h: dlEchoHandler{}},
		{name: "idle", h: echoHandler{}, opts: []Option{WithIdleTimeout(time.Minute)}},
	}
	for _, srv := range servers {
		b.Run("deadline="+srv.name+"/size=64B", func(b *testing.B) {
			tbBenchEcho(b, startEngine(b, srv.h, "tcp://127.0.0.1:0", srv.opts...).addr, 64)
		})
	}
}
