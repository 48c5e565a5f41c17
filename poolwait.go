//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows || evloop_portable

package evloop

import (
	"sync"
	"time"
)

// Execute under WithExecutePause: when the pool is full, a connection's
// runner waits here instead of failing, and the connection stops reading
// until a pool goroutine takes the runner. A goroutine of ours that ends a
// job looks here before it goes back to the pool, so room is found the
// moment it exists; a timer retries the pool in case the room comes from
// elsewhere (a WithPool shared with other work).

const (
	minPoolRetry = time.Millisecond
	maxPoolRetry = 100 * time.Millisecond
)

// poolWaiters is the engine's list of runners waiting for the pool.
type poolWaiters struct {
	mu    sync.Mutex
	list  []poolWaiter
	timer *time.Timer // retries the pool while list is not empty
	delay time.Duration
	done  bool // the engine released its pool: nothing waits any more
}

type poolWaiter struct {
	c *conn
	x *executor
}

// waitForPool queues x's runner until a pool goroutine is free, and pauses
// c's reading meanwhile. The runner counts as a started job, so Stop's
// drain waits for it. Called with x.mu held.
func (e *engine) waitForPool(c *conn, x *executor) error {
	// The pause comes first, so that it precedes the resume runWaiting
	// queues once it takes the runner. On the loop (Execute from a
	// callback, the usual case) it takes effect now, before the loop reads
	// again; from elsewhere it is a task. goid is slow, but this is the
	// pool-overload path.
	if c.loop.goid.Load() == goid() {
		c.setPaused(pausePool, true)
	} else {
		_ = c.push(task{kind: taskPoolPause})
	}
	w := &e.waiters
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return ErrEngineStopped
	}
	e.jobsStarted.Add(1)
	w.list = append(w.list, poolWaiter{c, x})
	if len(w.list) == 1 {
		w.delay = minPoolRetry
		w.arm(e)
	}
	return nil
}

// arm schedules a retry. Called with w.mu held.
func (w *poolWaiters) arm(e *engine) {
	if w.timer == nil {
		w.timer = time.AfterFunc(w.delay, e.retryPool)
		return
	}
	w.timer.Reset(w.delay)
}

// retryPool runs on a timer while runners wait: it offers the pool a job
// that serves them, backing off while the pool stays full.
func (e *engine) retryPool() {
	w := &e.waiters
	w.mu.Lock()
	if w.done || len(w.list) == 0 {
		w.mu.Unlock()
		return
	}
	w.mu.Unlock()
	err := e.pool.Submit(e.runWaiting)
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil && !w.done && len(w.list) > 0 {
		w.delay = min(2*w.delay, maxPoolRetry)
		w.arm(e)
	}
}

// runWaiting serves waiting runners, oldest first, on the calling pool
// goroutine until none is left.
func (e *engine) runWaiting() {
	w := &e.waiters
	for {
		w.mu.Lock()
		if len(w.list) == 0 || w.done {
			w.mu.Unlock()
			return
		}
		pw := w.list[0]
		w.list[0] = poolWaiter{}
		w.list = w.list[1:]
		w.mu.Unlock()
		_ = pw.c.push(task{kind: taskPoolResume})
		pw.x.run(pw.c)
		e.jobsDone.Add(1)
	}
}

// stopWaiting forgets the waiting runners once the pool is released: their
// jobs never run.
func (e *engine) stopWaiting() {
	w := &e.waiters
	w.mu.Lock()
	w.done = true
	w.list = nil
	if w.timer != nil {
		w.timer.Stop()
	}
	w.mu.Unlock()
}
