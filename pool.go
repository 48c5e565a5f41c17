//go:build linux

package evloop

import (
	"errors"
	"runtime/debug"

	"github.com/panjf2000/ants/v2"
)

// submit runs job on the pool for c (nil: no connection). jobs counts it
// until it returns, so that Stop can wait for pool work to finish.
func (e *engine) submit(c *conn, job func()) error {
	e.jobs.Add(1)
	err := e.pool.Submit(func() {
		defer e.jobs.Add(-1)
		e.runJob(c, job)
	})
	if err == nil {
		return nil
	}
	e.jobs.Add(-1)
	switch {
	case errors.Is(err, ants.ErrPoolOverload):
		return ErrPoolOverload
	case errors.Is(err, ants.ErrPoolClosed):
		return ErrEngineStopped
	}
	return err
}

// runJob runs one job with the pool's panic policy.
func (e *engine) runJob(c *conn, job func()) {
	defer e.recoverJob(c)
	job()
}

// recoverJob is deferred around every pool job. The pool would swallow a
// panic itself; instead a recovered one closes the job's connection, and
// with WithPanicPropagation it is re-raised on a fresh goroutine, where
// nothing recovers it.
func (e *engine) recoverJob(c *conn) {
	r := recover()
	if r == nil {
		return
	}
	stack := debug.Stack()
	if e.opts.propagatePanic {
		go panic(r)
	}
	e.recovered("pool job", r, stack)
	if c != nil {
		_ = c.push(task{kind: taskClose, err: &PanicError{Value: r, Stack: stack}})
	}
}
