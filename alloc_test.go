//go:build !race && !evloop_debug

package evloop

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/evloop/evloop/internal/socket"
)

// tbFrameEcho echoes whole frames of frameSize bytes and leaves a partial
// frame buffered, so that every turn goes through the connection's ring.
type tbFrameEcho struct {
	BaseHandler
	frameSize int
}

func (h tbFrameEcho) OnTraffic(c Conn) Action {
	for c.InboundBuffered() >= h.frameSize {
		b, _ := c.Next(h.frameSize)
		if _, err := c.Write(b); err != nil {
			return Close
		}
	}
	return None
}

// tbHeaderEcho answers each message with a fixed header and the message,
// with one Writev of loop-owned slices.
type tbHeaderEcho struct {
	BaseHandler
	bufs [][]byte // reused; only touched by the loop (WithLoops(1))
}

var tbHeader = []byte("HDR:")

func (h *tbHeaderEcho) OnTraffic(c Conn) Action {
	b, _ := c.Next(-1)
	h.bufs = append(h.bufs[:0], tbHeader, b)
	if _, err := c.Writev(h.bufs); err != nil {
		return Close
	}
	return None
}

// tbWakeEcho leaves each message unread and asks for a Wake; the OnTraffic
// that the Wake runs echoes it.
type tbWakeEcho struct {
	BaseHandler
	woken bool // loop-owned (WithLoops(1))
}

func (h *tbWakeEcho) OnTraffic(c Conn) Action {
	if !h.woken {
		h.woken = true
		if err := c.Wake(nil); err != nil {
			return Close
		}
		return None
	}
	h.woken = false
	b, _ := c.Next(-1)
	if _, err := c.Write(b); err != nil {
		return Close
	}
	return None
}

// tbBigReply answers every message with reply, far more than the socket
// buffers along the way hold, so each Write is partial: the rest goes
// through the pending output, EPOLLOUT and the writable flush. It counts
// the turns whose Write left output pending.
type tbBigReply struct {
	BaseHandler
	reply   []byte
	pending atomic.Int64
}

func (h *tbBigReply) OnTraffic(c Conn) Action {
	_, _ = c.Discard(c.InboundBuffered())
	if _, err := c.Write(h.reply); err != nil {
		return Close
	}
	if c.OutboundBuffered() > 0 {
		h.pending.Add(1)
	}
	return None
}

// TestEchoTurnZeroAlloc: once warm, a server turn (read, OnTraffic, write)
// allocates nothing, on every path: the read buffer's view, the inbound
// ring, writev, AsyncWrite, Wake, and a partial write whose rest waits in
// the outbound ring for EPOLLOUT. The client's side of each round trip
// (net.Conn Write and Read on preallocated buffers) does not allocate
// either, so every malloc counted during the round trips is the engine's.
// Strict: fewer than one allocation per hundred turns.
func TestEchoTurnZeroAlloc(t *testing.T) {
	const msgSize = 64
	const turns = 4000 // cheap (no race detector here): no need to scale down
	bigReply := &tbBigReply{reply: bytes.Repeat([]byte{'r'}, 128<<10)}
	tests := []struct {
		name    string
		handler EventHandler
		// prime is sent once before the turns; reply is how many bytes
		// each turn's msgSize bytes bring back.
		prime []byte
		reply int
		opts  []Option
		// premise, when set, checks after the turns that they took the
		// path the case is about.
		premise func(turns int) error
	}{
		{name: "view", handler: echoHandler{}, reply: msgSize},
		// Frames straddle the messages: every turn appends to the ring,
		// consumes one frame across the boundary and keeps half a frame.
		{name: "ring", handler: tbFrameEcho{frameSize: msgSize}, prime: make([]byte, msgSize/2), reply: msgSize},
		{name: "writev", handler: &tbHeaderEcho{}, reply: len(tbHeader) + msgSize},
		{name: "async write", handler: tbAsyncEcho{}, reply: msgSize},
		{name: "wake", handler: &tbWakeEcho{}, reply: msgSize},
		// A 128 KiB reply through a 16 KiB send buffer to a client with a
		// 32 KiB receive buffer: every Write is partial, and the rest is
		// queued in the outbound ring, flushed on EPOLLOUT, and the ring
		// released and EPOLLOUT disarmed once drained.
		{name: "partial write and writable flush", handler: bigReply, reply: len(bigReply.reply),
			opts: []Option{WithSocketSendBuffer(16 << 10)},
			premise: func(turns int) error {
				if n := bigReply.pending.Load(); n < int64(turns) {
					return fmt.Errorf("only %d of %d turns left output pending: the flush path was not measured", n, turns)
				}
				return nil
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := append([]Option{WithLoops(1)}, tt.opts...)
			s := startEngine(t, tt.handler, "tcp://127.0.0.1:0", opts...)
			cl := s.dial(t)
			// A fixed receive buffer: autotuning could grow it until a big
			// reply fits whole and the partial-write path goes unused.
			if err := cl.(*net.TCPConn).SetReadBuffer(32 << 10); err != nil {
				t.Fatal(err)
			}
			msg := bytes.Repeat([]byte{'m'}, msgSize)
			got := make([]byte, tt.reply)
			if len(tt.prime) > 0 {
				if _, err := cl.Write(tt.prime); err != nil {
					t.Fatal(err)
				}
			}
			// A stuck server fails the test by this deadline rather than
			// hanging it; set once, it costs nothing per turn.
			if err := cl.SetDeadline(time.Now().Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
			turn := func() error {
				if _, err := cl.Write(msg); err != nil {
					return err
				}
				_, err := io.ReadFull(cl, got)
				return err
			}
			tbZeroAllocTurns(t, turns, turn, "echo turn")
			if tt.premise != nil {
				if err := tt.premise(200 + turns); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

// tbZeroAllocTurns warms up with 200 turns (pools, rings, scratch), then
// fails the test unless n more turns allocate less than once per hundred.
func tbZeroAllocTurns(t *testing.T, n int, turn func() error, what string) {
	t.Helper()
	for i := 0; i < 200; i++ {
		if err := turn(); err != nil {
			t.Fatalf("warm-up turn %d: %v", i, err)
		}
	}
	mallocs, err := tbCountMallocs(n, turn)
	if err != nil {
		t.Fatal(err)
	}
	per := float64(mallocs) / float64(n)
	t.Logf("%d allocations in %d turns (%.4f per turn)", mallocs, n, per)
	// Noise from the test's own goroutines is tolerated, never one
	// allocation per message. On the portable backend a loop that waits
	// blocks on a channel, not in a system call, and the runtime allocates
	// the record of a blocked goroutine (a sudog) afresh after each garbage
	// collection empties its caches: about one allocation per hundred
	// turns of the partial-write test, whose flushes block the loop most.
	limit := 0.01
	if socket.Portable {
		limit = 0.05
	}
	if per >= limit {
		t.Errorf("%.4f allocations per %s, want 0 (< %g)", per, what, limit)
	}
}

// tbCountMallocs runs f n times and returns the process's heap allocations
// meanwhile.
func tbCountMallocs(n int, f func() error) (uint64, error) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := 0; i < n; i++ {
		if err := f(); err != nil {
			return 0, fmt.Errorf("turn %d: %w", i, err)
		}
	}
	runtime.ReadMemStats(&after)
	return after.Mallocs - before.Mallocs, nil
}

// TestClientRoundTripZeroAlloc checks the measuring instrument: the client
// side alone (against a plain net echo peer that reuses its buffer) must
// not allocate, or TestEchoTurnZeroAlloc would blame the engine for it.
func TestClientRoundTripZeroAlloc(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	served := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			served <- err
			return
		}
		defer c.Close()
		buf := make([]byte, 64)
		for {
			n, err := c.Read(buf)
			if err != nil {
				served <- nil // the client closed
				return
			}
			if _, err := c.Write(buf[:n]); err != nil {
				served <- err
				return
			}
		}
	}()
	cl, err := net.DialTimeout("tcp", ln.Addr().String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.SetDeadline(time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	msg, got := bytes.Repeat([]byte{'c'}, 64), make([]byte, 64)
	turn := func() error {
		if _, err := cl.Write(msg); err != nil {
			return err
		}
		_, err := io.ReadFull(cl, got)
		return err
	}
	for i := 0; i < 100; i++ {
		if err := turn(); err != nil {
			t.Fatal(err)
		}
	}
	turns := tbScale(2000, 2)
	mallocs, err := tbCountMallocs(turns, turn)
	cl.Close()
	if serr := tbRecv(t, served, 5*time.Second, "the echo peer"); serr != nil {
		t.Errorf("echo peer: %v", serr)
	}
	if err != nil {
		t.Fatal(err)
	}
	if per := float64(mallocs) / float64(turns); per >= 0.01 {
		t.Errorf("the client's round trip allocates %.4f times per turn; the engine's measurement is unsound", per)
	}
}

// tbDatagramAsyncEcho echoes each datagram through its DatagramPeer, as a
// pool job's reply would go (here straight from the callback, so that only
// the engine's path is counted).
type tbDatagramAsyncEcho struct{ BaseHandler }

func (tbDatagramAsyncEcho) OnTraffic(c Conn) Action {
	b, _ := c.Next(-1)
	if p, ok := DatagramPeerOf(c); ok {
		_ = p.AsyncWrite(b, nil)
	}
	return None
}

// TestDatagramTurnZeroAlloc: once warm, a udp:// turn (recvmmsg, OnTraffic
// through the reused datagram Conn, the reply queued and sent by sendmmsg)
// allocates nothing, nor does a reply through DatagramPeer.AsyncWrite.
func TestDatagramTurnZeroAlloc(t *testing.T) {
	const msgSize, turns = 64, 4000
	for _, tt := range []struct {
		name string
		h    EventHandler
	}{{"write", echoHandler{}}, {"peer async write", tbDatagramAsyncEcho{}}} {
		t.Run(tt.name, func(t *testing.T) {
			s := startEngine(t, tt.h, "udp://127.0.0.1:0", WithLoops(1))
			cl := udpClient(t, s.addr)
			if err := cl.SetDeadline(time.Now().Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
			msg := bytes.Repeat([]byte{'d'}, msgSize)
			got := make([]byte, 2*msgSize)
			turn := func() error {
				if _, err := cl.Write(msg); err != nil {
					return err
				}
				n, err := cl.Read(got)
				if err == nil && n != msgSize {
					err = fmt.Errorf("a %d-byte reply to %d bytes", n, msgSize)
				}
				return err
			}
			tbZeroAllocTurns(t, turns, turn, "datagram turn")
		})
	}
}
