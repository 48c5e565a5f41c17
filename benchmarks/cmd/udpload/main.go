// Command udpload drives a UDP echo server with a closed loop: each of
// -conns connected UDP sockets keeps -pipeline datagrams of -size bytes in
// flight and sends a new one as soon as one comes back. After -warmup it
// measures for -duration.
//
// Every datagram carries its socket's id and a sequence number, followed by
// bytes derived from both, and every reply is checked against what was
// sent: a reply of another length, for another socket, for a datagram never
// sent or with other bytes is an error. UDP may lose a datagram: one not
// answered within -timeout is given up on, counted as lost and replaced by
// the next, so a loss never stalls the socket's window; a reply that comes
// after its datagram was given up on is ignored and counted as late. Before
// giving up, a socket reads the replies already waiting in its receive
// queue: a reply that came in time but was not read yet, because udpload
// itself was late, is not a loss.
//
// It prints one JSON object per line on stdout, as echoload does:
// {"event":"start"} when the measured window opens, {"event":"end"} when it
// closes, then {"event":"result", ...} with the replies received in the
// window, messages per second, MB/s (10^6 bytes), latency quantiles from a
// preallocated histogram per socket, and the datagrams lost and the late
// replies in the window. It exits 1 when any socket failed or got a wrong
// reply.
package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/evloop/evloop/benchmarks/internal/hist"
	"github.com/evloop/evloop/benchmarks/internal/loadgen"
)

const (
	// headerSize is the socket id (4 bytes) and the sequence number (8
	// bytes) every datagram starts with, little-endian.
	headerSize = 12
	// maxSize is the largest UDP payload over IPv4.
	maxSize = 65507
	// scanShare: a socket looks for datagrams to give up on every
	// timeout/scanShare, so one is given up on between timeout and
	// timeout*(1+2/scanShare) after it was sent.
	scanShare = 4
)

type config struct {
	addr     string
	conns    int
	size     int
	pipeline int
	warmup   time.Duration
	duration time.Duration
	timeout  time.Duration
}

type result struct {
	Event      string  `json:"event"`
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
	// Lost counts the datagrams given up on in the measured window: not
	// answered within the timeout.
	Lost uint64 `json:"lost"`
	// Late counts the replies that came in the measured window for a
	// datagram already given up on (or a second reply to one answered).
	Late  uint64 `json:"late"`
	Error string `json:"error,omitempty"`
}

func main() {
	var cfg config
	flag.StringVar(&cfg.addr, "addr", "127.0.0.1:9000", "UDP echo server address")
	flag.IntVar(&cfg.conns, "conns", 50, "connected UDP sockets")
	flag.IntVar(&cfg.size, "size", 64, fmt.Sprintf("datagram size in bytes, %d to %d", headerSize, maxSize))
	flag.IntVar(&cfg.pipeline, "pipeline", 1, "datagrams in flight per socket")
	flag.DurationVar(&cfg.warmup, "warmup", 2*time.Second, "load before the measured window")
	flag.DurationVar(&cfg.duration, "duration", 5*time.Second, "measured window")
	flag.DurationVar(&cfg.timeout, "timeout", 200*time.Millisecond, "how long a datagram waits for its reply before it is given up on (lost) and replaced")
	flag.Parse()
	if err := cfg.validate(); err != nil || flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "udpload: %v; and no arguments\n", err)
		os.Exit(2)
	}
	res, err := run(cfg)
	if err != nil {
		res.Error = err.Error()
	}
	loadgen.Print(res, err)
}

func (cfg config) validate() error {
	switch {
	case cfg.conns < 1 || cfg.pipeline < 1:
		return errors.New("-conns and -pipeline must be positive")
	case cfg.size < headerSize || cfg.size > maxSize:
		return fmt.Errorf("-size must be %d to %d", headerSize, maxSize)
	case cfg.duration <= 0 || cfg.warmup < 0 || cfg.timeout <= 0:
		return errors.New("-duration and -timeout must be positive, -warmup not negative")
	}
	return nil
}

func run(cfg config) (result, error) {
	res := result{Event: "result", Conns: cfg.conns, Size: cfg.size, Pipeline: cfg.pipeline}
	raddr, err := net.ResolveUDPAddr("udp", cfg.addr)
	if err != nil {
		return res, err
	}
	conns := make([]net.Conn, 0, cfg.conns)
	defer func() { loadgen.CloseAll(conns) }()
	pattern := newPattern(cfg.size)
	var phase atomic.Int32
	workers := make([]*worker, cfg.conns)
	// A write that blocks past the whole run means a stuck socket.
	writeDeadline := time.Now().Add(cfg.warmup + cfg.duration + 10*cfg.timeout + 10*time.Second)
	for i := range workers {
		c, err := net.DialUDP("udp", nil, raddr)
		if err != nil {
			return res, err
		}
		conns = append(conns, c)
		if err := c.SetWriteDeadline(writeDeadline); err != nil {
			return res, err
		}
		if workers[i], err = newWorker(c, uint32(i), cfg.size, cfg.pipeline, cfg.timeout, pattern, &phase); err != nil {
			return res, err
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
		h.Merge(&w.hist)
		res.Msgs += w.msgs
		res.Lost += w.lost
		res.Late += w.late
		errs[i] = w.err
	}
	res.Seconds = elapsed.Seconds()
	res.MsgsPerSec = float64(res.Msgs) / res.Seconds
	res.MBPerSec = res.MsgsPerSec * float64(cfg.size) / 1e6
	us := func(q float64) float64 { return float64(h.Quantile(q)) / 1e3 }
	res.P50us, res.P99us, res.P999us, res.MaxUs = us(0.5), us(0.99), us(0.999), us(1)
	res.LoaderCPU = cpu
	if res.Errors, err = loadgen.Failed(errs, len(workers)); err != nil {
		return res, err
	}
	if res.Msgs == 0 {
		return res, errors.New("no datagram came back in the measured window")
	}
	return res, nil
}

// pattern is the bytes datagrams carry after their header: a datagram's
// payload is size-headerSize bytes of it from an offset derived from its
// socket id and sequence number, so a reply holding another datagram's
// payload, or bytes shifted or changed, does not match. Read-only once made,
// shared by every socket.
type pattern []byte

func newPattern(size int) pattern {
	p := make(pattern, 256+size-headerSize)
	x := uint32(0x9e3779b9)
	for i := range p {
		x ^= x << 13 // xorshift32: bytes without a short period
		x ^= x >> 17
		x ^= x << 5
		p[i] = byte(x)
	}
	return p
}

// payload returns the bytes after the header of socket id's datagram seq.
func (p pattern) payload(id uint32, seq uint64) []byte {
	h := (uint64(id)<<40 ^ seq) * 0x9e3779b97f4a7c15 // Fibonacci hashing
	off := int(h >> 56)
	return p[off : len(p)-256+off]
}

// worker is one socket's closed loop. Slot j of its window carries the
// datagrams j, j+k, j+2k ... (k = -pipeline), one at a time, so a reply's
// sequence number names its slot. Everything is allocated up front: a
// datagram costs a write, a read, a compare and a histogram slot.
type worker struct {
	conn    *net.UDPConn
	fd      int // conn's socket, for the reads that must not wait
	id      uint32
	size, k int
	timeout time.Duration
	pattern pattern
	phase   *atomic.Int32

	seq     []uint64        // the datagram each slot waits for, or waited for last
	sent    []time.Duration // when it was sent, since base
	waiting []bool          // the slot waits for a reply
	pending int             // slots waiting
	refill  []int           // slots a scan freed, to send their next datagrams
	out, in []byte          // one datagram to send; one received, and a byte more to catch a longer reply

	hist             hist.Histogram
	msgs, lost, late uint64 // in the measured window
	err              error
}

func newWorker(c *net.UDPConn, id uint32, size, k int, timeout time.Duration, p pattern, phase *atomic.Int32) (*worker, error) {
	w := &worker{
		conn: c, id: id, size: size, k: k, timeout: timeout, pattern: p, phase: phase,
		seq:     make([]uint64, k),
		sent:    make([]time.Duration, k),
		waiting: make([]bool, k),
		refill:  make([]int, 0, k),
		out:     make([]byte, size),
		in:      make([]byte, size+1),
	}
	rc, err := c.SyscallConn()
	if err != nil {
		return nil, err
	}
	if err := rc.Control(func(fd uintptr) { w.fd = int(fd) }); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *worker) run(base time.Time) {
	now := time.Since(base)
	for j := 0; j < w.k; j++ {
		w.seq[j] = uint64(j)
		if w.err = w.send(j, now); w.err != nil {
			return
		}
	}
	// The read deadline is moved once per scan, not once per datagram.
	scanEvery := max(w.timeout/scanShare, time.Millisecond)
	next := now + scanEvery
	if w.err = w.conn.SetReadDeadline(base.Add(next)); w.err != nil {
		return
	}
	for w.pending > 0 {
		n, err := w.conn.Read(w.in)
		now = time.Since(base)
		ph := w.phase.Load()
		switch {
		case err == nil:
			j, err := w.reply(w.in[:n], now, ph)
			if err == nil && j >= 0 {
				err = w.next(j, now, ph)
			}
			if err != nil {
				w.err = err
				return
			}
		case !errors.Is(err, os.ErrDeadlineExceeded):
			w.err = fmt.Errorf("socket %d: %w", w.id, err)
			return
		}
		if now >= next {
			if err := w.scan(now, ph); err != nil {
				w.err = err
				return
			}
			next = now + scanEvery
			if w.err = w.conn.SetReadDeadline(base.Add(next)); w.err != nil {
				return
			}
		}
	}
}

// send sends slot j's datagram, w.seq[j], at now.
func (w *worker) send(j int, now time.Duration) error {
	seq := w.seq[j]
	binary.LittleEndian.PutUint32(w.out, w.id)
	binary.LittleEndian.PutUint64(w.out[4:], seq)
	copy(w.out[headerSize:], w.pattern.payload(w.id, seq))
	if _, err := w.conn.Write(w.out); err != nil {
		return fmt.Errorf("socket %d: datagram %d: %w", w.id, seq, err)
	}
	w.sent[j] = now
	w.waiting[j] = true
	w.pending++
	return nil
}

// settle marks slot j's datagram answered or given up on.
func (w *worker) settle(j int) {
	w.waiting[j] = false
	w.pending--
}

// next sends slot j's next datagram, unless the window has closed.
func (w *worker) next(j int, now time.Duration, ph int32) error {
	if ph == loadgen.Stopping {
		return nil
	}
	w.seq[j] += uint64(w.k)
	return w.send(j, now)
}

// reply checks a reply that arrived at now in phase ph, counts it, and
// returns the slot it frees, or -1 for a reply that came after its datagram
// was given up on.
func (w *worker) reply(b []byte, now time.Duration, ph int32) (int, error) {
	if len(b) != w.size {
		return -1, fmt.Errorf("socket %d: a reply of %d bytes to datagrams of %d", w.id, len(b), w.size)
	}
	if id := binary.LittleEndian.Uint32(b); id != w.id {
		return -1, fmt.Errorf("socket %d: a reply carrying socket id %d", w.id, id)
	}
	seq := binary.LittleEndian.Uint64(b[4:])
	j := int(seq % uint64(w.k))
	cur := w.seq[j]
	if seq > cur {
		return -1, fmt.Errorf("socket %d: a reply to datagram %d, which was never sent (slot %d is at %d)", w.id, seq, j, cur)
	}
	if !bytes.Equal(b[headerSize:], w.pattern.payload(w.id, seq)) {
		return -1, fmt.Errorf("socket %d: the reply to datagram %d came back with other bytes", w.id, seq)
	}
	if seq < cur || !w.waiting[j] {
		// Given up on already (or answered twice): the slot has moved on.
		if ph == loadgen.Measuring {
			w.late++
		}
		return -1, nil
	}
	if ph == loadgen.Measuring {
		w.hist.Record(now - w.sent[j])
		w.msgs++
	}
	w.settle(j)
	return j, nil
}

// scan gives up on every datagram that has waited for its reply for the
// timeout or longer at now, and replaces it. The replies already in the
// socket's receive queue are read first, without waiting: when this
// process, not the server, was late (descheduled, or busy with other
// sockets), a reply that came in time is not counted as lost. That read
// takes at most 2k replies, and the slots it frees get their next
// datagrams only after the give-ups, so it ends.
func (w *worker) scan(now time.Duration, ph int32) error {
	w.refill = w.refill[:0]
	for range 2 * w.k {
		n, err := unix.Read(w.fd, w.in)
		if err != nil {
			break // EAGAIN: nothing queued; another error comes back to conn.Read
		}
		j, err := w.reply(w.in[:n], now, ph)
		if err != nil {
			return err
		}
		if j >= 0 {
			w.refill = append(w.refill, j)
		}
	}
	for j := range w.k {
		if !w.waiting[j] || now-w.sent[j] < w.timeout {
			continue
		}
		if ph == loadgen.Measuring {
			w.lost++
		}
		w.settle(j)
		w.refill = append(w.refill, j)
	}
	for _, j := range w.refill {
		if err := w.next(j, now, ph); err != nil {
			return err
		}
	}
	return nil
}
