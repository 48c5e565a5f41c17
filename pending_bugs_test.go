package evloop

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"
)

// Tests of known bugs in the engine, failing until they are fixed.

// TestStopCutOutputResets: a connection whose pending output Stop's drain
// could not flush (the client does not read, ctx ends) loses that output
// when the stop closes it. Like a close for the outbound cap or the linger
// time, that close must reset the connection, so the client cannot take
// the cut stream for a complete one followed by an orderly EOF, and
// OnClose must get an error, not nil ("an orderly close").
//
// Today closeAll closes it with c.failure() (nil): a FIN after the bytes
// the kernel had, and OnClose(nil).
func TestStopCutOutputResets(t *testing.T) {
	const payload = 8 << 20
	h := &scHandler{payload: itPattern(0, payload), closes: make(map[Conn]int), filled: make(chan int, 1)}
	closeErr := make(chan error, 1)
	wrapped := &tbHandler{
		open:    h.OnOpen,
		traffic: h.OnTraffic,
		close: func(c Conn, err error) Action {
			closeErr <- err
			return h.OnClose(c, err)
		},
	}
	s := startEngine(t, wrapped, "tcp://127.0.0.1:0", WithLoops(1), WithSocketSendBuffer(64<<10))
	nc := s.dial(t)
	fcSmallBuffers(t, nc)
	if _, err := nc.Write([]byte("fill")); err != nil {
		t.Fatal(err)
	}
	if out := tbRecv(t, h.filled, 5*time.Second, "the fill"); out == 0 {
		t.Fatal("nothing pending after the fill")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := s.eng.Stop(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Stop = %v, want context.DeadlineExceeded", err)
	}
	if err := itAwaitRun(t, s, 5*time.Second); err != nil {
		t.Errorf("Run = %v, want nil", err)
	}
	if err := tbRecv(t, closeErr, 5*time.Second, "OnClose"); err == nil {
		t.Error("OnClose(nil) for a connection whose pending output the stop dropped, want an error")
	}
	if err := nc.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	got, err := io.Copy(io.Discard, nc)
	if got >= payload {
		t.Fatalf("the client read all %d bytes: the drain did not cut the output, the test shows nothing", got)
	}
	if !itIsReset(err) {
		t.Errorf("the client read %d of %d bytes, then %v; want a reset, not an orderly EOF after a cut stream", got, payload, err)
	}
}

// TestRunReportsOnBootPanic: Run returns nil only after a requested stop
// (Engine.Stop, a Shutdown action). A panic in OnBoot is recovered and
// stops the engine before it serves, but Run must then say why: an error
// that unwraps to the *PanicError.
//
// Today boot() turns the panic into a Shutdown action, so Run returns nil
// as if the handler had asked to stop.
func TestRunReportsOnBootPanic(t *testing.T) {
	h := &tbHandler{boot: func(Engine) Action { panic("no config") }}
	errc := make(chan error, 1)
	go func() { errc <- Run(h, "tcp://127.0.0.1:0", WithLoops(1), WithLogger(tbQuietLogger())) }()
	err := tbRecv(t, errc, 5*time.Second, "Run")
	var perr *PanicError
	if !errors.As(err, &perr) || perr.Value != "no config" {
		t.Errorf("Run after OnBoot panicked = %v, want an error carrying the *PanicError", err)
	}
}
