package evloop

import (
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/evloop/evloop/internal/cputime"
)

// Flow control tests: a peer that sends but does not read, a relay whose
// sink is slower than its source, the outbound hard cap and the inbound
// limit. Memory is measured in this process (the server is in-process):
// the Go heap, sampled, plus the buffered counts seen on the loop.

// fcChunk is what the clients of these tests write per call.
const fcChunk = 64 << 10

// fcWriter writes the pattern stream (itPattern from offset 0) to a
// connection on its own goroutine and publishes how much it has sent.
type fcWriter struct {
	sent atomic.Int64
	done chan error // the result, once
}

// fcStartWriter writes total bytes of the pattern to nc in fcChunk writes.
// It stops early, without an error, when the write deadline until passes: a
// write blocked by flow control then returns what it sent, so sent is
// exactly the stream's length.
func fcStartWriter(nc net.Conn, total int, until time.Time) *fcWriter {
	return fcStartWriterFrom(nc, 0, total, until)
}

// fcStartWriterFrom is fcStartWriter for the stream from offset from on,
// after fcFill wrote its start.
func fcStartWriterFrom(nc net.Conn, from, total int, until time.Time) *fcWriter {
	w := &fcWriter{done: make(chan error, 1)}
	w.sent.Store(int64(from))
	go func() { w.done <- w.run(nc, from, total, until) }()
	return w
}

func (w *fcWriter) run(nc net.Conn, from, total int, until time.Time) error {
	if err := nc.SetWriteDeadline(until); err != nil {
		return err
	}
	buf := make([]byte, fcChunk)
	for off := from; off < total; {
		n := min(len(buf), total-off)
		for i := range buf[:n] {
			buf[i] = itPatternByte(off + i)
		}
		k, err := nc.Write(buf[:n])
		off += k
		w.sent.Store(int64(off))
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("client write after %d bytes: %w", off, err)
		}
	}
	return nil
}

// wait returns the writer's result, or an error if it is still running
// after timeout.
func (w *fcWriter) wait(timeout time.Duration) error {
	select {
	case err := <-w.done:
		return err
	case <-time.After(timeout):
		return fmt.Errorf("client writer still running after %v (sent %d bytes)", timeout, w.sent.Load())
	}
}

// fcRaise stores v in peak if it is larger.
func fcRaise(peak *atomic.Int64, v int) {
	for {
		cur := peak.Load()
		if int64(v) <= cur || peak.CompareAndSwap(cur, int64(v)) {
			return
		}
	}
}

// fcHeapInuse returns the heap in use now, after a collection when gc.
func fcHeapInuse(gc bool) int64 {
	if gc {
		runtime.GC()
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapInuse)
}

// fcHeapSampler samples HeapInuse every 100 ms on its own goroutine and
// keeps the peak, relative to the heap in use (after a GC) when it started.
type fcHeapSampler struct {
	base int64
	peak atomic.Int64
	stop chan struct{}
	done chan struct{}
}

func fcSampleHeap() *fcHeapSampler {
	s := &fcHeapSampler{base: fcHeapInuse(true), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			fcRaise(&s.peak, int(fcHeapInuse(false)-s.base))
			select {
			case <-s.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return s
}

// finish stops the sampling and returns the peak heap growth.
func (s *fcHeapSampler) finish() int64 {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	<-s.done
	return s.peak.Load()
}

// fcLoopBuffers asks the connection's loop, through Wake, for its
// OutboundBuffered and InboundBuffered. Wake also runs OnTraffic, which
// the handlers of these tests tolerate.
func fcLoopBuffers(c Conn, timeout time.Duration) (out, in int, err error) {
	type sizes struct {
		out, in int
		err     error
	}
	ch := make(chan sizes, 1)
	err = c.Wake(func(c Conn, err error) {
		ch <- sizes{out: c.OutboundBuffered(), in: c.InboundBuffered(), err: err}
	})
	if err != nil {
		return 0, 0, fmt.Errorf("Wake: %w", err)
	}
	select {
	case s := <-ch:
		return s.out, s.in, s.err
	case <-time.After(timeout):
		return 0, 0, fmt.Errorf("Wake callback did not run within %v", timeout)
	}
}

// fcRecvConn waits for the handler to hand over a connection.
func fcRecvConn(tb testing.TB, ch <-chan Conn) Conn {
	tb.Helper()
	return tbRecv(tb, ch, 5*time.Second, "the server side of the connection")
}

// fcStartEngine runs h on an ephemeral loopback port.
func fcStartEngine(tb testing.TB, h EventHandler, opts ...Option) *testServer {
	tb.Helper()
	return startEngine(tb, h, "tcp://127.0.0.1:0", opts...)
}

// fcEcho echoes on the loop, like the echo example, and records the peak
// OutboundBuffered and InboundBuffered after each OnTraffic.
type fcEcho struct {
	BaseHandler
	conns           chan Conn  // every opened connection, while there is room
	closes          chan error // every OnClose error, while there is room
	outPeak, inPeak atomic.Int64
}

func newFCEcho() *fcEcho {
	return &fcEcho{conns: make(chan Conn, 4), closes: make(chan error, 4)}
}

func (h *fcEcho) OnOpen(c Conn) ([]byte, Action) {
	select {
	case h.conns <- c:
	default:
	}
	return nil, None
}

func (h *fcEcho) OnTraffic(c Conn) Action {
	b, _ := c.Next(-1)
	if _, err := c.Write(b); err != nil {
		return Close
	}
	fcRaise(&h.outPeak, c.OutboundBuffered())
	fcRaise(&h.inPeak, c.InboundBuffered())
	return None
}

func (h *fcEcho) OnClose(_ Conn, err error) Action {
	select {
	case h.closes <- err:
	default:
	}
	return None
}

// TestFlowSlowReaderEcho: a client writes 64 KiB chunks to an echo server
// for 5 s (2 s reduced) and never reads. The server must stop reading once
// its output passes the high watermark, so its buffers stay near the
// watermark, its heap stays flat, its CPU stays near zero and the client's
// writes block; the connection stays open; and once the client reads,
// every byte comes back in order. An engine without the read pause grows
// OutboundBuffered with the client's writes and fails the bounds; one that
// pauses by skipping events spins and fails the CPU check.
func TestFlowSlowReaderEcho(t *testing.T) {
	const high = DefaultOutboundHigh
	phase := time.Duration(itScale(5000, 2000)) * time.Millisecond
	h := newFCEcho()
	s := startEngine(t, h, "tcp://127.0.0.1:0", WithLoops(1))
	nc := s.dial(t)
	c := fcRecvConn(t, h.conns)

	heap := fcSampleHeap()
	defer heap.finish()
	start := time.Now()
	// Filling the socket buffers both ways (tens of MiB once the kernel has
	// grown them) takes longer on a loaded machine: the writer may run up
	// to 8 s more before the server must have stopped reading.
	limit := start.Add(phase + 8*time.Second)
	w := fcStartWriter(nc, math.MaxInt, limit)

	// Sample the loop's view every 100 ms. The client is blocked once its
	// count has not moved for 400 ms (and a third of the phase has passed);
	// from then on, for two thirds of the phase, measure the CPU and check
	// that it stays blocked.
	var (
		outMax, inMax, samples, still int
		cpu0                          time.Duration
		wall0, end                    time.Time
		sentMid, last                 int64 = -1, -1
	)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for ; wall0.IsZero() || time.Now().Before(end); <-tick.C {
		if wall0.IsZero() && time.Now().After(limit.Add(-time.Second)) {
			t.Fatalf("the client was still writing after %v (%d bytes): the server did not stop reading", time.Since(start), w.sent.Load())
		}
		out, in, err := fcLoopBuffers(c, 5*time.Second)
		if err != nil {
			t.Fatalf("after %v: %v (the connection closed while the client was only slow)", time.Since(start), err)
		}
		outMax, inMax, samples = max(outMax, out), max(inMax, in), samples+1
		if !wall0.IsZero() {
			continue
		}
		if n := w.sent.Load(); n != last {
			last, still = n, 0
		} else if still++; still >= 4 && time.Since(start) >= phase/3 {
			cpu0, wall0, sentMid = cputime.Process(t), time.Now(), n
			end = wall0.Add(phase * 2 / 3)
		}
	}
	cpu, wall := cputime.Process(t)-cpu0, time.Since(wall0)
	sentEnd := w.sent.Load()
	_ = nc.SetWriteDeadline(time.Now()) // ends the writer
	if err := w.wait(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	sent := int(w.sent.Load())
	peakHeap := heap.finish()
	t.Logf("client wrote %d bytes (%.1f MiB) in %v without reading; blocked from %v on", sent, float64(sent)/(1<<20),
		time.Since(start).Round(time.Millisecond), wall0.Sub(start).Round(time.Millisecond))
	t.Logf("server: peak heap growth %.2f MiB; OutboundBuffered peak %d (after-write peak %d), InboundBuffered peak %d (after-write peak %d), %d loop samples",
		float64(peakHeap)/(1<<20), outMax, h.outPeak.Load(), inMax, h.inPeak.Load(), samples)
	t.Logf("process CPU while paused: %v in %v (%.1f%%)", cpu, wall.Round(time.Millisecond), 100*cpu.Seconds()/wall.Seconds())

	// One read of at most the read buffer can land after the output passed
	// the high watermark; nothing more may be queued.
	if limit := int64(high + DefaultReadBufferSize); h.outPeak.Load() > limit {
		t.Errorf("OutboundBuffered reached %d, want at most high watermark + one read = %d", h.outPeak.Load(), limit)
	}
	if outMax <= high {
		t.Errorf("OutboundBuffered peaked at %d while the client did not read, want above the high watermark %d: only that pauses reading", outMax, high)
	}
	if h.inPeak.Load() > 0 || inMax > 0 {
		t.Errorf("InboundBuffered peaked at %d / %d, want 0: the echo consumes everything", h.inPeak.Load(), inMax)
	}
	if peakHeap > 12<<20 {
		t.Errorf("server heap grew by %.1f MiB while the client did not read, want a few MiB at most", float64(peakHeap)/(1<<20))
	}
	if sentMid != sentEnd {
		t.Errorf("client kept writing while the server should be paused: %d bytes at %v, %d at the end", sentMid, wall0.Sub(start), sentEnd)
	}
	if cpu > wall/4 {
		t.Errorf("process used %v CPU in %v while the connection was paused, want near 0: a loop spins", cpu, wall)
	}
	select {
	case err := <-h.closes:
		t.Fatalf("connection closed (%v) although the client was only slow", err)
	default:
	}

	if err := nc.SetReadDeadline(time.Now().Add(60 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if got, err := itReadPattern(nc, sent); err != nil {
		t.Fatalf("echo: got %d of %d bytes: %v", got, sent, err)
	}
	if err := itExpectNoMore(nc, 100*time.Millisecond); err != nil {
		t.Error(err)
	}
}

// fcCapHandler writes more than the outbound hard cap to a client that
// does not read, in the way mode says, and reports what the writes said.
type fcCapHandler struct {
	BaseHandler
	mode    string
	limit   int
	conns   chan Conn
	writes  chan fcCapResult
	closes  chan error
	cbErrs  chan error // AsyncWrite callback errors, from the handler's own AsyncWrite
	started bool       // loop only: the writes ran
}

const (
	fcCapChunks = "64 KiB Writes in OnTraffic until one fails"
	fcCapOne    = "one Write of more than the cap in OnTraffic"
	fcCapAsync  = "AsyncWrites from another goroutine"
)

// fcCapResult is what the failing Write returned.
type fcCapResult struct {
	accepted int // bytes of the earlier, successful writes
	n        int
	err      error
}

func (h *fcCapHandler) OnOpen(c Conn) ([]byte, Action) {
	h.conns <- c
	return nil, None
}

// OnTraffic writes past the cap once the client has said it is connected:
// written from OnOpen, the reset that follows the cap could reach the client
// before its dial had finished, failing the dial instead of the test.
func (h *fcCapHandler) OnTraffic(c Conn) Action {
	_, _ = c.Discard(-1)
	if h.started {
		return None
	}
	h.started = true
	var res fcCapResult
	switch h.mode {
	case fcCapOne:
		res.n, res.err = c.Write(itPattern(0, h.limit+2<<20))
	case fcCapChunks:
		chunk := itPattern(0, fcChunk)
		// Bounded: the cap plus any socket buffer is far below this.
		for i := 0; i < 10000; i++ {
			n, err := c.Write(chunk)
			if err != nil {
				res.n, res.err = n, err
				break
			}
			res.accepted += n
		}
	default:
		return None
	}
	h.writes <- res
	// The connection is failing: this write is queued behind the close.
	if err := c.AsyncWrite([]byte("late"), func(_ Conn, err error) { h.cbErrs <- err }); err != nil {
		h.cbErrs <- err
	}
	return None
}

func (h *fcCapHandler) OnClose(_ Conn, err error) Action {
	h.closes <- err
	return None
}

// TestFlowOutboundLimit writes past WithOutboundLimit to a client that
// does not read: the write that would pass the cap fails with
// ErrOutboundFull and writes nothing, OnClose gets ErrOutboundFull, and
// AsyncWrite callbacks get ErrOutboundFull or ErrClosed. An engine without
// the cap accepts every write (the chunk loop ends without error).
func TestFlowOutboundLimit(t *testing.T) {
	const limit = 1 << 20
	tests := []struct {
		name string
		mode string
	}{
		{name: "chunks", mode: fcCapChunks},
		{name: "one write", mode: fcCapOne},
		{name: "async", mode: fcCapAsync},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &fcCapHandler{mode: tt.mode, limit: limit, conns: make(chan Conn, 1),
				writes: make(chan fcCapResult, 1), closes: make(chan error, 1), cbErrs: make(chan error, 1)}
			s := startEngine(t, h, "tcp://127.0.0.1:0", WithLoops(1),
				WithOutboundWatermarks(256<<10, 64<<10), WithOutboundLimit(limit), WithSocketSendBuffer(64<<10))
			nc := s.dial(t)
			c := fcRecvConn(t, h.conns)
			if _, err := nc.Write([]byte("g")); err != nil {
				t.Fatal(err)
			}
			accepted := 0 // bytes the writes before the failing one queued
			if tt.mode == fcCapAsync {
				accepted = fcAsyncPastCap(t, c)
			} else {
				res := tbRecv(t, h.writes, 5*time.Second, "the writes")
				accepted = res.accepted
				t.Logf("%s: %d bytes accepted, then Write = %d, %v", tt.mode, res.accepted, res.n, res.err)
				if !errors.Is(res.err, ErrOutboundFull) {
					t.Errorf("the write past the cap returned %v, want ErrOutboundFull", res.err)
				}
				if res.n != 0 {
					t.Errorf("the write past the cap returned n = %d, want 0: a write that would exceed the cap writes nothing", res.n)
				}
				if err := tbRecv(t, h.cbErrs, 5*time.Second, "the late AsyncWrite's callback"); !errors.Is(err, ErrClosed) && !errors.Is(err, ErrOutboundFull) {
					t.Errorf("AsyncWrite after the failure reported %v, want ErrClosed or ErrOutboundFull", err)
				}
			}
			if tt.mode == fcCapAsync {
				// Still open: close it from the client; OnClose sees no cap error.
				_ = nc.Close()
				if err := tbRecv(t, h.closes, 5*time.Second, "OnClose"); errors.Is(err, ErrOutboundFull) {
					t.Errorf("OnClose(%v) after AsyncWrite refusals: the refusal must not close the connection", err)
				}
				return
			}
			if err := tbRecv(t, h.closes, 5*time.Second, "OnClose"); !errors.Is(err, ErrOutboundFull) {
				t.Errorf("OnClose(%v), want ErrOutboundFull", err)
			}
			// The client sees the connection reset, never an orderly EOF
			// that would pass the cut stream off as complete; what arrived
			// before is a prefix of what was accepted.
			if err := nc.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
				t.Fatal(err)
			}
			got, err := fcReadChunks(nc, accepted)
			t.Logf("client then read %d bytes and %v", got, err)
			if !itIsReset(err) {
				t.Errorf("client read %d bytes, then %v; want a reset (ECONNRESET) for a connection closed with output dropped", got, err)
			}
		})
	}
}

// fcReadChunks reads until an error and checks that what arrives is the
// stream of 64 KiB itPattern(0, fcChunk) chunks the cap tests write, no
// longer than accepted bytes. It returns the count and the error that
// ended the read (io.EOF included), or the first mismatch.
func fcReadChunks(r io.Reader, accepted int) (int, error) {
	buf := make([]byte, fcChunk)
	got := 0
	for {
		k, err := r.Read(buf)
		for i, b := range buf[:k] {
			if want := itPatternByte((got + i) % fcChunk); b != want {
				return got + i, fmt.Errorf("byte %d is %#x, want %#x", got+i, b, want)
			}
		}
		got += k
		if got > accepted {
			return got, fmt.Errorf("read %d bytes, more than the %d the writes queued", got, accepted)
		}
		if err != nil {
			return got, err
		}
	}
}

// fcAsyncPastCap sends 64 KiB AsyncWrites on c from the test goroutine,
// each after the previous one's callback, until a callback reports an
// error: it must be ErrOutboundFull; a later AsyncWrite is refused with
// ErrClosed or reports it. It returns the bytes accepted before the
// failure.
func fcAsyncPastCap(tb testing.TB, c Conn) int {
	tb.Helper()
	chunk := itPattern(0, fcChunk)
	write := func() (refused, reported error) {
		done := make(chan error, 1)
		if err := c.AsyncWrite(chunk, func(_ Conn, err error) { done <- err }); err != nil {
			return err, nil
		}
		return nil, tbRecv(tb, done, 5*time.Second, "an AsyncWrite callback")
	}
	accepted := 0
	var failed error
	// Bounded: 1024 writes are 64 MiB, far past the cap and the socket.
	for i := 0; i < 1024 && failed == nil; i++ {
		refused, reported := write()
		if reported != nil {
			tb.Fatalf("an AsyncWrite callback reported %v after %d bytes; want the refusal at AsyncWrite itself", reported, accepted)
		}
		if failed = refused; failed == nil {
			accepted += fcChunk
		}
	}
	tb.Logf("%d bytes accepted by AsyncWrite, then it returned %v", accepted, failed)
	if !errors.Is(failed, ErrOutboundFull) {
		tb.Fatalf("the AsyncWrite past the cap returned %v, want ErrOutboundFull", failed)
	}
	// A refusal at AsyncWrite is back-pressure: the connection stays open
	// and keeps refusing while the peer reads nothing.
	refused, reported := write()
	if !errors.Is(refused, ErrOutboundFull) || reported != nil {
		tb.Errorf("AsyncWrite after the refusal: returned %v, reported %v; want ErrOutboundFull again", refused, reported)
	}
	return accepted
}

// fcHoarder consumes one byte per OnTraffic, leaving the rest unread,
// until told to consume everything; it checks and counts what it takes.
type fcHoarder struct {
	BaseHandler
	consume atomic.Bool
	inPeak  atomic.Int64
	conns   chan Conn
	reports chan itFINReport

	got, mismatch int // loop only
}

func (h *fcHoarder) OnOpen(c Conn) ([]byte, Action) {
	h.mismatch = -1
	h.conns <- c
	return nil, None
}

func (h *fcHoarder) OnTraffic(c Conn) Action {
	fcRaise(&h.inPeak, c.InboundBuffered())
	n := 1 // nibble: a handler that consumes nothing at the limit is closed (ErrInboundFull)
	if h.consume.Load() {
		n = -1
	}
	b, _ := c.Next(n)
	for i, x := range b {
		if h.mismatch < 0 && x != itPatternByte(h.got+i) {
			h.mismatch = h.got + i
		}
	}
	h.got += len(b)
	return None
}

func (h *fcHoarder) OnClose(_ Conn, err error) Action {
	h.reports <- itFINReport{got: h.got, mismatch: h.mismatch, err: err}
	return None
}

// TestFlowInboundLimit: a handler that consumes almost nothing holds at most
// about WithInboundLimit bytes: reading pauses there, the loop stays idle
// and the client's socket stays full; once the handler consumes, reading
// resumes and every byte arrives in order. Without the limit the buffered
// count grows with everything the client sends.
//
// Backpressure is proved from the socket, not from a quiet interval: the
// client writes without blocking until its socket stays full, and
// InboundBuffered, read on the loop before and after it tried to write
// more, must not change once it reached the limit (reading is off), while
// what the client got into the kernel stays within the buffers along the
// way.
func TestFlowInboundLimit(t *testing.T) {
	const limit = 256 << 10
	// What the kernel may hold between the client and the server's inbound
	// buffer: the client's send buffer, the server's receive buffer (both
	// set to 64 KiB, which Linux doubles) and what is in flight, with room
	// to spare; far below the stream.
	const kernelSlack = 1 << 20
	total := itScale(8<<20, 3<<20)
	h := &fcHoarder{conns: make(chan Conn, 1), reports: make(chan itFINReport, 1)}
	s := startEngine(t, h, "tcp://127.0.0.1:0", WithLoops(1), WithInboundLimit(limit), WithSocketRecvBuffer(64<<10))
	nc := s.dial(t)
	if err := nc.(*net.TCPConn).SetWriteBuffer(64 << 10); err != nil {
		t.Fatal(err)
	}
	c := fcRecvConn(t, h.conns)

	// Fill until the server holds the limit: a fill may stop early on a
	// momentarily full socket while the server is still reading.
	off, in1 := 0, 0
	deadline := time.Now().Add(10 * time.Second)
	for in1 < limit {
		var err error
		if off, _, err = fcFill(nc, off, total, 50*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		if _, in1, err = fcLoopBuffers(c, 5*time.Second); err != nil {
			t.Fatal(err)
		}
		if off >= total || time.Now().After(deadline) {
			t.Fatalf("the client wrote %d of %d bytes and the server holds %d, want it held at the limit %d", off, total, in1, limit)
		}
	}
	// Reading is off now. Try to write more for a while: the socket
	// stays full, and the loop idles meanwhile.
	cpu0, wall0 := cputime.Process(t), time.Now()
	off, full, err := fcFill(nc, off, total, 300*time.Millisecond)
	cpu, wall := cputime.Process(t)-cpu0, time.Since(wall0)
	if err != nil {
		t.Fatal(err)
	}
	_, in2, err := fcLoopBuffers(c, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("client held after %d bytes; InboundBuffered %d then %d, peak %d; CPU %v in %v",
		off, in1, in2, h.inPeak.Load(), cpu, wall.Round(time.Millisecond))
	if !full || off >= total {
		t.Errorf("the client wrote %d of %d bytes without its socket staying full: nothing held it back", off, total)
	}
	if in2 != in1-1 { // the second look's Wake ran OnTraffic, which nibbled one byte
		t.Errorf("InboundBuffered went from %d to %d while paused at the limit, want one less: the server kept reading", in1, in2)
	}
	if in1 < limit || h.inPeak.Load() > limit+DefaultReadBufferSize {
		t.Errorf("InboundBuffered %d (peak %d), want between the limit %d and one read above it", in1, h.inPeak.Load(), limit)
	}
	if off > in2+kernelSlack {
		t.Errorf("the client got %d bytes into the kernel with the server holding %d: more than the socket buffers (%d) hold", off, in2, kernelSlack)
	}
	if cpu > wall/2 {
		t.Errorf("process used %v CPU in %v while reading was paused: a loop spins", cpu, wall)
	}

	h.consume.Store(true)
	if err := c.Wake(nil); err != nil {
		t.Fatalf("Wake: %v", err)
	}
	w := fcStartWriterFrom(nc, off, total, time.Now().Add(60*time.Second))
	if err := w.wait(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	if err := itCloseWrite(nc); err != nil {
		t.Fatal(err)
	}
	rep := tbRecv(t, h.reports, 10*time.Second, "OnClose")
	if rep.got != total || rep.mismatch >= 0 || rep.err != nil {
		t.Errorf("handler consumed %d of %d bytes (first mismatch at %d), OnClose(%v); want all, in order, nil", rep.got, total, rep.mismatch, rep.err)
	}
}
