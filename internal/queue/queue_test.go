package queue

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// chanWaker stands in for the poller: a buffered channel of one is exactly a
// coalescing wake flag.
type chanWaker struct {
	c     chan struct{}
	wakes atomic.Int64
}

func newChanWaker() *chanWaker { return &chanWaker{c: make(chan struct{}, 1)} }

func (w *chanWaker) Wake() error {
	w.wakes.Add(1)
	select {
	case w.c <- struct{}{}:
	default:
	}
	return nil
}

type task struct {
	producer int
	seq      int
	pushed   time.Time
	sleep    time.Duration
}

// recorder checks exactly-once and per-producer FIFO order.
type recorder struct {
	next   []int
	errs   []string
	ran    int
	onTask func(t *task)
}

func (r *recorder) RunTask(t *task) {
	if t.sleep > 0 {
		time.Sleep(t.sleep)
	}
	if r.next != nil {
		if t.seq != r.next[t.producer] {
			if len(r.errs) < 5 {
				r.errs = append(r.errs, "out of order or duplicated task")
			}
		}
		r.next[t.producer] = t.seq + 1
	}
	if r.onTask != nil {
		r.onTask(t)
	}
	r.ran++
}

func TestExactlyOnceConcurrentProducers(t *testing.T) {
	producers, perProducer := 8, 20000
	if testing.Short() {
		perProducer = 2000
	}
	w := newChanWaker()
	q := New[task](w, 0, 0)
	rec := &recorder{next: make([]int, producers)}

	var wg sync.WaitGroup
	for p := 0; p < producers; p++ {
		wg.Add(1)
		go func(p int) {
			defer wg.Done()
			for i := 0; i < perProducer; i++ {
				_ = q.Push(task{producer: p, seq: i})
			}
		}(p)
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()

	total := producers * perProducer
	deadline := time.After(60 * time.Second)
	for rec.ran < total {
		select {
		case <-w.c:
		case <-deadline:
			t.Fatalf("ran %d of %d tasks before the deadline", rec.ran, total)
		}
		for {
			if _, more := q.Drain(rec); !more {
				break
			}
		}
	}
	<-done
	if _, more := q.Drain(rec); more || rec.ran != total {
		t.Fatalf("ran %d tasks, want exactly %d (more=%v)", rec.ran, total, more)
	}
	if len(rec.errs) > 0 {
		t.Fatalf("order violations: %v", rec.errs)
	}
	for p, n := range rec.next {
		if n != perProducer {
			t.Errorf("producer %d: last seq+1 = %d, want %d", p, n, perProducer)
		}
	}
}

func TestBudget(t *testing.T) {
	tests := []struct {
		name     string
		budget   int
		maxTime  time.Duration
		queued   int
		sleep    time.Duration
		wantRan  int // exact when > 0
		maxRan   int // upper bound when wantRan == 0
		wantMore bool
	}{
		{name: "count budget caps a drain", budget: 256, queued: 1000, wantRan: 256, wantMore: true},
		{name: "fewer than budget drains all", budget: 256, queued: 100, wantRan: 100, wantMore: false},
		{name: "exactly budget leaves nothing", budget: 10, queued: 10, wantRan: 10, wantMore: false},
		{name: "default budget", budget: 0, queued: DefaultBudget + 1, wantRan: DefaultBudget, wantMore: true},
		{name: "time budget stops slow tasks", budget: 100000, maxTime: time.Millisecond, queued: 200,
			sleep: 200 * time.Microsecond, maxRan: 2 * timeCheckEvery, wantMore: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newChanWaker()
			q := New[task](w, tc.budget, tc.maxTime)
			for i := 0; i < tc.queued; i++ {
				_ = q.Push(task{seq: i, sleep: tc.sleep})
			}
			<-w.c
			before := w.wakes.Load()
			rec := &recorder{next: make([]int, 1)}
			ran, more := q.Drain(rec)
			if tc.wantRan > 0 && ran != tc.wantRan {
				t.Fatalf("ran %d, want %d", ran, tc.wantRan)
			}
			if tc.maxRan > 0 && (ran > tc.maxRan || ran == 0) {
				t.Fatalf("ran %d, want 1..%d", ran, tc.maxRan)
			}
			if more != tc.wantMore {
				t.Fatalf("more = %v, want %v", more, tc.wantMore)
			}
			if more && w.wakes.Load() == before {
				t.Fatal("work remains but the wake was not re-armed")
			}
			if got, want := q.Len(), tc.queued-ran; got != want {
				t.Fatalf("Len = %d, want %d", got, want)
			}
			// The rest runs on later drains, in order.
			for q.Len() > 0 {
				q.Drain(rec)
			}
			if rec.ran != tc.queued || len(rec.errs) > 0 {
				t.Fatalf("ran %d of %d, order errors %v", rec.ran, tc.queued, rec.errs)
			}
		})
	}
}

// TestTrickleLatency pushes single jobs with 0-50us gaps, and after every
// eighth push waits until that job has run before pushing again: a job
// whose wake was lost would then wait for ever (the test fails at its 5 s
// bound) instead of being rescued by the next push. Latency is asserted
// as a percentile: on a loaded machine a few jobs wait for the scheduler,
// but 99% must run within 50 ms of their push, and all within a second.
func TestTrickleLatency(t *testing.T) {
	jobs := 2000
	if testing.Short() {
		jobs = 500
	}
	const checkEvery = 8
	w := newChanWaker()
	q := New[task](w, 0, 0)
	latencies := make([]time.Duration, 0, jobs)
	ranSeq := make(chan int, jobs) // never blocks the drain
	rec := &recorder{onTask: func(tk *task) {
		latencies = append(latencies, time.Since(tk.pushed))
		ranSeq <- tk.seq
	}}
	stop := make(chan struct{})
	producerErr := make(chan error, 1)
	go func() {
		producerErr <- func() error {
			for i := 0; i < jobs; i++ {
				if err := q.Push(task{seq: i, pushed: time.Now()}); err != nil {
					return err
				}
				if i%checkEvery != checkEvery-1 {
					if gap := time.Duration(i%51) * time.Microsecond; gap > 0 {
						time.Sleep(gap)
					}
					continue
				}
				// Nothing more is pushed until job i ran (jobs run in order).
				bound := time.NewTimer(5 * time.Second)
				for ran := -1; ran < i; {
					select {
					case ran = <-ranSeq:
					case <-bound.C:
						return fmt.Errorf("job %d did not run within 5s of its push, with no later push: its wake was lost", i)
					case <-stop:
						return nil
					}
				}
				bound.Stop()
			}
			return nil
		}()
	}()
	defer close(stop)
	deadline := time.After(60 * time.Second)
	pending := producerErr
	for rec.ran < jobs || pending != nil {
		select {
		case <-w.c:
			q.Drain(rec)
		case err := <-pending:
			if err != nil {
				t.Fatal(err)
			}
			pending = nil
		case <-deadline:
			t.Fatalf("only %d of %d jobs ran in 60s", rec.ran, jobs)
		}
	}
	slices.Sort(latencies)
	p50, p99, worst := latencies[len(latencies)/2], latencies[len(latencies)*99/100], latencies[len(latencies)-1]
	t.Logf("push-to-run latency over %d jobs: median %v, p99 %v, worst %v", jobs, p50, p99, worst)
	if p99 > 50*time.Millisecond {
		t.Errorf("p99 push-to-run latency %v, want at most 50ms", p99)
	}
	if worst > time.Second {
		t.Errorf("a job waited %v to run, want at most 1s", worst)
	}
}

func TestPendingForgetsEverything(t *testing.T) {
	w := newChanWaker()
	q := New[task](w, 4, 0)
	for i := 0; i < 10; i++ {
		_ = q.Push(task{seq: i})
	}
	rec := &recorder{}
	q.Drain(rec) // leaves a partly run batch behind
	var seen []int
	q.Pending(func(tk *task) { seen = append(seen, tk.seq) })
	if len(seen) != 6 || seen[0] != 4 || seen[5] != 9 {
		t.Fatalf("Pending saw %v, want 4..9", seen)
	}
	if q.Len() != 0 {
		t.Fatalf("Len = %d after Pending", q.Len())
	}
	if ran, more := q.Drain(rec); ran != 0 || more {
		t.Fatalf("Drain after Pending ran %d more=%v", ran, more)
	}
}

func TestRanTasksAreZeroed(t *testing.T) {
	w := newChanWaker()
	q := New[[]byte](w, 0, 0)
	buf := make([]byte, 16)
	_ = q.Push(buf)
	q.Drain(runnerFunc(func(*[]byte) {}))
	// One of the two slices kept the backing array; its slot must not pin buf.
	for _, s := range [][][]byte{q.batch, q.pending} {
		if cap(s) > 0 && s[:1][0] != nil {
			t.Fatal("a run task still references its buffer")
		}
	}
	if cap(q.batch)+cap(q.pending) == 0 {
		t.Fatal("the queue dropped its slices; the test no longer checks anything")
	}
}

type runnerFunc func(*[]byte)

func (f runnerFunc) RunTask(t *[]byte) { f(t) }

func TestStormMemoryIsReleased(t *testing.T) {
	w := newChanWaker()
	q := New[task](w, 1<<20, time.Hour)
	for i := 0; i < 10*shrinkCap; i++ {
		_ = q.Push(task{seq: i})
	}
	rec := &recorder{}
	q.Drain(rec)
	// A few quiet refills keep the memory (bursts recur)...
	for i := 0; i < 3; i++ {
		_ = q.Push(task{seq: i})
		q.Drain(rec)
	}
	if c := cap(q.batch) + cap(q.pending); c <= 2*shrinkCap {
		t.Fatalf("queue dropped its capacity after only 3 quiet refills (%d left)", c)
	}
	// ...a long quiet run gives it back.
	for i := 0; i < 4*shrinkAfter; i++ {
		_ = q.Push(task{seq: i})
		q.Drain(rec)
	}
	if c := cap(q.batch) + cap(q.pending); c > 2*shrinkCap {
		t.Fatalf("queue still holds capacity %d after the storm", c)
	}
}

func TestCloseRejectsLaterPushes(t *testing.T) {
	w := newChanWaker()
	q := New[task](w, 0, 0)
	if err := q.Push(task{seq: 1}); err != nil {
		t.Fatal(err)
	}
	q.Close()
	if err := q.Push(task{seq: 2}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Push after Close: %v, want ErrClosed", err)
	}
	var seen []int
	q.Pending(func(tk *task) { seen = append(seen, tk.seq) })
	if len(seen) != 1 || seen[0] != 1 {
		t.Fatalf("Pending after Close saw %v, want only the task queued before", seen)
	}
}

// TestCloseRacesProducers: whatever Push accepted is seen exactly once,
// whatever it refused is not, however Close interleaves with producers.
// Every producer has a push accepted before Close and keeps pushing until
// one is refused, so pushes race Close on both sides of it.
func TestCloseRacesProducers(t *testing.T) {
	const producers = 4
	const maxPushes = 1 << 20 // per producer; Close comes long before
	w := newChanWaker()
	q := New[task](w, 0, 0)
	var accepted, refused atomic.Int64
	started := make(chan struct{}, producers) // a producer's first accepted push
	errs := make(chan error, producers)
	var wg sync.WaitGroup
	for p := 0; p < producers; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < maxPushes; i++ {
				switch err := q.Push(task{producer: p, seq: i}); {
				case err == nil:
					if accepted.Add(1); i == 0 {
						started <- struct{}{}
					}
				case errors.Is(err, ErrClosed):
					refused.Add(1)
					if i == 0 {
						errs <- fmt.Errorf("producer %d: first push refused", p)
					}
					return
				default:
					errs <- fmt.Errorf("producer %d: Push = %v", p, err)
					return
				}
			}
			errs <- fmt.Errorf("producer %d: %d pushes accepted and none refused after Close", p, maxPushes)
		}()
	}
	rec := &recorder{next: make([]int, producers)}
	for range producers {
		select {
		case <-started:
		case <-time.After(10 * time.Second):
			q.Close()
			wg.Wait()
			t.Fatal("a producer had no push accepted within 10s")
		}
	}
	for i := 0; i < 50; i++ {
		q.Drain(rec)
	}
	q.Close()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	seen := 0
	q.Pending(func(*task) { seen++ })
	if got := int64(rec.ran + seen); got != accepted.Load() {
		t.Fatalf("saw %d tasks, Push accepted %d", got, accepted.Load())
	}
	if len(rec.errs) > 0 {
		t.Errorf("drained out of order or twice: %v", rec.errs)
	}
	if n := refused.Load(); n != producers {
		t.Errorf("%d pushes refused, want one per producer (%d)", n, producers)
	}
	t.Logf("%d pushes accepted (%d run, %d pending at Close), %d refused", accepted.Load(), rec.ran, seen, refused.Load())
}
