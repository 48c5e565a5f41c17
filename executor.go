//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows || evloop_portable

package evloop

import "sync"

// An executor runs one connection's Execute jobs on the engine's pool, one
// at a time and in call order. It holds the pool for only as long as jobs
// are queued: the runner exits when the queue is empty, and the next
// Execute starts a new one.
type executor struct {
	mu      sync.Mutex
	jobs    []func()
	next    int
	running bool
}

func (c *conn) Execute(job func()) error {
	if c.closed.Load() {
		return ErrClosed
	}
	x := c.exec.Load()
	if x == nil {
		x = &executor{}
		if !c.exec.CompareAndSwap(nil, x) {
			x = c.exec.Load()
		}
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if !x.running {
		// Started under the lock, so a job is queued only if a runner will
		// take it: when the pool refuses, the caller learns it and no job
		// is stranded behind a runner that never came (with
		// WithExecutePause, the runner waits for a free pool goroutine).
		e := c.loop.eng
		err := e.submit(c, func() { x.run(c) })
		if err == ErrPoolOverload && e.opts.execPause {
			err = e.waitForPool(c, x)
		}
		if err != nil {
			return err
		}
		x.running = true
	}
	x.jobs = append(x.jobs, job)
	return nil
}

// run executes queued jobs until none is left. A job that panics is
// recovered (closing the connection) and the runner goes on, so later jobs
// still run and learn of the close through ErrClosed.
func (x *executor) run(c *conn) {
	e := c.loop.eng
	for {
		x.mu.Lock()
		if x.next == len(x.jobs) {
			clear(x.jobs)
			x.jobs, x.next, x.running = x.jobs[:0], 0, false
			x.mu.Unlock()
			return
		}
		job := x.jobs[x.next]
		x.jobs[x.next] = nil
		x.next++
		x.mu.Unlock()
		e.runJob(c, job)
	}
}
