package evloop

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime"
	"testing"
	"time"
)

// tbHandler is an EventHandler assembled from optional functions; a nil
// function behaves like BaseHandler.
type tbHandler struct {
	boot     func(Engine) Action
	shutdown func(Engine)
	open     func(Conn) ([]byte, Action)
	close    func(Conn, error) Action
	traffic  func(Conn) Action
	tick     func() (time.Duration, Action)
}

func (h *tbHandler) OnBoot(e Engine) Action {
	if h.boot == nil {
		return None
	}
	return h.boot(e)
}

func (h *tbHandler) OnShutdown(e Engine) {
	if h.shutdown != nil {
		h.shutdown(e)
	}
}

func (h *tbHandler) OnOpen(c Conn) ([]byte, Action) {
	if h.open == nil {
		return nil, None
	}
	return h.open(c)
}

func (h *tbHandler) OnClose(c Conn, err error) Action {
	if h.close == nil {
		return None
	}
	return h.close(c, err)
}

func (h *tbHandler) OnTraffic(c Conn) Action {
	if h.traffic == nil {
		return None
	}
	return h.traffic(c)
}

func (h *tbHandler) OnTick() (time.Duration, Action) {
	if h.tick == nil {
		return time.Second, None
	}
	return h.tick()
}

// tbGoroutineID parses the calling goroutine's id from the header of its
// stack trace ("goroutine 42 [running]:"). It is the test's own parser, so
// that tests about which goroutine runs a callback do not trust the engine's.
func tbGoroutineID() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	var id uint64
	for _, ch := range b {
		if ch < '0' || ch > '9' {
			break
		}
		id = id*10 + uint64(ch-'0')
	}
	return id
}

// tbQuietLogger keeps expected warnings (back-offs, recovered panics) out of
// the test output.
func tbQuietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// tbScale returns n, divided by div under -short or the race detector.
func tbScale(n, div int) int {
	if testing.Short() || raceEnabled {
		return max(n/div, 1)
	}
	return n
}

// tbEcho writes msg on c and checks that the same bytes come back within
// timeout. It returns an error instead of failing a test, so goroutines may
// use it.
func tbEcho(c net.Conn, msg []byte, timeout time.Duration) error {
	if err := c.SetDeadline(time.Now().Add(timeout)); err != nil {
		return err
	}
	defer c.SetDeadline(time.Time{})
	if _, err := c.Write(msg); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil {
		return fmt.Errorf("read echo: %w", err)
	}
	if !bytes.Equal(got, msg) {
		return fmt.Errorf("echo = %q, want %q", got, msg)
	}
	return nil
}

// tbDial connects to addr with a timeout and closes the connection when the
// test ends.
func tbDial(tb testing.TB, addr net.Addr) net.Conn {
	tb.Helper()
	c, err := net.DialTimeout(addr.Network(), addr.String(), 5*time.Second)
	if err != nil {
		tb.Fatalf("dial %v: %v", addr, err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// tbRecv waits up to timeout for a value on ch.
func tbRecv[T any](tb testing.TB, ch <-chan T, timeout time.Duration, what string) T {
	tb.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(timeout):
		tb.Fatalf("timed out after %v waiting for %s", timeout, what)
	}
	var zero T
	return zero
}

// tbPattern returns n bytes of a pattern that depends on the offset, so a
// reordered, lost or duplicated chunk shows in a comparison.
func tbPattern(off, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		p := off + i
		b[i] = byte(p*7 + p/251)
	}
	return b
}

// tbFirstDiff returns the first offset where a and b differ, or -1.
func tbFirstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}
