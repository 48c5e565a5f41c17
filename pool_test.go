package evloop

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/panjf2000/ants/v2"
)

// TestEngineSubmit: Engine.Submit runs a job on a pool goroutine, and fails
// with ErrEngineStopped once the engine is stopped.
func TestEngineSubmit(t *testing.T) {
	s := startEngine(t, &tbHandler{}, "tcp://127.0.0.1:0", WithLoops(1), WithLogger(tbQuietLogger()))
	ran := make(chan uint64, 1)
	if err := s.eng.Submit(func() { ran <- tbGoroutineID() }); err != nil {
		t.Fatalf("Submit: %v", err)
	}
	if g := tbRecv(t, ran, 5*time.Second, "the job"); g == tbGoroutineID() {
		t.Error("the job ran on the test goroutine")
	}
	// A panicking job is recovered and counted; the pool keeps working.
	if err := s.eng.Submit(func() { panic("job without a connection") }); err != nil {
		t.Fatalf("Submit: %v", err)
	}
	if !itEventually(5*time.Second, func() bool { return s.eng.Stats().Panics == 1 }) {
		t.Errorf("Stats().Panics = %d after a panicking job, want 1", s.eng.Stats().Panics)
	}
	if err := s.eng.Submit(func() { ran <- 1 }); err != nil {
		t.Fatalf("Submit after a panic: %v", err)
	}
	tbRecv(t, ran, 5*time.Second, "the job after the panic")
	s.stop(t)
	if err := s.eng.Submit(func() { ran <- 0 }); !errors.Is(err, ErrEngineStopped) {
		t.Errorf("Submit after Stop = %v, want ErrEngineStopped", err)
	}
}

// TestPoolOverload: with one pool goroutine busy, Submit fails with
// ErrPoolOverload instead of blocking, from Engine and from Conn alike, and
// works again once the job has finished.
func TestPoolOverload(t *testing.T) {
	connSubmit := make(chan error, 1)
	h := &tbHandler{traffic: func(c Conn) Action {
		_, _ = c.Discard(c.InboundBuffered())
		connSubmit <- c.Submit(func() {})
		return None
	}}
	s := startEngine(t, h, "tcp://127.0.0.1:0", WithLoops(1), WithPoolSize(1))
	started, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	unblock := func() { once.Do(func() { close(release) }) }
	t.Cleanup(unblock) // before the engine's stop, which waits for jobs
	if err := s.eng.Submit(func() { close(started); <-release }); err != nil {
		t.Fatalf("first Submit: %v", err)
	}
	tbRecv(t, started, 5*time.Second, "the blocking job")
	if err := s.eng.Submit(func() {}); !errors.Is(err, ErrPoolOverload) {
		t.Errorf("Engine.Submit with the pool full = %v, want ErrPoolOverload", err)
	}
	cl := s.dial(t)
	if _, err := cl.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := tbRecv(t, connSubmit, 5*time.Second, "Conn.Submit"); !errors.Is(err, ErrPoolOverload) {
		t.Errorf("Conn.Submit with the pool full = %v, want ErrPoolOverload", err)
	}
	unblock()
	done := make(chan struct{})
	if !itEventually(5*time.Second, func() bool { return s.eng.Submit(func() { close(done) }) == nil }) {
		t.Fatal("Submit still fails 5s after the blocking job finished")
	}
	tbRecv(t, done, 5*time.Second, "the job after the overload")
}

var tbErrBoom = errors.New("boom")

// TestPoolJobPanic: a job submitted for a connection that panics closes
// that connection with a *PanicError carrying the value; the engine keeps
// serving others.
func TestPoolJobPanic(t *testing.T) {
	tests := []struct {
		name   string
		value  any
		wantIs error
	}{
		{name: "string", value: "boom"},
		{name: "error", value: fmt.Errorf("wrapped: %w", tbErrBoom), wantIs: tbErrBoom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			closeErrs := make(chan error, 4)
			h := &tbHandler{
				traffic: func(c Conn) Action {
					b, _ := c.Next(-1)
					if string(b) == "panic" {
						if err := c.Submit(func() { panic(tt.value) }); err != nil {
							closeErrs <- fmt.Errorf("Submit: %w", err)
						}
						return None
					}
					_, _ = c.Write(b)
					return None
				},
				close: func(_ Conn, err error) Action { closeErrs <- err; return None },
			}
			s := startEngine(t, h, "tcp://127.0.0.1:0", WithLoops(1), WithLogger(tbQuietLogger()))
			bystander := s.dial(t)
			victim := s.dial(t)
			if err := victim.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
				t.Fatal(err)
			}
			if _, err := victim.Write([]byte("panic")); err != nil {
				t.Fatal(err)
			}
			if n, err := victim.Read(make([]byte, 1)); err == nil {
				t.Fatalf("victim read %d bytes, want the connection closed", n)
			}
			err := tbRecv(t, closeErrs, 5*time.Second, "OnClose")
			var perr *PanicError
			if !errors.As(err, &perr) {
				t.Fatalf("OnClose error = %v (%T), want a *PanicError", err, err)
			}
			if perr.Value != tt.value || len(perr.Stack) == 0 {
				t.Errorf("PanicError{Value: %v, %d-byte stack}, want Value %v and a stack", perr.Value, len(perr.Stack), tt.value)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("errors.Is(%v, %v) = false: PanicError does not unwrap the panic value", err, tt.wantIs)
			}
			if n := s.eng.Stats().Panics; n != 1 {
				t.Errorf("Stats().Panics = %d, want 1", n)
			}
			if err := tbEcho(bystander, []byte("still here"), 5*time.Second); err != nil {
				t.Errorf("other connection after the panic: %v", err)
			}
		})
	}
}

// TestExternalPool: with WithPool the engine runs Engine.Submit,
// Conn.Submit and Conn.Execute jobs on the given pool (its workers run them,
// and its size is the limit: a third job finds it full), and leaves the
// pool running when it stops. An engine that kept using a pool of its own
// (DefaultPoolSize workers) would take the third job.
func TestExternalPool(t *testing.T) {
	p, err := ants.NewPool(2, ants.WithNonblocking(true))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = p.ReleaseTimeout(5 * time.Second) }()
	opened := make(chan Conn, 1)
	h := &tbHandler{open: func(c Conn) ([]byte, Action) { opened <- c; return nil, None }}
	s := startEngine(t, h, "tcp://127.0.0.1:0", WithLoops(1), WithPool(p))
	s.dial(t)
	c := tbRecv(t, opened, 5*time.Second, "OnOpen")
	if n := p.Running(); n != 0 {
		t.Fatalf("the given pool runs %d workers before any job, want 0", n)
	}

	release := make(chan struct{})
	released := false
	defer func() {
		if !released {
			close(release)
		}
	}()
	started := make(chan string, 2)
	blocker := func(name string) func() {
		return func() {
			started <- name
			<-release
		}
	}
	if err := s.eng.Submit(blocker("Engine.Submit")); err != nil {
		t.Fatalf("Engine.Submit: %v", err)
	}
	if err := c.Submit(blocker("Conn.Submit")); err != nil {
		t.Fatalf("Conn.Submit: %v", err)
	}
	tbRecv(t, started, 5*time.Second, "the first job")
	tbRecv(t, started, 5*time.Second, "the second job")
	if n := p.Running(); n != 2 {
		t.Errorf("the given pool runs %d workers while both jobs block, want 2: a job ran elsewhere", n)
	}
	if err := s.eng.Submit(func() {}); !errors.Is(err, ErrPoolOverload) {
		t.Errorf("Engine.Submit with the given pool full = %v, want ErrPoolOverload", err)
	}
	if err := c.Submit(func() {}); !errors.Is(err, ErrPoolOverload) {
		t.Errorf("Conn.Submit with the given pool full = %v, want ErrPoolOverload", err)
	}
	if err := c.Execute(func() {}); !errors.Is(err, ErrPoolOverload) {
		t.Errorf("Conn.Execute with the given pool full = %v, want ErrPoolOverload", err)
	}
	close(release)
	released = true

	// The workers are free again: Execute runs there too.
	ran := make(chan struct{}, 3)
	if !itEventually(5*time.Second, func() bool { return c.Execute(func() { ran <- struct{}{} }) == nil }) {
		t.Fatal("Conn.Execute kept failing after the pool's jobs returned")
	}
	tbRecv(t, ran, 5*time.Second, "the Execute job")

	s.stop(t)
	if p.IsClosed() {
		t.Fatal("the engine released a pool it does not own")
	}
	if err := p.Submit(func() { ran <- struct{}{} }); err != nil {
		t.Fatalf("the pool after the engine stopped: %v", err)
	}
	tbRecv(t, ran, 5*time.Second, "a job on the pool after the engine stopped")
}
