package evloop

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// scHandler echoes, answers "fill" with payload (more than the kernel
// holds for a client that does not read), and counts OnClose per
// connection and OnShutdown.
type scHandler struct {
	BaseHandler
	payload []byte

	mu               sync.Mutex
	opens            int
	closes           map[Conn]int
	closesAtShutdown int
	shutdowns        atomic.Int64
	filled           chan int // OutboundBuffered after the fill
}

func (h *scHandler) OnOpen(c Conn) ([]byte, Action) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.opens++
	return nil, None
}

func (h *scHandler) OnTraffic(c Conn) Action {
	b, _ := c.Next(-1)
	if string(b) == "fill" {
		if _, err := c.Write(h.payload); err != nil {
			return Close
		}
		h.filled <- c.OutboundBuffered()
		return None
	}
	if _, err := c.Write(b); err != nil {
		return Close
	}
	return None
}

func (h *scHandler) OnClose(c Conn, _ error) Action {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closes[c]++
	return None
}

func (h *scHandler) OnShutdown(Engine) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, n := range h.closes {
		h.closesAtShutdown += n
	}
	h.shutdowns.Add(1)
}

// TestStopCancelledContext: Stop with a context cancelled before the call
// returns at once, with ctx's error (or nil if the stop already
// finished); the engine still stops: Run returns nil without waiting for
// output that cannot be flushed (the drain is skipped), every
// connection's OnClose runs exactly once, then OnShutdown.
func TestStopCancelledContext(t *testing.T) {
	h := &scHandler{payload: itPattern(0, 8<<20), closes: make(map[Conn]int), filled: make(chan int, 1)}
	s := startEngine(t, h, "tcp://127.0.0.1:0", WithLoops(2), WithSocketSendBuffer(64<<10))
	const clients = 4
	conns := itDialPinged(t, s, clients)
	stuck := s.dial(t)
	fcSmallBuffers(t, stuck)
	if _, err := stuck.Write([]byte("fill")); err != nil {
		t.Fatal(err)
	}
	if out := tbRecv(t, h.filled, 5*time.Second, "the fill"); out == 0 {
		t.Fatal("the fill left nothing pending: the test would not show the drain is skipped")
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	err := asCall(func() error { return s.eng.Stop(ctx) })
	took := time.Since(start)
	if err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("Stop with a cancelled context = %v, want context.Canceled (or nil)", err)
	}
	if took > time.Second {
		t.Errorf("Stop with a cancelled context took %v, want it to return at once", took)
	}
	if err := itAwaitRun(t, s, 5*time.Second); err != nil {
		t.Errorf("Run = %v after Stop, want nil", err)
	}
	t.Logf("Stop returned %v after %v; Run returned %v after the call", err, took.Round(time.Microsecond), time.Since(start).Round(time.Millisecond))

	h.mu.Lock()
	opens, closesAtShutdown := h.opens, h.closesAtShutdown
	var per []string
	total := 0
	for _, n := range h.closes {
		total += n
		if n != 1 {
			per = append(per, fmt.Sprint(n))
		}
	}
	h.mu.Unlock()
	if opens != clients+1 || total != opens || len(per) > 0 {
		t.Errorf("%d connections opened, %d OnClose calls (connections closed more than once: %v); want %d, each closed once", opens, total, per, clients+1)
	}
	if n := h.shutdowns.Load(); n != 1 || closesAtShutdown != opens {
		t.Errorf("OnShutdown ran %d times, after %d OnClose calls; want once, after all %d", n, closesAtShutdown, opens)
	}
	for _, nc := range conns {
		itExpectClosedByServer(t, nc)
	}
}
