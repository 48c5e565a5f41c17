package evloop

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// itReduced reports whether sizes must shrink: under -short and under the
// race detector, which makes every copied byte several times dearer.
func itReduced() bool { return testing.Short() || raceEnabled }

// itScale picks full or reduced by itReduced.
func itScale(full, reduced int) int {
	if itReduced() {
		return reduced
	}
	return full
}

// itPatternByte is the byte at stream offset i of the flow tests' pattern:
// byte(i*7) mixed with the higher bits of i, so that bytes delivered out of
// order by a multiple of 256 do not match by accident.
func itPatternByte(i int) byte { return byte(i*7) ^ byte(i>>8)*13 ^ byte(i>>16)*31 ^ byte(i>>24)*61 }

// itPattern returns n bytes of the pattern starting at stream offset off.
func itPattern(off, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = itPatternByte(off + i)
	}
	return b
}

// itBlockSize is the size of the shared random block echo messages are cut
// from: the largest message the echo tests send.
const itBlockSize = 4 << 20

var (
	itBlockOnce sync.Once
	itBlockData []byte
)

// itBlock returns 4 MiB of reproducible random bytes, shared read-only by
// every echo client.
func itBlock() []byte {
	itBlockOnce.Do(func() {
		r := rand.New(rand.NewPCG(1, 2))
		itBlockData = make([]byte, itBlockSize)
		for i := 0; i+8 <= len(itBlockData); i += 8 {
			v := r.Uint64()
			for k := 0; k < 8; k++ {
				itBlockData[i+k] = byte(v >> (8 * k))
			}
		}
	})
	return itBlockData
}

// itChunk is one message of an echo client: n bytes of the shared block
// from offset off.
type itChunk struct{ off, n int }

// itEchoPlan draws msgs message sizes in 1..maxSize, log-uniformly so that
// small and large messages are both common, each at a random offset.
func itEchoPlan(r *rand.Rand, msgs, maxSize int) []itChunk {
	plan := make([]itChunk, msgs)
	for i := range plan {
		n := int(math.Exp(r.Float64() * math.Log(float64(maxSize))))
		n = min(max(n, 1), maxSize)
		plan[i] = itChunk{off: r.IntN(itBlockSize - n + 1), n: n}
	}
	return plan
}

// itEchoExchange dials address, sends every chunk of plan while reading the
// echo concurrently, and compares the sha256 of the sent and received
// streams. It then half-closes the connection and expects EOF without a
// single stray byte. It runs on any goroutine and reports by its result.
func itEchoExchange(network, address string, plan []itChunk, timeout time.Duration) error {
	nc, err := itDial(network, address)
	if err != nil {
		return err
	}
	defer nc.Close()
	if err := nc.SetDeadline(time.Now().Add(timeout)); err != nil {
		return err
	}
	block := itBlock()
	total := 0
	for _, ch := range plan {
		total += ch.n
	}
	sent := sha256.New()
	werr := make(chan error, 1)
	go func() {
		for i, ch := range plan {
			b := block[ch.off : ch.off+ch.n]
			sent.Write(b)
			if _, err := nc.Write(b); err != nil {
				werr <- fmt.Errorf("write of message %d (%d bytes): %w", i, ch.n, err)
				return
			}
		}
		werr <- nil
	}()
	got := sha256.New()
	n, rerr := io.CopyN(got, nc, int64(total))
	if rerr != nil {
		nc.Close() // unblocks the writer
	}
	if err := <-werr; err != nil {
		return err
	}
	if rerr != nil {
		return fmt.Errorf("read %d of %d echoed bytes: %w", n, total, rerr)
	}
	if !bytes.Equal(sent.Sum(nil), got.Sum(nil)) {
		return fmt.Errorf("echo of %d bytes in %d messages: sha256 of received stream differs from sent", total, len(plan))
	}
	if err := itCloseWrite(nc); err != nil {
		return err
	}
	var extra [64]byte
	k, err := nc.Read(extra[:])
	if k != 0 || !errors.Is(err, io.EOF) {
		return fmt.Errorf("after the whole echo: read %d more bytes (%q), err %v; want 0, EOF", k, extra[:k], err)
	}
	return nil
}

// itDial connects with a generous timeout: 100 clients dialling at once on
// a loaded 2-core machine can take seconds to be scheduled. The error says
// how long the dial really took.
func itDial(network, address string) (net.Conn, error) {
	start := time.Now()
	nc, err := net.DialTimeout(network, address, 20*time.Second)
	if err != nil {
		return nil, fmt.Errorf("dial after %v: %w", time.Since(start).Round(time.Millisecond), err)
	}
	return nc, nil
}

// itCloseWrite shuts down the writing side of a TCP or Unix connection.
func itCloseWrite(nc net.Conn) error {
	cw, ok := nc.(interface{ CloseWrite() error })
	if !ok {
		return fmt.Errorf("%T cannot half-close", nc)
	}
	if err := cw.CloseWrite(); err != nil {
		return fmt.Errorf("CloseWrite: %w", err)
	}
	return nil
}

// itServe runs h on every address of addrs with RunAddrs, like startEngine
// does for one address, and stops it when the test ends.
func itServe(tb testing.TB, h EventHandler, addrs []string, opts ...Option) *testServer {
	tb.Helper()
	hook := &bootHook{EventHandler: h, booted: make(chan Engine, 1)}
	s := &testServer{errc: make(chan error, 1)}
	go func() { s.errc <- RunAddrs(hook, addrs, opts...) }()
	select {
	case s.eng = <-hook.booted:
	case err := <-s.errc:
		tb.Fatalf("RunAddrs returned before boot: %v", err)
	case <-time.After(10 * time.Second):
		tb.Fatal("engine did not boot within 10s")
	}
	s.addr = s.eng.Addrs()[0]
	tb.Cleanup(func() { s.stop(tb) })
	return s
}

// itAwaitRun waits for Run to return after a stop the test started itself,
// and marks the server stopped so the cleanup does not stop it again.
func itAwaitRun(tb testing.TB, s *testServer, within time.Duration) error {
	tb.Helper()
	select {
	case err := <-s.errc:
		s.errc = nil
		return err
	case <-time.After(within):
		tb.Fatalf("Run did not return within %v", within)
		return nil
	}
}

// itQuietLogger returns a logger whose output the test can inspect instead
// of the engine writing stacks to stderr.
func itQuietLogger() (*slog.Logger, *itLogBuffer) {
	buf := &itLogBuffer{}
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

// itLogBuffer is a bytes.Buffer safe for the loops to log into.
type itLogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *itLogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *itLogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// itEventually polls cond every few milliseconds until it holds or within
// passes, and reports whether it held.
func itEventually(within time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(within)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// itSettleGoroutines waits until no more goroutines run than baseline.
func itSettleGoroutines(within time.Duration, baseline int) (int, bool) {
	n := 0
	ok := itEventually(within, func() bool {
		n = runtime.NumGoroutine()
		return n <= baseline
	})
	return n, ok
}

// itPoolEcho echoes through the engine's pool: OnTraffic copies the bytes
// and a pool job sends them back with AsyncWrite. Jobs of one connection
// could run concurrently and reorder the replies, so each connection keeps
// a FIFO of received chunks and at most one job per connection drains it,
// in order; AsyncWrite queues to the loop in call order, which keeps the
// stream in order. It counts what the stop and race tests check.
type itPoolEcho struct {
	BaseHandler

	opens, closes atomic.Int64
	doubleClose   atomic.Int64 // OnClose ran again for a connection
	asyncOK       atomic.Int64 // AsyncWrite returned nil
	callbacks     atomic.Int64 // AsyncWrite callbacks that ran
	doubleCB      atomic.Int64 // a callback that ran more than once
	badCB         atomic.Int64 // a callback error other than ErrClosed
	asyncErr      atomic.Int64 // AsyncWrite returned an error (must be ErrClosed or ErrEngineStopped)

	failMu sync.Mutex
	fails  []error
}

// itFIFO is one connection's state in itPoolEcho.
type itFIFO struct {
	mu      sync.Mutex
	pending [][]byte
	running bool // a job owns the draining
	closed  int  // OnClose runs seen, loop only
}

func (h *itPoolEcho) fail(err error) {
	h.failMu.Lock()
	defer h.failMu.Unlock()
	if len(h.fails) < 10 {
		h.fails = append(h.fails, err)
	}
}

func (h *itPoolEcho) OnOpen(c Conn) ([]byte, Action) {
	h.opens.Add(1)
	c.SetContext(&itFIFO{})
	return nil, None
}

func (h *itPoolEcho) OnClose(c Conn, _ error) Action {
	h.closes.Add(1)
	if q, ok := c.Context().(*itFIFO); ok {
		q.closed++
		if q.closed > 1 {
			h.doubleClose.Add(1)
		}
	}
	return None
}

func (h *itPoolEcho) OnTraffic(c Conn) Action {
	q := c.Context().(*itFIFO)
	b, _ := c.Next(-1)
	b = bytes.Clone(b)
	q.mu.Lock()
	q.pending = append(q.pending, b)
	start := !q.running
	q.running = true
	q.mu.Unlock()
	if !start {
		return None
	}
	if err := c.Submit(func() { h.drain(c, q) }); err != nil {
		q.mu.Lock()
		q.running = false
		q.mu.Unlock()
		if !errors.Is(err, ErrEngineStopped) && !errors.Is(err, ErrClosed) {
			h.fail(fmt.Errorf("Submit: %w", err))
		}
		return Close
	}
	return None
}

// drain runs on the pool and sends the connection's chunks in order.
func (h *itPoolEcho) drain(c Conn, q *itFIFO) {
	for {
		q.mu.Lock()
		if len(q.pending) == 0 {
			q.running = false
			q.mu.Unlock()
			return
		}
		b := q.pending[0]
		q.pending[0] = nil
		q.pending = q.pending[1:]
		q.mu.Unlock()
		if err := c.AsyncWrite(b, h.callback()); err != nil {
			h.asyncErr.Add(1)
			if !errors.Is(err, ErrClosed) && !errors.Is(err, ErrEngineStopped) {
				h.fail(fmt.Errorf("AsyncWrite: %w", err))
			}
			continue // the rest fails the same way; keep draining so running ends false
		}
		h.asyncOK.Add(1)
	}
}

// callback returns a fresh AsyncCallback that checks it runs exactly once.
func (h *itPoolEcho) callback() AsyncCallback {
	var runs atomic.Int32
	return func(_ Conn, err error) {
		h.callbacks.Add(1)
		if runs.Add(1) > 1 {
			h.doubleCB.Add(1)
		}
		if err != nil && !errors.Is(err, ErrClosed) {
			h.badCB.Add(1)
			h.fail(fmt.Errorf("AsyncWrite callback: %w", err))
		}
	}
}

// check verifies the counters once the engine has stopped: every
// AsyncWrite that returned nil had its callback run exactly once, and
// OnClose ran exactly once per OnOpen.
func (h *itPoolEcho) check(tb testing.TB) {
	tb.Helper()
	h.failMu.Lock()
	for _, err := range h.fails {
		tb.Errorf("handler: %v", err)
	}
	h.failMu.Unlock()
	if ok, cb := h.asyncOK.Load(), h.callbacks.Load(); ok != cb {
		tb.Errorf("AsyncWrite returned nil %d times but callbacks ran %d times", ok, cb)
	}
	if n := h.doubleCB.Load(); n != 0 {
		tb.Errorf("%d AsyncWrite callbacks ran more than once", n)
	}
	if n := h.badCB.Load(); n != 0 {
		tb.Errorf("%d AsyncWrite callbacks got an error other than ErrClosed", n)
	}
	if o, c := h.opens.Load(), h.closes.Load(); o != c {
		tb.Errorf("OnOpen ran %d times, OnClose %d times", o, c)
	}
	if n := h.doubleClose.Load(); n != 0 {
		tb.Errorf("OnClose ran more than once for %d connections", n)
	}
}
