package evloop

import (
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"
)

// opBlobWriter writes a blob far above the high watermark in OnOpen to a
// client that does not read yet, and counts what it receives and its
// OnWritable calls.
type opBlobWriter struct {
	BaseHandler
	blob      []byte
	pending   chan int // OutboundBuffered after the blob was written
	received  atomic.Int64
	writables atomic.Int64
}

func (h *opBlobWriter) OnOpen(c Conn) ([]byte, Action) {
	if _, err := c.Write(h.blob); err != nil {
		return nil, Close
	}
	h.pending <- c.OutboundBuffered()
	return nil, None
}

func (h *opBlobWriter) OnTraffic(c Conn) Action {
	b, _ := c.Next(-1)
	h.received.Add(int64(len(b)))
	return None
}

func (h *opBlobWriter) OnWritable(Conn) Action {
	h.writables.Add(1)
	return None
}

// TestOptionOutboundPause: by default a connection whose output is above
// the high watermark stops reading until it drains; with
// WithOutboundPause(false) it keeps reading, and OnWritable still reports
// the drain to the low watermark either way.
func TestOptionOutboundPause(t *testing.T) {
	const high, low = 256 << 10, 64 << 10
	tests := []struct {
		name  string
		pause bool
	}{
		{name: "default: pause", pause: true},
		{name: "WithOutboundPause(false)", pause: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &opBlobWriter{blob: tbPattern(0, 4<<20), pending: make(chan int, 1)}
			s := startEngine(t, h, "tcp://127.0.0.1:0", WithLoops(1), WithOutboundWatermarks(high, low),
				WithSocketSendBuffer(64<<10), WithOutboundPause(tt.pause))
			nc := s.dial(t)
			if err := nc.(*net.TCPConn).SetReadBuffer(64 << 10); err != nil {
				t.Fatal(err)
			}
			if n := tbRecv(t, h.pending, 5*time.Second, "OnOpen's write"); n <= high {
				t.Fatalf("%d bytes pending after OnOpen, want more than the high watermark %d", n, high)
			}
			msg := make([]byte, 100)
			if _, err := nc.Write(msg); err != nil {
				t.Fatal(err)
			}
			time.Sleep(300 * time.Millisecond)
			got := h.received.Load()
			switch {
			case tt.pause && got != 0:
				t.Errorf("received %d bytes while the output was above the high watermark, want 0 (paused)", got)
			case !tt.pause && got != int64(len(msg)):
				t.Errorf("received %d bytes while the output was above the high watermark, want %d (still reading)", got, len(msg))
			}
			_ = nc.SetReadDeadline(time.Now().Add(10 * time.Second))
			back := make([]byte, len(h.blob))
			if _, err := io.ReadFull(nc, back); err != nil {
				t.Fatal(err)
			}
			if i := tbFirstDiff(back, h.blob); i >= 0 {
				t.Fatalf("the blob differs at byte %d", i)
			}
			if !itEventually(5*time.Second, func() bool { return h.writables.Load() >= 1 && h.received.Load() == int64(len(msg)) }) {
				t.Errorf("after the drain: OnWritable ran %d times, %d bytes received; want at least once, and %d", h.writables.Load(), h.received.Load(), len(msg))
			}
		})
	}
}
