package evloop

import (
	"bytes"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/evloop/evloop/internal/socket"
)

// bulkOpener queues n patterned bytes in OnOpen, more than the socket
// buffer takes, so the rest is flushed on EPOLLOUT.
type bulkOpener struct {
	BaseHandler
	data []byte
}

func (b *bulkOpener) OnOpen(c Conn) ([]byte, Action) {
	if _, err := c.Write(b.data); err != nil {
		return nil, Close
	}
	return nil, None
}

// TestFlushBudgetLinux proves that one flush offers the kernel at most
// flushBudget bytes: a connection with megabytes pending and a fast reader
// must not keep its loop copying for milliseconds in one wake. It counts
// through the writev seam, which makes it epoll-backend specific. All the
// bytes still arrive, in order.
func TestFlushBudgetLinux(t *testing.T) {
	var maxOffered, calls atomic.Int64
	real := socket.WritevFunc
	t.Cleanup(func() { socket.WritevFunc = real })
	socket.WritevFunc = func(fd int, bufs [][]byte) (int, error) {
		n := 0
		for _, b := range bufs {
			n += len(b)
		}
		calls.Add(1)
		for {
			old := maxOffered.Load()
			if int64(n) <= old || maxOffered.CompareAndSwap(old, int64(n)) {
				break
			}
		}
		return real(fd, bufs)
	}
	data := make([]byte, 6<<20)
	for i := range data {
		data[i] = byte(i*7 + i>>13)
	}
	s := startEngine(t, &bulkOpener{data: data}, "tcp://127.0.0.1:0", WithOutboundLimit(16<<20))
	c := s.dial(t)
	time.Sleep(50 * time.Millisecond) // let the output queue up behind a full socket
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
	got := make([]byte, len(data))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatalf("reading %d bytes: %v", len(data), err)
	}
	if !bytes.Equal(got, data) {
		t.Fatal("the bytes arrived changed or out of order")
	}
	if calls.Load() == 0 {
		t.Fatal("nothing was flushed: the test did not queue output")
	}
	if m := maxOffered.Load(); m > flushBudget {
		t.Fatalf("a flush offered %d bytes in one writev, want at most %d", m, flushBudget)
	}
	t.Logf("%d writev calls, the largest offered %d bytes", calls.Load(), maxOffered.Load())
}
