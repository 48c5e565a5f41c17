package poller

import (
	"sync"
	"testing"
	"time"

	"github.com/evloop/evloop/internal/queue"
)

type job struct {
	producer int
	seq      int
	stop     bool
	ack      chan struct{}
}

// stormLoop is a minimal event loop: Wait(-1), then drain the queue. It
// counts every return from Wait so the test can see busy wake-ups.
type stormLoop struct {
	p       *Poller
	q       *queue.Queue[job]
	next    []int
	dup     int
	ran     int
	stopped bool
	mu      sync.Mutex // guards waits and parked, read by the test goroutine
	waits   int
	parked  bool // between the end of an iteration and the return of its Wait
}

func (l *stormLoop) OnEvent(Event) {}

func (l *stormLoop) RunTask(j *job) {
	switch {
	case j.stop:
		l.stopped = true
	case j.ack != nil:
		j.ack <- struct{}{}
	default:
		if j.seq != l.next[j.producer] {
			l.dup++
		}
		l.next[j.producer] = j.seq + 1
		l.ran++
	}
}

func (l *stormLoop) run() error {
	for !l.stopped {
		l.mu.Lock()
		l.parked = true
		l.mu.Unlock()
		woken, err := l.p.Wait(-1, l)
		if err != nil {
			return err
		}
		l.mu.Lock()
		l.parked = false
		l.waits++
		l.mu.Unlock()
		if woken {
			l.q.Drain(l)
		}
	}
	return nil
}

func (l *stormLoop) waitCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.waits
}

// parkedAt reports whether the loop has finished its iterations so far and
// is in (or entering) Wait, and how many Waits have returned.
func (l *stormLoop) parkedAt() (bool, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.parked, l.waits
}

func TestWakeStorm(t *testing.T) {
	producers, perProducer := 8, 250000
	if testing.Short() {
		perProducer = 25000
	}
	p := openPoller(t)
	l := &stormLoop{p: p, q: queue.New[job](p, 0, 0), next: make([]int, producers)}
	loopErr := make(chan error, 1)
	go func() { loopErr <- l.run() }()

	var wg sync.WaitGroup
	pushErrs := make(chan error, producers)
	for i := 0; i < producers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for s := 0; s < perProducer; s++ {
				if err := l.q.Push(job{producer: i, seq: s}); err != nil {
					pushErrs <- err
					return
				}
			}
		}(i)
	}
	wg.Wait()
	close(pushErrs)
	for err := range pushErrs {
		t.Fatalf("push: %v", err)
	}
	// Every job ran once the loop answers an ack queued behind them all.
	ack := make(chan struct{})
	if err := l.q.Push(job{ack: ack}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ack:
	case err := <-loopErr:
		t.Fatalf("loop exited: %v", err)
	case <-time.After(2 * time.Minute):
		t.Fatal("the loop hung: ack not processed")
	}
	// Idle: nothing is queued, so Wait(-1) must not return, except once:
	// the ack's own wake may still be pending in the wake channel when the
	// loop ran the ack during an earlier wake, and that one trailing return is not a
	// spin (a spinning loop returns thousands of times a second). The idle
	// second starts once the loop is parked in Wait after running the ack.
	if !waitFor(5*time.Second, func() bool { parked, _ := l.parkedAt(); return parked }) {
		t.Fatal("the loop did not go back to Wait within 5s of running the ack")
	}
	_, idleStart := l.parkedAt()
	time.Sleep(time.Second) // the observation window, not a synchronisation
	if extra := l.waitCount() - idleStart; extra > 1 {
		t.Errorf("%d busy wake-ups during 1s of idleness, want at most the one trailing wake", extra)
	}
	if err := l.q.Push(job{stop: true}); err != nil {
		t.Fatal(err)
	}
	if err := <-loopErr; err != nil {
		t.Fatal(err)
	}
	if l.ran != producers*perProducer || l.dup != 0 {
		t.Fatalf("ran %d jobs (%d out of order or repeated), want exactly %d", l.ran, l.dup, producers*perProducer)
	}
	t.Logf("%d jobs in %d loop iterations", l.ran, l.waitCount())
}

// waitFor polls cond every millisecond until it holds or within passes.
func waitFor(within time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(time.Millisecond)
	}
	return true
}

// BenchmarkWakeRoundTrip: another goroutine pushes a job and waits until the
// loop has run it: Push, the wake signal, Wait's return, draining the wake
// channel, Drain, and the reply.
func BenchmarkWakeRoundTrip(b *testing.B) {
	p := openPoller(b)
	l := &stormLoop{p: p, q: queue.New[job](p, 0, 0), next: make([]int, 1)}
	loopErr := make(chan error, 1)
	go func() { loopErr <- l.run() }()
	ack := make(chan struct{})
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := l.q.Push(job{ack: ack}); err != nil {
			b.Fatal(err)
		}
		<-ack
	}
	b.StopTimer()
	if err := l.q.Push(job{stop: true}); err != nil {
		b.Fatal(err)
	}
	if err := <-loopErr; err != nil {
		b.Fatal(err)
	}
}
