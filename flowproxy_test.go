package evloop

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The proxy test of flow control: a relay pauses its source connection
// while its sink connection's output is above the high watermark, and
// resumes it from OnWritable.

// fcRelay forwards what its source connection sends to its sink
// connection, the way a proxy does, and applies flow control by hand: it
// pauses the source (PauseReading) when the sink's output passes high,
// seen right after each write on the sink's loop, and resumes it
// (ResumeReading) in OnWritable(sink). The first byte a client sends names
// its role: 'K' the sink, 'S' the source; the sink connects first.
//
// With async, the source forwards with AsyncWrite from its own loop, and
// the sink's loop may lag behind by megabytes of queued writes before it
// sees its output pass high. So the source also counts what it queued and
// has not seen written (inflight), pauses itself above high, and the write
// callbacks resume it once that count is back to low: two reasons to
// pause, each with its own guaranteed end, and the source reads only when
// neither holds.
type fcRelay struct {
	BaseHandler
	async     bool
	high, low int

	roles chan string // "sink", "source"
	errc  chan error

	mu        sync.Mutex
	src, sink Conn
	srcGoid   uint64 // goroutine of the source's loop
	sinkGoid  uint64

	sinkPeak atomic.Int64 // the sink's OutboundBuffered, highest seen
	relayed  atomic.Int64 // bytes read from the source

	// flowMu orders PauseReading and ResumeReading with the state they
	// follow from: with async they are called from both loops.
	flowMu    sync.Mutex
	inflight  int  // async: bytes queued to the sink, not yet written
	sinkFull  bool // the sink's output passed high; OnWritable ends it
	queueFull bool // async: inflight passed high; a write callback ends it
	fcRelayCounts
}

// fcRelayCounts are the flow events of an fcRelay.
type fcRelayCounts struct {
	pauses, resumes int // the source stopped, started reading
	sinkFulls       int // the sink's output passed high
	writables       int // OnWritable ended a sinkFull
}

func (h *fcRelay) report(err error) {
	select {
	case h.errc <- err:
	default:
	}
}

func (h *fcRelay) conns() (src, sink Conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.src, h.sink
}

func (h *fcRelay) counts() fcRelayCounts {
	h.flowMu.Lock()
	defer h.flowMu.Unlock()
	return h.fcRelayCounts
}

// setFlow changes a pause reason and pauses or resumes the source when
// that changes whether it should read. Under flowMu.
func (h *fcRelay) setFlow(reason *bool, on bool) {
	was := h.sinkFull || h.queueFull
	*reason = on
	now := h.sinkFull || h.queueFull
	if was == now {
		return
	}
	src, _ := h.conns()
	var err error
	if now {
		h.pauses++
		err = src.PauseReading()
	} else {
		h.resumes++
		err = src.ResumeReading()
	}
	if err != nil {
		h.report(fmt.Errorf("pause %v: %w", now, err))
	}
}

func (h *fcRelay) OnTraffic(c Conn) Action {
	if c.Context() == nil {
		b, _ := c.Next(1)
		if len(b) == 0 {
			return None
		}
		h.mu.Lock()
		switch b[0] {
		case 'K':
			h.sink, h.sinkGoid = c, tbGoroutineID()
			c.SetContext("sink")
		case 'S':
			h.src, h.srcGoid = c, tbGoroutineID()
			c.SetContext("source")
		default:
			h.mu.Unlock()
			h.report(fmt.Errorf("unknown role %q", b[0]))
			return Close
		}
		h.mu.Unlock()
		h.roles <- c.Context().(string)
	}
	if c.Context() == "sink" {
		_, _ = c.Discard(c.InboundBuffered())
		return None
	}
	_, sink := h.conns()
	if sink == nil {
		h.report(errors.New("source sent before the sink connected"))
		return Close
	}
	b, _ := c.Next(-1)
	if len(b) == 0 {
		return None
	}
	h.relayed.Add(int64(len(b)))
	if !h.async {
		// One loop serves both: the sink's loop-only methods may be called here.
		if _, err := sink.Write(b); err != nil {
			h.report(fmt.Errorf("Write to the sink: %w", err))
			return Close
		}
		h.sawSink(sink)
		return None
	}
	// The count and the pause reason change together under flowMu, or a
	// callback could bring the count down before the reason is set, and
	// nothing would ever clear it.
	n := len(b)
	h.flowMu.Lock()
	h.inflight += n
	if h.inflight > h.high && !h.queueFull {
		h.setFlow(&h.queueFull, true)
	}
	h.flowMu.Unlock()
	if err := sink.AsyncWrite(b, func(sink Conn, err error) { h.written(sink, n, err) }); err != nil {
		h.report(fmt.Errorf("AsyncWrite to the sink: %w", err))
		return Close
	}
	return None
}

// sawSink checks the sink's output after a write. On the sink's loop.
func (h *fcRelay) sawSink(sink Conn) {
	n := sink.OutboundBuffered()
	fcRaise(&h.sinkPeak, n)
	if n <= h.high {
		return
	}
	h.flowMu.Lock()
	defer h.flowMu.Unlock()
	if !h.sinkFull {
		h.sinkFulls++
		h.setFlow(&h.sinkFull, true)
	}
}

// written is the async AsyncWrite callback, on the sink's loop.
func (h *fcRelay) written(sink Conn, n int, err error) {
	if err != nil {
		h.report(fmt.Errorf("AsyncWrite to the sink reported: %w", err))
		return
	}
	h.sawSink(sink)
	h.flowMu.Lock()
	defer h.flowMu.Unlock()
	h.inflight -= n
	if h.inflight <= h.low && h.queueFull {
		h.setFlow(&h.queueFull, false)
	}
}

func (h *fcRelay) OnWritable(c Conn) Action {
	if _, sink := h.conns(); c != sink {
		h.report(errors.New("OnWritable for the source, which is never written to"))
		return None
	}
	if out := c.OutboundBuffered(); out > h.low {
		h.report(fmt.Errorf("OnWritable with %d bytes pending, above the low watermark %d", out, h.low))
	}
	h.flowMu.Lock()
	defer h.flowMu.Unlock()
	if h.sinkFull {
		h.writables++
		h.setFlow(&h.sinkFull, false)
	}
	return None
}

// fcReadSlowly reads n bytes of the pattern from nc in bursts of burst
// bytes with a pause after each, and reports how many arrived intact.
func fcReadSlowly(nc net.Conn, n, burst int, pause time.Duration) (int, error) {
	buf := make([]byte, 64<<10)
	got, sinceNap := 0, 0
	for got < n {
		k, err := nc.Read(buf[:min(len(buf), n-got)])
		for i, b := range buf[:k] {
			if want := itPatternByte(got + i); b != want {
				return got + i, fmt.Errorf("byte %d is %#x, want %#x", got+i, b, want)
			}
		}
		got, sinceNap = got+k, sinceNap+k
		if err != nil {
			return got, fmt.Errorf("after %d of %d bytes: %w", got, n, err)
		}
		if sinceNap >= burst {
			sinceNap = 0
			time.Sleep(pause)
		}
	}
	return got, nil
}

// TestFlowProxyPauseResume relays a fast source into a slow sink. The
// handler must see the sink's output pass the high watermark and pause the
// source (whose client then blocks), and get OnWritable once the sink
// drains, resume the source, and do that again while the sink's client
// reads in slow bursts; memory stays bounded and every byte reaches the
// sink in order. An engine that never calls OnWritable leaves the source
// paused forever (the sink's read times out); one that ignores
// PauseReading lets the source's client keep writing (its socket never
// stays full, and the relay reads more while the source should be paused).
func TestFlowProxyPauseResume(t *testing.T) {
	const high, low = 256 << 10, 64 << 10
	total := itScale(24<<20, 6<<20)
	tests := []struct {
		name  string
		loops int
		async bool
	}{
		{name: "one loop, Write", loops: 1},
		{name: "two loops, AsyncWrite", loops: 2, async: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &fcRelay{async: tt.async, high: high, low: low, roles: make(chan string, 2), errc: make(chan error, 1)}
			// Small kernel buffers on the source's side too, so that the
			// source's client is held back long before the end of the stream.
			s := fcStartEngine(t, h, WithLoops(tt.loops),
				WithOutboundWatermarks(high, low), WithSocketSendBuffer(64<<10), WithSocketRecvBuffer(64<<10))
			sinkNC := s.dial(t)
			// A small, fixed receive buffer on the sink keeps the kernel
			// from absorbing megabytes, so the watermarks do the work.
			if err := sinkNC.(*net.TCPConn).SetReadBuffer(64 << 10); err != nil {
				t.Fatal(err)
			}
			if _, err := sinkNC.Write([]byte("K")); err != nil {
				t.Fatal(err)
			}
			if r := tbRecv(t, h.roles, 5*time.Second, "the sink's role"); r != "sink" {
				t.Fatalf("role %q, want sink", r)
			}
			srcNC := s.dial(t)
			if err := srcNC.(*net.TCPConn).SetWriteBuffer(64 << 10); err != nil {
				t.Fatal(err)
			}
			if _, err := srcNC.Write([]byte("S")); err != nil {
				t.Fatal(err)
			}
			if r := tbRecv(t, h.roles, 5*time.Second, "the source's role"); r != "source" {
				t.Fatalf("role %q, want source", r)
			}

			heap := fcSampleHeap()
			defer heap.finish()
			// The source's client writes without blocking until its socket
			// stays full. Once the sink is full, the source is paused for
			// good (its client reads nothing, so OnWritable cannot come):
			// the relayed count, read after the pause reached the source's
			// loop, must then stay put however much more the client tries
			// to write, and stay within what the sink side can hold.
			off := 0
			deadline := time.Now().Add(10 * time.Second)
			for h.counts().sinkFulls == 0 {
				var err error
				if off, _, err = fcFill(srcNC, off, total, 50*time.Millisecond); err != nil {
					t.Fatal(err)
				}
				if off >= total || time.Now().After(deadline) {
					t.Fatalf("the source was never paused: sink output peaked at %d, source client sent %d of %d", h.sinkPeak.Load(), off, total)
				}
			}
			src, _ := h.conns()
			if _, _, err := fcLoopBuffers(src, 5*time.Second); err != nil { // behind the pause in the source loop's queue
				t.Fatal(err)
			}
			relayed1 := h.relayed.Load()
			off, full, err := fcFill(srcNC, off, total, 300*time.Millisecond)
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := fcLoopBuffers(src, 5*time.Second); err != nil {
				t.Fatal(err)
			}
			relayed2 := h.relayed.Load()
			if !full || off >= total {
				t.Fatalf("the source's client wrote %d of %d bytes without its socket staying full, although the source is paused", off, total)
			}
			if relayed1 != relayed2 {
				t.Errorf("the relay read %d more bytes from the source while it was paused", relayed2-relayed1)
			}
			// The sink side holds the sink's output (high plus the reads
			// in flight when it filled, and with async up to high more
			// queued) and two 64 KiB kernel buffers, doubled by Linux.
			if bound := int64(3*high + 3*DefaultReadBufferSize + 512<<10); relayed2 > bound {
				t.Errorf("the relay read %d bytes from the source before it was held, want at most %d: the source was not paused", relayed2, bound)
			}
			blockedAt := int64(off)
			w := fcStartWriterFrom(srcNC, off, total, time.Now().Add(60*time.Second))

			if err := sinkNC.SetReadDeadline(time.Now().Add(20 * time.Second)); err != nil {
				t.Fatal(err)
			}
			got, err := fcReadSlowly(sinkNC, total, 512<<10, 10*time.Millisecond)
			if err != nil {
				t.Errorf("sink client got %d of %d bytes: %v (%+v)", got, total, err, h.counts())
			}
			if err := w.wait(10 * time.Second); err != nil {
				t.Error(err)
			}
			peakHeap := heap.finish()
			k := h.counts()
			t.Logf("%d bytes relayed; source client blocked after %d bytes, %d of them read by the relay; %+v; sink OutboundBuffered peak %d; heap peak growth %.2f MiB",
				total, blockedAt, relayed2, k, h.sinkPeak.Load(), float64(peakHeap)/(1<<20))
			select {
			case err := <-h.errc:
				t.Errorf("handler: %v", err)
			default:
			}
			if tt.loops > 1 && h.srcGoid == h.sinkGoid {
				t.Errorf("source and sink ran on the same loop goroutine %d: not the cross-loop case", h.srcGoid)
			}
			if k.sinkFulls < 2 || k.writables < 1 || k.writables > k.sinkFulls || k.sinkFulls-k.writables > 1 {
				t.Errorf("the sink went full %d times and OnWritable ended that %d times; want at least twice, each ended but possibly the last", k.sinkFulls, k.writables)
			}
			if k.pauses < 2 || k.resumes > k.pauses || k.pauses-k.resumes > 1 {
				t.Errorf("the source paused %d times and resumed %d times; want at least twice, each resumed but possibly the last", k.pauses, k.resumes)
			}
			// The pause is applied once the source's loop has finished
			// its current events: a read or two may land after it. With
			// async, up to high more may be queued when the sink fills.
			slack := int64(3 * DefaultReadBufferSize)
			if tt.async {
				slack += high
			}
			if h.sinkPeak.Load() > high+slack {
				t.Errorf("sink OutboundBuffered peaked at %d, want at most %d above the high watermark %d", h.sinkPeak.Load(), slack, high)
			}
			if peakHeap > 12<<20 {
				t.Errorf("heap grew by %.1f MiB while relaying, want bounded by a few MiB", float64(peakHeap)/(1<<20))
			}
		})
	}
}
