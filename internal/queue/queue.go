// Package queue is the async-job queue through which other goroutines hand
// work to an event loop.
//
// Producers on any goroutine Push a task: lock, append, unlock, then Wake the
// loop's poller. The poller coalesces wakes (only the first Wake after the
// loop consumed the previous one writes the eventfd), so a thousand pushes
// between two loop iterations cost one syscall. The loop, after its poller
// has consumed the wake and cleared the wake flag, calls Drain: it swaps the
// whole pending slice for its spare one under the lock and runs the batch
// without holding the lock, oldest task first.
//
// Tasks are values of one concrete type T (the engine's task struct), stored
// in two slices that swap roles on every refill, so a task costs neither an
// allocation nor an interface conversion: the slices are the pool.
//
// Order that prevents lost wakeups: the poller clears its wake flag before
// Drain looks for work. A producer that appended before the clear had its
// Wake absorbed by the pending one, but its task is already in the slice
// Drain will take; a producer that appends after the clear finds the flag
// clear and wakes the poller again.
package queue

import (
	"errors"
	"sync"
	"time"
)

// ErrClosed is returned by Push after Close: the owner no longer drains.
var ErrClosed = errors.New("queue: closed")

// Waker is what Push pokes after appending: in evloop, the owning loop's
// poller. Wake must be safe for concurrent use and cheap when a wake is
// already pending.
type Waker interface {
	Wake() error
}

// Runner runs one task on the owning goroutine. The task is only valid for
// the duration of the call; the queue zeroes it afterwards so that buffers
// and callbacks it references can be collected.
type Runner[T any] interface {
	RunTask(t *T)
}

// Defaults for New's budget arguments: enough to amortise a wake, small
// enough that a flood of async writes cannot starve socket I/O.
const (
	DefaultBudget  = 256
	DefaultMaxTime = time.Millisecond
	// timeCheckEvery spaces out clock reads; reading the clock per task
	// would cost more than a short task.
	timeCheckEvery = 16
	// shrinkCap is the capacity above which a batch slice that stayed
	// mostly empty for shrinkAfter refills in a row is dropped, so a one-off
	// storm does not pin its memory for good, while recurring bursts (a
	// wave of accepted connections) keep theirs instead of regrowing it.
	shrinkCap   = 1024
	shrinkAfter = 64
)

// Queue holds tasks of type T for one owner goroutine. Push may be called
// from any goroutine; Drain, Len and Pending only from the owner.
type Queue[T any] struct {
	mu      sync.Mutex
	pending []T
	closed  bool
	pushed  uint64 // tasks accepted so far, for Pushed

	waker   Waker
	budget  int
	maxTime time.Duration

	// Owned by the draining goroutine.
	batch []T
	next  int
	small int // refills in a row that used under a quarter of a big slice
}

// New returns a queue that wakes w on Push and runs at most budget tasks or
// for at most maxTime per Drain (values <= 0 select the defaults).
func New[T any](w Waker, budget int, maxTime time.Duration) *Queue[T] {
	if budget <= 0 {
		budget = DefaultBudget
	}
	if maxTime <= 0 {
		maxTime = DefaultMaxTime
	}
	return &Queue[T]{waker: w, budget: budget, maxTime: maxTime}
}

// Push appends t and wakes the owner. Safe from any goroutine. After Close
// it queues nothing and returns ErrClosed, so every task that was accepted
// is seen by the owner's Drain or Pending. Any other error is the waker's:
// the task is queued either way.
func (q *Queue[T]) Push(t T) error {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return ErrClosed
	}
	q.pending = append(q.pending, t)
	q.pushed++
	q.mu.Unlock()
	return q.waker.Wake()
}

// Pushed returns how many tasks Push has accepted since New. It only grows,
// so an owner that reads the same count before and after some work knows
// that nothing was queued meanwhile. Safe from any goroutine.
func (q *Queue[T]) Pushed() uint64 {
	q.mu.Lock()
	n := q.pushed
	q.mu.Unlock()
	return n
}

// Close makes later Pushes fail with ErrClosed. Tasks already queued stay
// queued for Drain or Pending. Owner goroutine only; idempotent.
func (q *Queue[T]) Close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
}

// Drain runs queued tasks in push order until none is left or the budget is
// spent, and reports how many ran and whether tasks remain. When tasks
// remain it re-arms the wake, so the owner's next poll returns at once
// instead of sleeping on queued work. Owner goroutine only.
func (q *Queue[T]) Drain(r Runner[T]) (ran int, more bool) {
	var start time.Time
	var zero T
	for ran < q.budget {
		if q.next == len(q.batch) && !q.refill() {
			break
		}
		t := &q.batch[q.next]
		q.next++
		r.RunTask(t)
		*t = zero
		ran++
		if ran%timeCheckEvery == 0 {
			if start.IsZero() {
				start = time.Now()
			} else if time.Since(start) >= q.maxTime {
				break
			}
		}
	}
	more = q.next < len(q.batch) || q.hasPending()
	if more {
		// The task stays queued whatever Wake returns; a failed wake only
		// means the owner polls without being nudged.
		_ = q.waker.Wake()
	}
	return ran, more
}

// refill swaps the drained batch slice with the pending one.
func (q *Queue[T]) refill() bool {
	old := q.batch[:0]
	if cap(old) > shrinkCap {
		// Only big slices count: the two slices alternate, and a small one
		// says nothing about whether bursts still need the big one.
		switch {
		case len(q.batch) >= cap(old)/4:
			q.small = 0
		case q.small+1 >= shrinkAfter:
			old, q.small = nil, 0
		default:
			q.small++
		}
	}
	q.mu.Lock()
	q.batch, q.pending = q.pending, old
	q.mu.Unlock()
	q.next = 0
	return len(q.batch) > 0
}

func (q *Queue[T]) hasPending() bool {
	q.mu.Lock()
	n := len(q.pending)
	q.mu.Unlock()
	return n > 0
}

// Len reports how many tasks are queued, including the unrun rest of the
// current batch. Owner goroutine only (producers may add more meanwhile).
// Waiting returns how many pushed tasks the owner has not taken yet (those
// it took for the current Drain are not counted). Any goroutine.
func (q *Queue[T]) Waiting() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.pending)
}

func (q *Queue[T]) Len() int {
	q.mu.Lock()
	n := len(q.pending)
	q.mu.Unlock()
	return n + len(q.batch) - q.next
}

// Pending calls f with every queued task, without running them, and then
// forgets them all: the owner uses it at shutdown to fail the callbacks and
// release the buffers of work that will never run. Owner goroutine only.
func (q *Queue[T]) Pending(f func(t *T)) {
	var zero T
	for {
		for q.next < len(q.batch) {
			t := &q.batch[q.next]
			q.next++
			f(t)
			*t = zero
		}
		if !q.refill() {
			return
		}
	}
}
