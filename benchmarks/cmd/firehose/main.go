// Command firehose floods an echo server: each of -conns connections writes
// -size byte messages as fast as the server takes them while another
// goroutine reads back, concurrently, everything echoed and checks it
// against what was sent (each connection has its own byte pattern, so lost,
// mixed or reordered bytes are caught with one memcmp per read). After
// -warmup it measures for -duration; then the writers stop and the readers
// wait for the rest of the echo.
//
// Like echoload it prints one JSON object per line on stdout:
// {"event":"start"} when the measured window opens, {"event":"end"} when it
// closes, then {"event":"result", ...} with the bytes echoed in the window,
// bytes/s, MB/s (10^6 bytes) and its own CPU time over the window. It exits
// 1 when any connection failed or got wrong bytes.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/evloop/evloop/benchmarks/internal/loadgen"
	"github.com/evloop/evloop/benchmarks/internal/netx"
)

type config struct {
	addr     string
	conns    int
	size     int
	warmup   time.Duration
	duration time.Duration
	timeout  time.Duration
}

type result struct {
	Event        string  `json:"event"`
	Conns        int     `json:"conns"`
	Size         int     `json:"size"`
	Seconds      float64 `json:"seconds"`
	Bytes        uint64  `json:"bytes"`
	BytesPerSec  float64 `json:"bytes_per_sec"`
	MBPerSec     float64 `json:"mb_per_sec"`
	BytesWritten uint64  `json:"bytes_written"` // over the whole run, warm-up included
	LoaderCPU    float64 `json:"loader_cpu_s"`
	Errors       int     `json:"errors"`
	Error        string  `json:"error,omitempty"`
}

func main() {
	var cfg config
	flag.StringVar(&cfg.addr, "addr", "127.0.0.1:9000", "echo server address")
	flag.IntVar(&cfg.conns, "conns", 4, "connections")
	flag.IntVar(&cfg.size, "size", 64<<10, "bytes per write (and per read at most)")
	flag.DurationVar(&cfg.warmup, "warmup", 2*time.Second, "load before the measured window")
	flag.DurationVar(&cfg.duration, "duration", 5*time.Second, "measured window")
	flag.DurationVar(&cfg.timeout, "timeout", 10*time.Second, "how long a dial, or the echo still in flight at the end, may take")
	flag.Parse()
	if cfg.conns < 1 || cfg.size < 1 || cfg.duration <= 0 || cfg.warmup < 0 || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "firehose: -conns, -size and -duration must be positive, and no arguments")
		os.Exit(2)
	}
	res, err := run(cfg)
	if err != nil {
		res.Error = err.Error()
	}
	loadgen.Print(res, err)
}

func run(cfg config) (result, error) {
	res := result{Event: "result", Conns: cfg.conns, Size: cfg.size}
	conns, err := netx.DialAll(cfg.addr, cfg.conns, cfg.conns, nil, cfg.timeout)
	if err != nil {
		return res, err
	}
	defer loadgen.CloseAll(conns)
	if err := loadgen.Prepare(conns, time.Now().Add(cfg.warmup+cfg.duration+cfg.timeout)); err != nil {
		return res, err
	}
	var phase atomic.Int32
	hoses := make([]*hose, len(conns))
	for i, c := range conns {
		hoses[i] = newHose(c, i, cfg.size, &phase)
	}
	var wg sync.WaitGroup
	for _, h := range hoses {
		wg.Add(2)
		go func() {
			defer wg.Done()
			h.write()
		}()
		go func() {
			defer wg.Done()
			h.read()
		}()
	}
	elapsed, cpu := loadgen.Window(&phase, cfg.warmup, cfg.duration)
	wg.Wait()

	errs := make([]error, len(hoses))
	for i, h := range hoses {
		res.Bytes += h.window
		res.BytesWritten += h.sent.Load()
		errs[i] = errors.Join(h.werr, h.rerr)
	}
	res.Seconds = elapsed.Seconds()
	res.BytesPerSec = float64(res.Bytes) / res.Seconds
	res.MBPerSec = res.BytesPerSec / 1e6
	res.LoaderCPU = cpu
	if res.Errors, err = loadgen.Failed(errs, len(conns)); err != nil {
		return res, err
	}
	if res.Bytes == 0 {
		return res, errors.New("no byte came back in the measured window")
	}
	return res, nil
}

// hose is one connection: a writer and a reader goroutine.
type hose struct {
	conn  net.Conn
	size  int
	phase *atomic.Int32
	// pattern is the connection's message twice over, so the size bytes
	// expected from any stream offset are one contiguous slice.
	pattern []byte
	buf     []byte

	sent       atomic.Uint64 // bytes written
	recv       atomic.Uint64 // bytes read back
	writerDone atomic.Bool   // set after the last write, sent final
	window     uint64        // bytes read back in the measured window
	werr, rerr error
}

func newHose(c net.Conn, id, size int, phase *atomic.Int32) *hose {
	h := &hose{conn: c, size: size, phase: phase, pattern: make([]byte, 2*size), buf: make([]byte, size)}
	for i := range size {
		// Differs between connections and positions (mod 251), so bytes of
		// another connection or a lost or reordered stretch do not match.
		h.pattern[i] = byte(id*131 + i%251)
	}
	copy(h.pattern[size:], h.pattern[:size])
	return h
}

func (h *hose) write() {
	defer func() {
		h.writerDone.Store(true)
		// The reader may already have every byte back and be waiting in
		// Read for more that will not come: wake it.
		if h.recv.Load() == h.sent.Load() {
			_ = h.conn.SetReadDeadline(time.Now())
		}
	}()
	msg := h.pattern[:h.size]
	for h.phase.Load() != loadgen.Stopping {
		n, err := h.conn.Write(msg)
		h.sent.Add(uint64(n))
		if err != nil {
			h.werr = fmt.Errorf("write after %d bytes: %w", h.sent.Load(), err)
			return
		}
	}
}

func (h *hose) read() {
	var recv uint64
	for {
		n, err := h.conn.Read(h.buf)
		if n > 0 {
			off := int(recv % uint64(h.size))
			if !bytes.Equal(h.buf[:n], h.pattern[off:off+n]) {
				h.rerr = fmt.Errorf("bytes %d-%d came back wrong", recv, recv+uint64(n))
				return
			}
			recv += uint64(n)
			h.recv.Store(recv)
			if h.phase.Load() == loadgen.Measuring {
				h.window += uint64(n)
			}
		}
		if h.writerDone.Load() && recv == h.sent.Load() {
			return // everything written came back
		}
		if err != nil {
			if h.writerDone.Load() && h.werr != nil {
				return // the writer's error says what happened
			}
			h.rerr = fmt.Errorf("read after %d of %d bytes: %w", recv, h.sent.Load(), err)
			return
		}
	}
}
