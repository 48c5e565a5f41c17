//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows || evloop_portable

package evloop

import (
	"errors"
	"reflect"
	"runtime"
	"runtime/debug"

	"github.com/panjf2000/ants/v2"
)

// submit runs job on the pool for c (nil: no connection). It is counted as
// started before the pool sees it and as done after it returns, so that
// Stop can wait for pool work to finish.
func (e *engine) submit(c *conn, job func()) error {
	if e.stopped.Load() {
		return ErrEngineStopped
	}
	e.jobsStarted.Add(1)
	err := e.pool.Submit(func() {
		e.runJob(c, job)
		e.jobsDone.Add(1)
		if e.opts.execPause {
			e.runWaiting() // this goroutine is free: Execute may wait for one
		}
	})
	if err == nil {
		return nil
	}
	e.jobsDone.Add(1)
	switch {
	case errors.Is(err, ants.ErrPoolOverload):
		return ErrPoolOverload
	case errors.Is(err, ants.ErrPoolClosed):
		return ErrEngineStopped
	}
	return err
}

// runJob runs one job with the pool's panic policy. Every pool job runs
// inside it, which is how Stop recognises a call from a job (calledFromJob):
// it must stay a frame of its own.
//
//go:noinline
func (e *engine) runJob(c *conn, job func()) {
	defer e.recoverJob(c)
	job()
}

// runJobName is runJob's symbol, as it appears in a stack's frames.
var runJobName = runtime.FuncForPC(reflect.ValueOf((*engine).runJob).Pointer()).Name()

// calledFromJob reports whether the calling goroutine is running a pool job
// (of any engine). Stop asks, and only Stop: a job that waited for the stop
// would wait for itself, as the drain waits for every job. The stack is
// walked frame by frame, so the cost grows with its depth; Stop is rare.
func calledFromJob() bool {
	pcs := make([]uintptr, 64)
	n := runtime.Callers(2, pcs) // above runtime.Callers and calledFromJob
	for n == len(pcs) {
		pcs = make([]uintptr, 2*len(pcs))
		n = runtime.Callers(2, pcs)
	}
	frames := runtime.CallersFrames(pcs[:n])
	for {
		f, more := frames.Next()
		if f.Function == runJobName {
			return true
		}
		if !more {
			return false
		}
	}
}

// recoverJob is deferred around every pool job. The pool would swallow a
// panic itself; instead a recovered one closes the job's connection, and
// with WithPanicPropagation it is re-raised on a fresh goroutine, where
// nothing recovers it, while the job's goroutine waits for the end.
func (e *engine) recoverJob(c *conn) {
	r := recover()
	if r == nil {
		return
	}
	if e.opts.propagatePanic {
		// The pool recovers what its jobs raise: re-raise the panic on a
		// goroutine of its own, where nothing does, and let nothing of
		// this job go on (no recovery log, no close) until the process
		// dies of it.
		go panic(r)
		select {}
	}
	stack := debug.Stack()
	e.recovered("pool job", r, stack)
	if c != nil {
		_ = c.push(task{kind: taskClose, err: &PanicError{Value: r, Stack: stack}})
	}
}
