package evloop

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/panjf2000/ants/v2"
)

// What the docs promise about the engine's edges: failures found by timers
// are acted on, Submit after a stop, Run's result after a panic in OnBoot,
// the zero Engine, and RunContext.

// TestTickFailureSettles writes past the outbound cap from OnTick to an
// idle connection of loop 0. The write fails with ErrOutboundFull, and the
// connection must be closed (OnClose with that error) although no other
// event reaches the loop. Before the fix the failure was recorded but never
// acted on: OnClose never ran.
func TestTickFailureSettles(t *testing.T) {
	target := make(chan Conn, 1)
	big := make([]byte, 2<<20)
	wrote := make(chan error, 1)
	closes := make(chan error, 1)
	h := &tbHandler{
		open: func(c Conn) ([]byte, Action) { target <- c; return nil, None },
		tick: func() (time.Duration, Action) {
			select {
			case c := <-target:
				_, err := c.Write(big)
				wrote <- err
			default:
			}
			return 10 * time.Millisecond, None
		},
		close: func(_ Conn, err error) Action { closes <- err; return None },
	}
	s := itServe(t, h, []string{"tcp://127.0.0.1:0"}, WithLoops(1), WithTicker(true),
		WithOutboundWatermarks(256<<10, 64<<10), WithOutboundLimit(1<<20))
	// The server may reset the connection before the dial returns.
	if nc, err := net.Dial("tcp", s.addr.String()); err == nil {
		defer nc.Close()
	}
	if err := tbRecv(t, wrote, 5*time.Second, "the write from OnTick"); !errors.Is(err, ErrOutboundFull) {
		t.Fatalf("Write from OnTick = %v, want ErrOutboundFull", err)
	}
	if err := tbRecv(t, closes, 5*time.Second, "OnClose after a failure in OnTick"); !errors.Is(err, ErrOutboundFull) {
		t.Errorf("OnClose(%v), want ErrOutboundFull", err)
	}
}

// TestSubmitAfterStop: once the engine has stopped, Engine.Submit and
// Conn.Submit refuse with ErrEngineStopped and do not run the job, with
// the engine's own pool and with a pool given by WithPool (which the
// engine does not release, so only the engine can refuse). Before the fix
// the WithPool case returned nil and ran the job.
func TestSubmitAfterStop(t *testing.T) {
	for _, external := range []bool{false, true} {
		name := map[bool]string{false: "own pool", true: "WithPool"}[external]
		t.Run(name, func(t *testing.T) {
			var opts []Option
			if external {
				p, err := ants.NewPool(4, ants.WithNonblocking(true))
				if err != nil {
					t.Fatal(err)
				}
				defer p.Release()
				opts = append(opts, WithPool(p))
			}
			conns := make(chan Conn, 1)
			h := &tbHandler{open: func(c Conn) ([]byte, Action) { conns <- c; return nil, None }}
			s := itServe(t, h, []string{"tcp://127.0.0.1:0"}, append(opts, WithLoops(1))...)
			s.dial(t)
			c := tbRecv(t, conns, 5*time.Second, "the connection")
			eng := s.eng
			s.stop(t)
			var ran atomic.Bool
			if err := eng.Submit(func() { ran.Store(true) }); !errors.Is(err, ErrEngineStopped) {
				t.Errorf("Engine.Submit after stop = %v, want ErrEngineStopped", err)
			}
			if err := c.Submit(func() { ran.Store(true) }); !errors.Is(err, ErrClosed) && !errors.Is(err, ErrEngineStopped) {
				t.Errorf("Conn.Submit after stop = %v, want ErrClosed or ErrEngineStopped", err)
			}
			if ran.Load() {
				t.Error("a job submitted after the stop ran")
			}
		})
	}
}

// TestRunReturnsBootPanic: a panic in OnBoot is recovered, the engine
// serves nothing, and Run returns the *PanicError (not nil, which would
// read as a requested stop). Before the fix Run returned nil.
func TestRunReturnsBootPanic(t *testing.T) {
	h := &tbHandler{boot: func(Engine) Action { panic("boot failed") }}
	err := Run(h, "tcp://127.0.0.1:0", WithLoops(1), WithLogger(tbQuietLogger()))
	var pe *PanicError
	if !errors.As(err, &pe) || pe.Value != "boot failed" || len(pe.Stack) == 0 {
		t.Fatalf("Run = %v, want the *PanicError of OnBoot's panic with its stack", err)
	}
}

// TestZeroEngine: every method of the zero Engine is safe and answers with
// a clear error or a zero value.
func TestZeroEngine(t *testing.T) {
	var eng Engine
	if err := eng.Stop(context.Background()); !errors.Is(err, ErrEngineStopped) {
		t.Errorf("Stop = %v, want ErrEngineStopped", err)
	}
	if err := eng.Submit(func() { t.Error("job ran") }); !errors.Is(err, ErrEngineStopped) {
		t.Errorf("Submit = %v, want ErrEngineStopped", err)
	}
	if n := eng.CountConnections(); n != 0 {
		t.Errorf("CountConnections = %d", n)
	}
	if a := eng.Addrs(); a != nil {
		t.Errorf("Addrs = %v", a)
	}
	if ls := eng.Loops(); ls != nil {
		t.Errorf("Loops = %v", ls)
	}
	if st := eng.Stats(); !reflect.DeepEqual(st, Stats{}) {
		t.Errorf("Stats = %+v", st)
	}
	var lp Loop
	if lp.Index() != -1 || lp.CountConnections() != 0 || lp.String() != "loop -1" {
		t.Errorf("zero Loop: Index %d, CountConnections %d, %q", lp.Index(), lp.CountConnections(), lp)
	}
}

// TestRunContext: RunContext serves until its context ends, then stops
// gracefully: pending output is flushed, every connection gets OnClose,
// OnShutdown runs and RunContext returns nil. A context that is already
// done stops the engine right after boot.
func TestRunContext(t *testing.T) {
	t.Run("cancel", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		addrs := make(chan net.Addr, 1)
		closes := make(chan error, 1)
		shut := make(chan struct{})
		h := &tbHandler{
			boot:     func(e Engine) Action { addrs <- e.Addrs()[0]; return None },
			traffic:  echoHandler{}.OnTraffic,
			close:    func(_ Conn, err error) Action { closes <- err; return None },
			shutdown: func(Engine) { close(shut) },
		}
		errc := make(chan error, 1)
		go func() { errc <- RunContext(ctx, h, "tcp://127.0.0.1:0", WithLoops(1)) }()
		nc := tbDial(t, tbRecv(t, addrs, 5*time.Second, "boot"))
		defer nc.Close()
		if err := tbEcho(nc, []byte("ping"), 5*time.Second); err != nil {
			t.Fatal(err)
		}
		cancel()
		if err := tbRecv(t, errc, 10*time.Second, "RunContext to return"); err != nil {
			t.Errorf("RunContext = %v, want nil after its context ended", err)
		}
		if err := tbRecv(t, closes, time.Second, "OnClose"); err != nil {
			t.Errorf("OnClose(%v), want nil", err)
		}
		tbRecv(t, shut, time.Second, "OnShutdown")
		itExpectClosedByServer(t, nc)
	})
	t.Run("already done", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		booted := make(chan struct{}, 1)
		h := &tbHandler{boot: func(Engine) Action { booted <- struct{}{}; return None }}
		if err := RunContext(ctx, h, "tcp://127.0.0.1:0", WithLoops(1)); err != nil {
			t.Errorf("RunContext = %v, want nil", err)
		}
		tbRecv(t, booted, time.Second, "OnBoot")
	})
}

// TestStopTimeoutOption: WithStopTimeout bounds the drain of a stop that
// has no context of its own (RunContext's end, a Shutdown action). A peer
// that reads nothing keeps output pending: the stop gives up after the
// option's 100 ms, far sooner than DefaultStopTimeout, and the connection
// gets ErrStopTimeout and a reset.
func TestStopTimeoutOption(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addrs := make(chan net.Addr, 1)
	wrote := make(chan error, 1)
	closes := make(chan error, 1)
	big := bytes.Repeat([]byte("z"), 8<<20)
	h := &tbHandler{
		boot: func(e Engine) Action { addrs <- e.Addrs()[0]; return None },
		traffic: func(c Conn) Action {
			c.Discard(-1)
			_, err := c.Write(big)
			wrote <- err
			return None
		},
		close: func(_ Conn, err error) Action { closes <- err; return None },
	}
	errc := make(chan error, 1)
	go func() {
		errc <- RunContext(ctx, h, "tcp://127.0.0.1:0", WithLoops(1), WithStopTimeout(100*time.Millisecond),
			WithSocketSendBuffer(64<<10), WithOutboundWatermarks(16<<20, 1<<20), WithOutboundLimit(32<<20))
	}()
	nc := tbDial(t, tbRecv(t, addrs, 5*time.Second, "boot"))
	defer nc.Close()
	if _, err := nc.Write([]byte("go")); err != nil {
		t.Fatal(err)
	}
	if err := tbRecv(t, wrote, 5*time.Second, "the write"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	cancel()
	if err := tbRecv(t, errc, 10*time.Second, "RunContext to return"); err != nil {
		t.Errorf("RunContext = %v", err)
	}
	if took := time.Since(start); took >= DefaultStopTimeout {
		t.Errorf("the stop took %v: WithStopTimeout(100ms) was not applied", took)
	}
	if err := tbRecv(t, closes, time.Second, "OnClose"); !errors.Is(err, ErrStopTimeout) {
		t.Errorf("OnClose(%v), want ErrStopTimeout", err)
	}
	if err := nc.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(io.Discard, nc); !itIsReset(err) {
		t.Errorf("client read ended with %v, want a reset", err)
	}
}
