package evloop

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Ordered execution tests: Conn.Execute runs a connection's jobs one at a
// time, in call order, on the engine's pool.

// fcSeqSize is the size of a request and of its reply: a big-endian
// sequence number.
const fcSeqSize = 8

// fcSequenced has each 8-byte request handled by a c.Execute job that
// sleeps a random 0-2 ms and replies with the request's bytes through
// AsyncWrite; a request equal to panicAt panics instead. It tracks how
// many jobs run at once, per connection and in all.
type fcSequenced struct {
	BaseHandler
	panicAt uint64 // no panic when 0
	conns   chan Conn
	closes  chan error
	errc    chan error

	started   atomic.Int64 // jobs that began
	overlaps  atomic.Int64 // a job began while another of its connection ran
	running   atomic.Int64 // jobs running now, all connections
	peak      atomic.Int64 // most jobs running at once, all connections
	lateMu    sync.Mutex
	lateWrite map[uint64]error // after the panic: what each reply's write reported
}

// fcSeqConn is one connection's state in fcSequenced.
type fcSeqConn struct {
	running atomic.Int32
	rng     *rand.Rand // jobs of one connection never overlap, so no lock
}

func (h *fcSequenced) report(err error) {
	select {
	case h.errc <- err:
	default:
	}
}

func (h *fcSequenced) OnOpen(c Conn) ([]byte, Action) {
	c.SetContext(&fcSeqConn{rng: rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))})
	if h.conns != nil {
		h.conns <- c
	}
	return nil, None
}

func (h *fcSequenced) OnClose(_ Conn, err error) Action {
	if h.closes != nil {
		h.closes <- err
	}
	return None
}

func (h *fcSequenced) OnTraffic(c Conn) Action {
	st := c.Context().(*fcSeqConn)
	for c.InboundBuffered() >= fcSeqSize {
		b, _ := c.Next(fcSeqSize)
		seq := binary.BigEndian.Uint64(b)
		if err := c.Execute(func() { h.job(c, st, seq) }); err != nil {
			h.report(fmt.Errorf("Execute for request %d: %w", seq, err))
			return Close
		}
	}
	return None
}

func (h *fcSequenced) job(c Conn, st *fcSeqConn, seq uint64) {
	h.started.Add(1)
	if st.running.Add(1) > 1 {
		h.overlaps.Add(1)
	}
	defer st.running.Add(-1)
	fcRaise(&h.peak, int(h.running.Add(1)))
	defer h.running.Add(-1)
	time.Sleep(time.Duration(st.rng.IntN(2001)) * time.Microsecond)
	if h.panicAt != 0 && seq == h.panicAt {
		panic(fmt.Sprintf("job for request %d", seq))
	}
	var reply [fcSeqSize]byte
	binary.BigEndian.PutUint64(reply[:], seq)
	late := h.panicAt != 0 && seq > h.panicAt
	cb := func(_ Conn, err error) {
		if late {
			h.recordLate(seq, err)
		} else if err != nil {
			h.report(fmt.Errorf("reply %d: %w", seq, err))
		}
	}
	if err := c.AsyncWrite(reply[:], cb); err != nil {
		cb(c, err)
	}
}

func (h *fcSequenced) recordLate(seq uint64, err error) {
	h.lateMu.Lock()
	defer h.lateMu.Unlock()
	h.lateWrite[seq] = err
}

// fcSendSeqs writes requests first..first+n-1 in one write.
func fcSendSeqs(nc net.Conn, first, n int) error {
	buf := make([]byte, 0, n*fcSeqSize)
	for i := range n {
		buf = binary.BigEndian.AppendUint64(buf, uint64(first+i))
	}
	_, err := nc.Write(buf)
	return err
}

// fcExpectSeqs reads replies and checks they are first..first+n-1 in order.
func fcExpectSeqs(nc net.Conn, first, n int) error {
	var b [fcSeqSize]byte
	for i := range n {
		if _, err := io.ReadFull(nc, b[:]); err != nil {
			return fmt.Errorf("reply %d of %d: %w", i, n, err)
		}
		if got, want := binary.BigEndian.Uint64(b[:]), uint64(first+i); got != want {
			return fmt.Errorf("reply %d is for request %d, want %d: out of order", i, got, want)
		}
	}
	return nil
}

// TestExecuteOrder: several connections each pipeline many small requests,
// each handled by a c.Execute job that sleeps a random 0-2 ms: the replies
// come back in request order, no two jobs of one connection ever overlap,
// and jobs of different connections do run in parallel. An Execute that
// is a plain Submit overlaps jobs and reorders the replies.
func TestExecuteOrder(t *testing.T) {
	conns := itScale(4, 3)
	requests := itScale(300, 150)
	h := &fcSequenced{errc: make(chan error, 1)}
	s := startEngine(t, h, "tcp://127.0.0.1:0", WithLoops(2))
	errs := make(chan error, conns)
	start := time.Now()
	for range conns {
		nc := s.dial(t)
		if err := nc.SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
			t.Fatal(err)
		}
		go func() {
			// Two pipelined batches: the second arrives while the first's
			// jobs still run, and must queue behind them.
			err := fcSendSeqs(nc, 0, requests/2)
			if err == nil {
				err = fcSendSeqs(nc, requests/2, requests-requests/2)
			}
			if err == nil {
				err = fcExpectSeqs(nc, 0, requests)
			}
			errs <- err
		}()
	}
	for range conns {
		if err := tbRecv(t, errs, 60*time.Second, "a client"); err != nil {
			t.Error(err)
		}
	}
	t.Logf("%d connections x %d requests in %v; at most %d jobs at once",
		conns, requests, time.Since(start).Round(time.Millisecond), h.peak.Load())
	if n := h.overlaps.Load(); n != 0 {
		t.Errorf("%d jobs began while another job of their connection ran", n)
	}
	if h.peak.Load() < 2 {
		t.Errorf("at most %d job ran at once across %d connections: Execute serialised different connections", h.peak.Load(), conns)
	}
	select {
	case err := <-h.errc:
		t.Error(err)
	default:
	}
}

// TestExecutePanic: the job of request 3 of 10 panics: the connection is
// closed with a *PanicError, the replies before it arrive in order, the
// jobs after it still run (no deadlock) and their writes get ErrClosed,
// and Execute on the closed connection returns ErrClosed. A runner that
// dies with the panic leaves the later jobs unrun.
func TestExecutePanic(t *testing.T) {
	const requests, panicAt = 10, 3
	h := &fcSequenced{panicAt: panicAt, conns: make(chan Conn, 1), closes: make(chan error, 1),
		errc: make(chan error, 1), lateWrite: map[uint64]error{}}
	s := startEngine(t, h, "tcp://127.0.0.1:0", WithLoops(1), WithLogger(tbQuietLogger()))
	nc := s.dial(t)
	if err := nc.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	c := fcRecvConn(t, h.conns)
	if err := fcSendSeqs(nc, 0, requests); err != nil {
		t.Fatal(err)
	}
	if err := fcExpectSeqs(nc, 0, panicAt); err != nil {
		t.Fatalf("replies before the panic: %v", err)
	}
	if k, err := nc.Read(make([]byte, fcSeqSize)); k != 0 || err == nil {
		t.Errorf("read after the replies before the panic = %d bytes, %v; want the connection closed", k, err)
	}
	var perr *PanicError
	if err := tbRecv(t, h.closes, 5*time.Second, "OnClose"); !errors.As(err, &perr) {
		t.Errorf("OnClose(%v), want a *PanicError", err)
	}
	late := func() int {
		h.lateMu.Lock()
		defer h.lateMu.Unlock()
		return len(h.lateWrite)
	}
	if !itEventually(5*time.Second, func() bool { return late() == requests-panicAt-1 }) {
		t.Fatalf("%d of %d jobs began and %d of the %d after the panic finished writing: the runner stalled",
			h.started.Load(), requests, late(), requests-panicAt-1)
	}
	h.lateMu.Lock()
	for seq, err := range h.lateWrite {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("reply %d, after the panic: %v, want ErrClosed", seq, err)
		}
	}
	h.lateMu.Unlock()
	if err := c.Execute(func() { t.Error("a job ran on a closed connection") }); !errors.Is(err, ErrClosed) {
		t.Errorf("Execute after the close = %v, want ErrClosed", err)
	}
	select {
	case err := <-h.errc:
		t.Error(err)
	default:
	}
}

// TestExecuteOverload: with a pool of one goroutine held by a connection's
// job, Execute on another connection fails with ErrPoolOverload and does
// not queue the job, while Execute on the busy connection queues behind
// its running job; once the job ends both work. An Execute that queues
// without a runner would run the refused job later, or strand it.
func TestExecuteOverload(t *testing.T) {
	h := &fcSequenced{conns: make(chan Conn, 2)}
	s := startEngine(t, h, "tcp://127.0.0.1:0", WithLoops(1), WithPoolSize(1))
	s.dial(t)
	busy := fcRecvConn(t, h.conns)
	s.dial(t)
	other := fcRecvConn(t, h.conns)

	started, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	unblock := func() { once.Do(func() { close(release) }) }
	t.Cleanup(unblock) // before the engine's stop, which waits for jobs
	if err := busy.Execute(func() { close(started); <-release }); err != nil {
		t.Fatalf("Execute of the blocking job: %v", err)
	}
	tbRecv(t, started, 5*time.Second, "the blocking job")
	queued := make(chan struct{})
	if err := busy.Execute(func() { close(queued) }); err != nil {
		t.Errorf("Execute behind the running job of the same connection = %v, want nil (queued)", err)
	}
	var refusedRan atomic.Bool
	if err := other.Execute(func() { refusedRan.Store(true) }); !errors.Is(err, ErrPoolOverload) {
		t.Errorf("Execute on another connection with the pool full = %v, want ErrPoolOverload", err)
	}
	unblock()
	tbRecv(t, queued, 5*time.Second, "the job queued behind the blocking one")
	done := make(chan struct{})
	if !itEventually(5*time.Second, func() bool { return other.Execute(func() { close(done) }) == nil }) {
		t.Fatal("Execute still fails 5s after the blocking job finished")
	}
	tbRecv(t, done, 5*time.Second, "the job after the overload")
	if refusedRan.Load() {
		t.Error("the job refused with ErrPoolOverload ran anyway")
	}
}
