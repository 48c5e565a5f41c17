//go:build linux && !evloop_portable

package evloop

import (
	"errors"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestAsyncWriteBoundedRSSLinux: 64 goroutines each AsyncWrite 64 KiB in a
// loop to a client that never reads. AsyncWrite counts what is queued
// against the outbound cap (DefaultOutboundLimit, 16 MiB), so producers get
// ErrOutboundFull at once, the connection stays open, and the process's
// resident memory grows by well under 64 MiB. Before the fix the queue
// grew with everything the producers offered (up to 1 GiB here). Reads
// /proc/self/statm, hence Linux in the name.
func TestAsyncWriteBoundedRSSLinux(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's shadow memory swamps the figure; the non-race run measures it")
	}
	const producers, chunk, attempts = 64, 64 << 10, 256 // 1 GiB offered at most
	conns := make(chan Conn, 1)
	h := &tbHandler{open: func(c Conn) ([]byte, Action) { conns <- c; return nil, None }}
	s := itServe(t, h, []string{"tcp://127.0.0.1:0"}, WithLoops(1))
	nc := s.dial(t)
	if err := nc.(*net.TCPConn).SetReadBuffer(64 << 10); err != nil {
		t.Fatal(err)
	}
	c := tbRecv(t, conns, 5*time.Second, "the connection")
	runtime.GC()
	base := tbRSS(t)
	var peak atomic.Int64
	stopSampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			if r := tbRSS(t); r > peak.Load() {
				peak.Store(r)
			}
			select {
			case <-stopSampling:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	var accepted, refused, other atomic.Int64
	var wg sync.WaitGroup
	buf := make([]byte, chunk)
	deadline := time.Now().Add(10 * time.Second)
	for p := 0; p < producers; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < attempts && time.Now().Before(deadline); i++ {
				switch err := c.AsyncWrite(buf, nil); {
				case err == nil:
					accepted.Add(1)
				case errors.Is(err, ErrOutboundFull):
					refused.Add(1)
					runtime.Gosched()
				default:
					other.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	close(stopSampling)
	<-sampled
	growth := peak.Load() - base
	t.Logf("%d producers x %d x %d KiB: %d accepted (%d MiB), %d refused with ErrOutboundFull; RSS growth %.1f MiB (base %.1f MiB)",
		producers, attempts, chunk>>10, accepted.Load(), accepted.Load()*chunk>>20, refused.Load(),
		float64(growth)/(1<<20), float64(base)/(1<<20))
	if other.Load() != 0 {
		t.Errorf("%d AsyncWrites failed with something other than ErrOutboundFull: the connection must stay open", other.Load())
	}
	if refused.Load() == 0 {
		t.Error("no AsyncWrite was refused: nothing bounds the queue")
	}
	if growth > 64<<20 {
		t.Errorf("RSS grew by %d MiB, want under 64 MiB", growth>>20)
	}
	if c.(*conn).closed.Load() {
		t.Error("the refusals closed the connection")
	}
}

// tbRSS returns the process's resident set size in bytes.
func tbRSS(tb testing.TB) int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		tb.Error(err)
		return 0
	}
	f := strings.Fields(string(b))
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		tb.Error(err)
		return 0
	}
	return pages * int64(os.Getpagesize())
}
