package evloop

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// ftRestartHandler echoes and hands each opened connection to the test.
type ftRestartHandler struct {
	echoHandler
	opened chan Conn
}

func (h *ftRestartHandler) OnOpen(c Conn) ([]byte, Action) {
	select {
	case h.opened <- c:
	default:
	}
	return nil, None
}

// ftStopRace stops s from two goroutines at once and checks that both
// calls, and Run, return nil in time.
func ftStopRace(tb testing.TB, s *testServer) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	errs := make(chan error, 2)
	for range 2 {
		go func() { errs <- s.eng.Stop(ctx) }()
	}
	for i := 0; i < 2; i++ {
		if err, ok := ftAwait(errs, 12*time.Second); !ok {
			tb.Fatal("a concurrent Stop did not return within 12s")
		} else if err != nil {
			tb.Errorf("concurrent Stop = %v, want nil", err)
		}
	}
	if err := itAwaitRun(tb, s, 10*time.Second); err != nil {
		tb.Errorf("Run = %v after Stop, want nil", err)
	}
}

// TestRestartCycles runs and stops an engine 100 times (20 under -short or
// the race detector) on the same TCP address and the same unix socket
// path. Every cycle binds again (TIME_WAIT from the previous cycle's
// server-side close does not get in the way), serves a client, is stopped
// by two racing Stops, and then refuses an AsyncWrite on the connection it
// served without blocking. To see it fail, turn WithReuseAddr's default
// off, leave the unix socket file behind without clearing it at bind, or
// make a second Stop return an error.
func TestRestartCycles(t *testing.T) {
	cycles := itScale(100, 20)
	tests := []struct {
		name  string
		first func(t *testing.T) string // the first cycle's address
	}{
		{name: "tcp", first: func(*testing.T) string { return "tcp://127.0.0.1:0" }},
		{name: "unix", first: func(t *testing.T) string { return "unix://" + filepath.Join(t.TempDir(), "restart.sock") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			grBase, fdBase := runtime.NumGoroutine(), itCountFDs(t)
			addr := tt.first(t)
			start := time.Now()
			for cycle := 0; cycle < cycles && !t.Failed(); cycle++ {
				h := &ftRestartHandler{opened: make(chan Conn, 1)}
				s := startEngine(t, h, addr, WithLoops(2), WithLogger(tbQuietLogger()))
				if cycle == 0 && s.addr.Network() == "tcp" {
					addr = "tcp://" + s.addr.String()
				}
				nc := s.dial(t)
				if err := tbEcho(nc, []byte(fmt.Sprintf("cycle %d", cycle)), 10*time.Second); err != nil {
					t.Fatalf("cycle %d on %s: %v", cycle, addr, err)
				}
				c := tbRecv(t, h.opened, 10*time.Second, "OnOpen")
				ftStopRace(t, s)

				// The served connection is gone: its client reads EOF, and an
				// AsyncWrite on it fails at once.
				if err := nc.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
					t.Fatal(err)
				}
				if n, err := nc.Read(make([]byte, 16)); n != 0 || !errors.Is(err, io.EOF) {
					t.Errorf("cycle %d: client read %d bytes, %v after Stop; want EOF", cycle, n, err)
				}
				nc.Close()
				res := make(chan error, 2)
				go func() {
					res <- c.AsyncWrite([]byte("late"), func(Conn, error) {
						res <- errors.New("the callback of a refused AsyncWrite ran")
					})
				}()
				switch err, ok := ftAwait(res, 2*time.Second); {
				case !ok:
					t.Fatalf("cycle %d: AsyncWrite after Stop blocked for 2s", cycle)
				case !errors.Is(err, ErrClosed) && !errors.Is(err, ErrEngineStopped):
					t.Errorf("cycle %d: AsyncWrite after Stop = %v, want ErrClosed or ErrEngineStopped", cycle, err)
				}
				stopped := make(chan error, 1)
				go func() { stopped <- s.eng.Stop(context.Background()) }()
				if err, ok := ftAwait(stopped, 2*time.Second); !ok || err != nil {
					t.Errorf("cycle %d: Stop of a stopped engine returned %v (in time: %v), want nil at once", cycle, err, ok)
				}
			}
			t.Logf("%d cycles on %s in %v", cycles, addr, time.Since(start).Round(time.Millisecond))
			if n, ok := itSettleGoroutines(5*time.Second, grBase); !ok {
				t.Errorf("%d goroutines after the cycles, %d before", n, grBase)
			}
			if !itEventually(5*time.Second, func() bool { return itCountFDs(t) <= fdBase }) {
				t.Errorf("%d descriptors after the cycles, %d before", itCountFDs(t), fdBase)
			}
		})
	}
}
