// Command echoload drives an echo server with a closed loop: each of -conns
// connections keeps -pipeline messages of -size bytes in flight, sends a new
// one as soon as one comes back, and checks that every byte came back in
// order. After -warmup it measures for -duration.
//
// With -proto resp it drives a Redis server the same way, each message a
// command (resp.go): a connection alternates SET and GET over keys of its
// own, and every reply is checked.
//
// With -tls every connection is a crypto/tls client (the certificate not
// verified, TLS 1.3, no session resumption): each makes a full handshake
// once, before the warm-up, and then runs its loop over TLS.
//
// It prints one JSON object per line on stdout: {"event":"start"} when the
// measured window opens, {"event":"end"} when it closes, then
// {"event":"result", ...} with messages per second, MB/s (10^6 bytes, -size
// bytes per message) and latency quantiles from a preallocated histogram
// per connection. It exits 1 when any connection failed or got wrong bytes.
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

	"github.com/evloop/evloop/benchmarks/internal/hist"
	"github.com/evloop/evloop/benchmarks/internal/loadgen"
	"github.com/evloop/evloop/benchmarks/internal/netx"
	"github.com/evloop/evloop/benchmarks/internal/server"
	"github.com/evloop/evloop/benchmarks/internal/tlscert"
)

type config struct {
	proto    string // "echo" or "resp"
	addr     string
	conns    int
	size     int
	pipeline int
	warmup   time.Duration
	duration time.Duration
	timeout  time.Duration
	parallel int
	tls      bool
}

type result struct {
	Event      string  `json:"event"`
	Proto      string  `json:"proto"`
	TLS        bool    `json:"tls,omitempty"`
	Conns      int     `json:"conns"`
	Size       int     `json:"size"`
	Pipeline   int     `json:"pipeline"`
	Seconds    float64 `json:"seconds"`
	Msgs       uint64  `json:"msgs"`
	MsgsPerSec float64 `json:"msgs_per_sec"`
	MBPerSec   float64 `json:"mb_per_sec"`
	P50us      float64 `json:"p50_us"`
	P99us      float64 `json:"p99_us"`
	P999us     float64 `json:"p999_us"`
	MaxUs      float64 `json:"max_us"`
	LoaderCPU  float64 `json:"loader_cpu_s"`
	Errors     int     `json:"errors"`
	Error      string  `json:"error,omitempty"`
}

func main() {
	var cfg config
	flag.StringVar(&cfg.proto, "proto", "echo", "echo, or resp: SET and GET commands to a Redis server, -size byte values")
	flag.StringVar(&cfg.addr, "addr", "127.0.0.1:9000", "server address")
	flag.IntVar(&cfg.conns, "conns", 50, "connections")
	flag.IntVar(&cfg.size, "size", 64, "message size in bytes")
	flag.IntVar(&cfg.pipeline, "pipeline", 1, "messages in flight per connection")
	flag.DurationVar(&cfg.warmup, "warmup", 2*time.Second, "load before the measured window")
	flag.DurationVar(&cfg.duration, "duration", 5*time.Second, "measured window")
	flag.DurationVar(&cfg.timeout, "timeout", 10*time.Second, "how long a dial, or the replies still in flight at the end, may take")
	flag.IntVar(&cfg.parallel, "dial-parallel", 128, "dials in progress at once")
	flag.BoolVar(&cfg.tls, "tls", false, "speak TLS (crypto/tls, certificate not verified, one full handshake per connection before the warm-up)")
	flag.Parse()
	if cfg.conns < 1 || cfg.size < 1 || cfg.pipeline < 1 || cfg.duration <= 0 || cfg.warmup < 0 || flag.NArg() > 0 ||
		cfg.proto != "echo" && cfg.proto != "resp" {
		fmt.Fprintln(os.Stderr, "echoload: -proto echo or resp; -conns, -size, -pipeline and -duration must be positive, and no arguments")
		os.Exit(2)
	}
	res, err := run(cfg)
	if err != nil {
		res.Error = err.Error()
	}
	loadgen.Print(res, err)
}

func run(cfg config) (result, error) {
	res := result{Event: "result", Proto: cfg.proto, TLS: cfg.tls, Conns: cfg.conns, Size: cfg.size, Pipeline: cfg.pipeline}
	if err := server.RaiseFileLimit(); err != nil {
		return res, err
	}
	conns, err := netx.DialAll(cfg.addr, cfg.conns, cfg.parallel, netx.Sources(cfg.conns), cfg.timeout)
	if err != nil {
		return res, err
	}
	defer loadgen.CloseAll(conns)
	if cfg.tls {
		if conns, err = netx.HandshakeAll(conns, tlscert.Client(), cfg.parallel, cfg.timeout, 0); err != nil {
			return res, err
		}
	}
	if err := loadgen.Prepare(conns, time.Now().Add(cfg.warmup+cfg.duration+cfg.timeout)); err != nil {
		return res, err
	}
	var phase atomic.Int32
	workers := make([]loop, len(conns))
	for i, c := range conns {
		if cfg.proto == "resp" {
			workers[i] = newRESPWorker(c, i, cfg.size, cfg.pipeline, &phase)
		} else {
			workers[i] = newWorker(c, i, cfg.size, cfg.pipeline, &phase)
		}
	}
	var wg sync.WaitGroup
	base := time.Now()
	for _, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.run(base)
		}()
	}
	elapsed, cpu := loadgen.Window(&phase, cfg.warmup, cfg.duration)
	wg.Wait()

	var h hist.Histogram
	errs := make([]error, len(workers))
	for i, w := range workers {
		o := w.measured()
		h.Merge(&o.hist)
		res.Msgs += o.msgs
		errs[i] = o.err
	}
	res.Seconds = elapsed.Seconds()
	res.MsgsPerSec = float64(res.Msgs) / res.Seconds
	res.MBPerSec = res.MsgsPerSec * float64(cfg.size) / 1e6
	us := func(q float64) float64 { return float64(h.Quantile(q)) / 1e3 }
	res.P50us, res.P99us, res.P999us, res.MaxUs = us(0.5), us(0.99), us(0.999), us(1)
	res.LoaderCPU = cpu
	if res.Errors, err = loadgen.Failed(errs, len(conns)); err != nil {
		return res, err
	}
	if res.Msgs == 0 {
		return res, errors.New("no message came back in the measured window")
	}
	return res, nil
}

// loop is one connection's closed loop: worker for echo, respWorker for
// resp.
type loop interface {
	run(base time.Time)
	measured() *outcome
}

// outcome is what a connection's loop measured.
type outcome struct {
	hist hist.Histogram
	msgs uint64 // received in the measured window
	err  error
}

func (o *outcome) measured() *outcome { return o }

// worker is one connection's echo loop. Everything it needs is allocated
// up front; a message costs a read share, a compare and a histogram slot.
type worker struct {
	outcome
	conn     net.Conn
	size     int
	inflight int
	// pattern holds the connection's inflight distinct messages twice over,
	// so any run of up to inflight consecutive slots is one contiguous slice.
	pattern []byte
	sent    []time.Duration // send time of the message in each slot
	buf     []byte
	phase   *atomic.Int32
}

func newWorker(c net.Conn, id, size, inflight int, phase *atomic.Int32) *worker {
	w := &worker{
		conn:     c,
		size:     size,
		inflight: inflight,
		pattern:  make([]byte, 2*inflight*size),
		sent:     make([]time.Duration, inflight),
		buf:      make([]byte, max((inflight+1)*size, 4<<10)),
		phase:    phase,
	}
	one := w.pattern[:inflight*size]
	for i := range one {
		// Differs between connections, slots and positions, so bytes from
		// another connection, a lost or a reordered message do not match.
		one[i] = byte(id*131 + (i/size)*31 + i)
	}
	copy(w.pattern[len(one):], one)
	return w
}

func (w *worker) run(base time.Time) {
	size, k := w.size, w.inflight
	var sent, recv uint64 // message sequence numbers
	now := time.Since(base)
	for i := range w.sent {
		w.sent[i] = now
	}
	if _, err := w.conn.Write(w.pattern[:k*size]); err != nil {
		w.err = err
		return
	}
	sent = uint64(k)
	have := 0
	for {
		n, err := w.conn.Read(w.buf[have:])
		if err != nil {
			w.err = fmt.Errorf("after %d messages: %w", recv, err)
			return
		}
		have += n
		now := time.Since(base)
		ph := w.phase.Load()
		done := have / size
		for i := 0; i < done; i++ {
			slot := int(recv % uint64(k))
			if !bytes.Equal(w.buf[i*size:(i+1)*size], w.pattern[slot*size:(slot+1)*size]) {
				w.err = fmt.Errorf("message %d came back with other bytes", recv)
				return
			}
			if ph == loadgen.Measuring {
				w.hist.Record(now - w.sent[slot])
				w.msgs++
			}
			recv++
		}
		have = copy(w.buf, w.buf[done*size:have])
		if ph == loadgen.Stopping {
			if recv == sent {
				return
			}
			continue
		}
		if done == 0 {
			continue
		}
		slot := int(sent % uint64(k))
		at := time.Since(base)
		for i := 0; i < done; i++ {
			w.sent[(slot+i)%k] = at
		}
		if _, err := w.conn.Write(w.pattern[slot*size : (slot+done)*size]); err != nil {
			w.err = fmt.Errorf("after %d messages: %w", recv, err)
			return
		}
		sent += uint64(done)
	}
}
