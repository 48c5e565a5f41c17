package evloop

import (
	"bytes"
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

// Half-close tests: the peer's FIN with and without WithHalfClose, and
// Conn.CloseWrite from the server.

// fcRandom returns n reproducible random bytes.
func fcRandom(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, fcSeed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// fcSeed is the second half of fcRandom's seed.
const fcSeed = 0x5eed

// fcPoolReply collects what a client sends and, when the client shuts
// down its writing side, has a pool job send it all back after a delay,
// then close the connection.
type fcPoolReply struct {
	BaseHandler
	execute    bool // c.Execute rather than c.Submit
	delay      time.Duration
	readClosed atomic.Int64
	closes     chan error
	errc       chan error
}

func (h *fcPoolReply) report(err error) {
	select {
	case h.errc <- err:
	default:
	}
}

func (h *fcPoolReply) OnOpen(c Conn) ([]byte, Action) {
	c.SetContext(new(bytes.Buffer))
	return nil, None
}

func (h *fcPoolReply) OnTraffic(c Conn) Action {
	b, _ := c.Next(-1)
	c.Context().(*bytes.Buffer).Write(b)
	return None
}

func (h *fcPoolReply) OnReadClosed(c Conn) Action {
	h.readClosed.Add(1)
	reply := bytes.Clone(c.Context().(*bytes.Buffer).Bytes())
	job := func() {
		time.Sleep(h.delay)
		cb := func(_ Conn, err error) {
			if err != nil {
				h.report(fmt.Errorf("the reply's AsyncWrite reported %w", err))
			}
		}
		if err := c.AsyncWrite(reply, cb); err != nil {
			h.report(fmt.Errorf("AsyncWrite of the reply after the peer's FIN: %w", err))
		}
		if err := c.Close(); err != nil {
			h.report(fmt.Errorf("Close after the reply: %w", err))
		}
	}
	submit := c.Submit
	if h.execute {
		submit = c.Execute
	}
	if err := submit(job); err != nil {
		h.report(fmt.Errorf("submitting the reply: %w", err))
		return Close
	}
	return None
}

func (h *fcPoolReply) OnClose(_ Conn, err error) Action {
	h.closes <- err
	return None
}

// TestHalfCloseReplyFromPool: with WithHalfClose, a client writes N random
// bytes and shuts down its writing side; OnReadClosed has a pool job reply
// 50 ms later with AsyncWrite and Close; the client reads the whole reply,
// then EOF. An engine that closes on the FIN anyway makes the reply fail
// with ErrClosed and the client read EOF early.
func TestHalfCloseReplyFromPool(t *testing.T) {
	tests := []struct {
		name    string
		n       int
		execute bool
	}{
		{name: "1 B, Submit", n: 1},
		{name: "64 KiB + 1, Execute", n: 64<<10 + 1, execute: true},
		{name: "1 MiB, Execute", n: itScale(1<<20, 256<<10), execute: true},
		{name: "4 MiB, Submit", n: itScale(4<<20, 1<<20)},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const delay = 50 * time.Millisecond
			h := &fcPoolReply{execute: tt.execute, delay: delay, closes: make(chan error, 1), errc: make(chan error, 1)}
			s := fcStartEngine(t, h, WithLoops(1), WithHalfClose(true))
			nc := s.dial(t)
			if err := nc.SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
				t.Fatal(err)
			}
			sent := fcRandom(uint64(i), tt.n)
			if _, err := nc.Write(sent); err != nil {
				t.Fatalf("write: %v", err)
			}
			if err := itCloseWrite(nc); err != nil {
				t.Fatal(err)
			}
			finAt := time.Now()
			got, err := io.ReadAll(nc) // until EOF
			took := time.Since(finAt)
			if err != nil {
				t.Fatalf("read the reply: %v after %d bytes", err, len(got))
			}
			if !bytes.Equal(got, sent) {
				t.Fatalf("reply of %d bytes differs from the %d sent (first difference at %d)", len(got), len(sent), tbFirstDiff(got, sent))
			}
			t.Logf("%d bytes back, then EOF, %v after the FIN", len(got), took.Round(time.Millisecond))
			if took < delay {
				t.Errorf("reply complete %v after the FIN, before the job's %v delay", took, delay)
			}
			if err := tbRecv(t, h.closes, 5*time.Second, "OnClose"); err != nil {
				t.Errorf("OnClose(%v), want nil", err)
			}
			if n := h.readClosed.Load(); n != 1 {
				t.Errorf("OnReadClosed ran %d times, want 1", n)
			}
			select {
			case err := <-h.errc:
				t.Error(err)
			default:
			}
		})
	}
}

// fcEchoReadClose echoes on the loop and counts OnReadClosed calls, which
// an engine without WithHalfClose must not make.
type fcEchoReadClose struct {
	fcEcho
	readClosed atomic.Int64
}

func (h *fcEchoReadClose) OnReadClosed(Conn) Action {
	h.readClosed.Add(1)
	return None
}

// TestHalfCloseOffFlushesThenCloses: without WithHalfClose, a FIN that
// arrives while echoed output is still pending closes the connection only
// once that output is flushed: the client reads the whole echo, then EOF;
// OnReadClosed is not called. An engine that closes at once on the FIN
// cuts the echo short.
func TestHalfCloseOffFlushesThenCloses(t *testing.T) {
	n := itScale(768<<10, 512<<10) // below the high watermark: reading never pauses
	h := &fcEchoReadClose{fcEcho: *newFCEcho()}
	s := fcStartEngine(t, h, WithLoops(1), WithSocketSendBuffer(32<<10))
	nc := s.dial(t)
	// A small receive buffer keeps most of the echo pending on the server.
	if err := nc.(*net.TCPConn).SetReadBuffer(32 << 10); err != nil {
		t.Fatal(err)
	}
	if err := nc.SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
		t.Fatal(err)
	}
	c := fcRecvConn(t, h.conns)
	if _, err := nc.Write(itPattern(0, n)); err != nil {
		t.Fatalf("write: %v", err)
	}
	if err := itCloseWrite(nc); err != nil {
		t.Fatal(err)
	}
	// The premise: the server acts on the FIN while its echo is still
	// pending. A connection closing after the FIN refuses calls from other
	// goroutines; a probe connection on the same loop then looks, on the
	// loop, at what is still pending and whether OnClose ran.
	if !itEventually(5*time.Second, func() bool { return errors.Is(c.Wake(nil), ErrClosed) }) {
		t.Fatal("the server did not act on the FIN within 5s while the client was not reading")
	}
	s.dial(t) // the probe, served by the same loop
	pc := fcRecvConn(t, h.conns)
	type pending struct {
		out    int
		closed bool
	}
	seen := make(chan pending, 1)
	if err := pc.Wake(func(Conn, error) { seen <- pending{out: c.OutboundBuffered(), closed: len(h.closes) > 0} }); err != nil {
		t.Fatalf("Wake on the probe: %v", err)
	}
	if p := tbRecv(t, seen, 5*time.Second, "the probe"); p.out == 0 || p.closed {
		t.Fatalf("after the FIN: %d bytes pending, OnClose ran: %v; want output pending and no OnClose yet, or the test proves nothing", p.out, p.closed)
	}
	got, err := itReadPattern(nc, n)
	if err != nil {
		t.Fatalf("echo: got %d of %d bytes: %v", got, n, err)
	}
	if k, err := nc.Read(make([]byte, 16)); k != 0 || !errors.Is(err, io.EOF) {
		t.Errorf("read after the whole echo = %d, %v; want 0, EOF", k, err)
	}
	if err := tbRecv(t, h.closes, 5*time.Second, "OnClose"); err != nil {
		t.Errorf("OnClose(%v), want nil", err)
	}
	if k := h.readClosed.Load(); k != 0 {
		t.Errorf("OnReadClosed ran %d times without WithHalfClose", k)
	}
}

// fcShutHandler answers "bye" with payload and Conn.CloseWrite, then counts
// what the client still sends and tries to write once more.
type fcShutHandler struct {
	BaseHandler
	payload   []byte
	lateWrite chan error // the Write after CloseWrite
	reports   chan itFINReport

	sawBye bool // loop only (one connection)
	after  int  // bytes received after "bye"
}

func (h *fcShutHandler) OnTraffic(c Conn) Action {
	b, _ := c.Next(-1)
	if !h.sawBye {
		if !bytes.Equal(b, []byte("bye")) {
			return None
		}
		h.sawBye = true
		if _, err := c.Write(h.payload); err != nil {
			return Close
		}
		if err := c.CloseWrite(); err != nil {
			h.lateWrite <- fmt.Errorf("CloseWrite: %w", err)
		}
		return None
	}
	if h.after == 0 {
		_, err := c.Write([]byte("too late"))
		h.lateWrite <- err
	}
	h.after += len(b)
	return None
}

func (h *fcShutHandler) OnClose(_ Conn, err error) Action {
	h.reports <- itFINReport{got: h.after, err: err}
	return None
}

// TestHalfCloseServerCloseWrite: Conn.CloseWrite sends FIN once the pending
// output is flushed: the client reads all of it, then EOF, while the
// server still receives what the client sends; a later server Write fails
// with ErrClosed. An engine that closes the whole connection makes the
// client's later bytes go unseen (or reset); one that sends FIN before the
// pending output cuts the payload short.
func TestHalfCloseServerCloseWrite(t *testing.T) {
	tests := []struct {
		name    string
		payload int
	}{
		{name: "small", payload: 5},
		{name: "pending above the high watermark", payload: itScale(4<<20, 2<<20)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &fcShutHandler{payload: itPattern(0, tt.payload), lateWrite: make(chan error, 2), reports: make(chan itFINReport, 1)}
			s := fcStartEngine(t, h, WithLoops(1), WithSocketSendBuffer(64<<10))
			nc := s.dial(t)
			fcSmallBuffers(t, nc) // the kernel cannot take the payload at once
			if err := nc.SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
				t.Fatal(err)
			}
			if _, err := nc.Write([]byte("bye")); err != nil {
				t.Fatal(err)
			}
			time.Sleep(50 * time.Millisecond) // the payload is pending when CloseWrite runs
			if got, err := itReadPattern(nc, tt.payload); err != nil {
				t.Fatalf("payload: got %d of %d bytes: %v", got, tt.payload, err)
			}
			if k, err := nc.Read(make([]byte, 16)); k != 0 || !errors.Is(err, io.EOF) {
				t.Fatalf("read after the payload = %d, %v; want 0, EOF", k, err)
			}
			more := itScale(256<<10, 64<<10)
			if _, err := nc.Write(itPattern(0, more)); err != nil {
				t.Fatalf("write after the server's FIN: %v", err)
			}
			if err := tbRecv(t, h.lateWrite, 5*time.Second, "the server's write after CloseWrite"); !errors.Is(err, ErrClosed) {
				t.Errorf("Write after CloseWrite = %v, want ErrClosed", err)
			}
			// The client is done: its FIN ends the connection once the
			// server has read everything before it.
			if err := itCloseWrite(nc); err != nil {
				t.Fatal(err)
			}
			rep := tbRecv(t, h.reports, 5*time.Second, "OnClose")
			if rep.got != more || rep.err != nil {
				t.Errorf("server received %d bytes after its FIN and closed with %v; want %d, nil", rep.got, rep.err, more)
			}
		})
	}
}

// TestPausedHangupKeepsBytes: a connection whose reading is paused, that
// has sent its FIN (CloseWrite) and then gets the peer's FIN behind bytes
// it has not read, is shut down both ways: the poller reports a hang-up
// that would wake the loop forever. The bytes must not be lost to it: once
// reading resumes they are all read, then the end of stream.
func TestPausedHangupKeepsBytes(t *testing.T) {
	const size = 100 << 10
	var mu sync.Mutex
	var server Conn
	got := 0
	done := make(chan int, 1)
	h := &tbHandler{
		open: func(c Conn) ([]byte, Action) {
			mu.Lock()
			server = c
			mu.Unlock()
			_ = c.PauseReading()
			_ = c.CloseWrite()
			return nil, None
		},
		traffic: func(c Conn) Action {
			b, _ := c.Next(-1)
			got += len(b)
			return None
		},
	}
	rc := &tbReadClose{tbHandler: h, onReadClosed: func(Conn) Action {
		done <- got
		return Close
	}}
	s := startEngine(t, struct {
		*tbHandler
		ReadCloseHandler
	}{h, rc}, "tcp://127.0.0.1:0", WithLoops(1), WithHalfClose(true))
	c := s.dial(t)
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if n, err := c.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Fatalf("the server's FIN: %d, %v", n, err)
	}
	if _, err := c.Write(make([]byte, size)); err != nil {
		t.Fatal(err)
	}
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // the hang-up, while paused
	mu.Lock()
	sc := server
	mu.Unlock()
	if err := sc.ResumeReading(); err != nil {
		t.Fatalf("ResumeReading: %v (the connection was closed while paused)", err)
	}
	if n := tbRecv(t, done, 5*time.Second, "the end of stream"); n != size {
		t.Fatalf("the server read %d of %d bytes before the end of stream", n, size)
	}
}

// tbReadClose is a ReadCloseHandler from a function.
type tbReadClose struct {
	*tbHandler
	onReadClosed func(Conn) Action
}

func (h *tbReadClose) OnReadClosed(c Conn) Action { return h.onReadClosed(c) }
