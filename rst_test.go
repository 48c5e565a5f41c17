package evloop

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// ftBigSize is what the server writes to the client that resets.
const ftBigSize = 32 << 20

var (
	ftBigOnce sync.Once
	ftBigData []byte
)

// ftBig returns the 32 MiB stream, built once and shared read-only.
func ftBig() []byte {
	ftBigOnce.Do(func() { ftBigData = itPattern(0, ftBigSize) })
	return ftBigData
}

// ftRSTHandler echoes, except that "BIG" is answered with one Write of
// the 32 MiB stream, after which the connection stays open (or, with
// closeAfter, is closed as soon as it is flushed).
type ftRSTHandler struct {
	BaseHandler
	closeAfter    bool
	bigClosed     chan error // OnClose of the connections that got "BIG"
	opens, closes atomic.Int64
}

// ftBigConn marks a connection that was sent the stream.
type ftBigConn struct{}

func (h *ftRSTHandler) OnOpen(Conn) ([]byte, Action) {
	h.opens.Add(1)
	return nil, None
}

func (h *ftRSTHandler) OnTraffic(c Conn) Action {
	if _, big := c.Context().(ftBigConn); !big {
		if b, _ := c.Peek(-1); string(b) == "BIG" {
			_, _ = c.Discard(3)
			c.SetContext(ftBigConn{})
			if _, err := c.Write(ftBig()); err != nil || h.closeAfter {
				return Close
			}
			return None
		}
	}
	return echoHandler{}.OnTraffic(c)
}

func (h *ftRSTHandler) OnClose(c Conn, err error) Action {
	h.closes.Add(1)
	if _, big := c.Context().(ftBigConn); big {
		h.bigClosed <- err
	}
	return None
}

// ftEchoer is one of the connections that must keep echoing on the loop
// while another is reset mid-write. It exchanges messages, tells ready
// after the first, until stop is closed, then one more ("after"), and
// reports on done.
func ftEchoer(nc net.Conn, seed uint64, ready chan<- struct{}, stop <-chan struct{}, during *atomic.Int64, done chan<- error) {
	r := rand.New(rand.NewPCG(seed, 5))
	block := itBlock()
	exchange := func() error {
		n := 1 + r.IntN(4096)
		off := r.IntN(len(block) - n)
		return tbEcho(nc, block[off:off+n], 20*time.Second)
	}
	for i := 0; ; i++ {
		select {
		case <-stop:
			if err := exchange(); err != nil {
				done <- fmt.Errorf("after the reset: %w", err)
				return
			}
			done <- nil
			return
		default:
		}
		if err := exchange(); err != nil {
			done <- fmt.Errorf("round trip %d: %w", i, err)
			return
		}
		if i == 0 {
			ready <- struct{}{}
		}
		during.Add(1)
	}
}

// TestRSTMidWrite has a client ask for 32 MiB, read a random part of it
// and reset the connection, while 50 other connections of the same loop
// keep echoing. The reset connection gets exactly one OnClose, with
// ECONNRESET or EPIPE; no SIGPIPE ends the process; the others never stop
// being served. To see it fail, close a lingering connection whose flush
// failed with a nil error (the "tcp closing" case).
func TestRSTMidWrite(t *testing.T) {
	tests := []struct {
		name       string
		network    string
		closeAfter bool // the server closes right after its Write: the reset hits a lingering connection
	}{
		{name: "tcp", network: "tcp"},
		{name: "tcp closing", network: "tcp", closeAfter: true},
		{name: "unix", network: "unix"},
	}
	const others = 50
	rounds := itScale(3, 2)
	// The reset must find output pending on the server: the client's
	// window is fixed at 256 KiB and the server's send buffer is at most
	// a few MiB (tcp_wmem), so at least 8 MiB stay unread.
	maxRead := itScale(ftBigSize-8<<20, 4<<20)
	big := ftBig()
	for ti, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &ftRSTHandler{closeAfter: tt.closeAfter, bigClosed: make(chan error, 4)}
			addr := "tcp://127.0.0.1:0"
			if tt.network == "unix" {
				addr = "unix://" + filepath.Join(t.TempDir(), "rst.sock")
			}
			s := startEngine(t, h, addr, WithLoops(1), WithOutboundLimit(ftBigSize+(1<<20)), WithLogger(tbQuietLogger()))
			seed := uint64(time.Now().UnixNano())
			r := rand.New(rand.NewPCG(seed, uint64(ti)))
			t.Logf("seed %d", seed)
			for round := 0; round < rounds; round++ {
				stop := make(chan struct{})
				done := make(chan error, others)
				ready := make(chan struct{}, others)
				var during atomic.Int64
				probe := s.dial(t) // echoes from the test goroutine mid-stream
				for i := 0; i < others-1; i++ {
					go ftEchoer(s.dial(t), seed+uint64(round*others+i), ready, stop, &during, done)
				}
				for i := 0; i < others-1; i++ {
					if _, ok := ftAwait(ready, 20*time.Second); !ok {
						t.Fatalf("round %d: only %d of the other connections echoed within 20s", round, i)
					}
				}
				during.Store(0)
				var nc net.Conn
				if tt.network == "tcp" {
					nc = ftDialSmallWindow(t, s.addr, 256<<10)
				} else {
					nc = s.dial(t)
				}
				if err := nc.SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
					t.Fatal(err)
				}
				if _, err := nc.Write([]byte("BIG")); err != nil {
					t.Fatal(err)
				}
				n := 1 + r.IntN(maxRead)
				got := make([]byte, n)
				if _, err := io.ReadFull(nc, got[:n/2]); err != nil {
					t.Fatalf("round %d: read %d bytes of the stream: %v", round, n/2, err)
				}
				// Megabytes wait for this client on the server: the loop
				// must still serve the others.
				if err := tbEcho(probe, []byte(fmt.Sprintf("probe %d", round)), 10*time.Second); err != nil {
					t.Errorf("round %d: a connection of the same loop mid-stream: %v", round, err)
				}
				if _, err := io.ReadFull(nc, got[n/2:]); err != nil {
					t.Fatalf("round %d: read %d bytes of the stream: %v", round, n, err)
				}
				if !bytes.Equal(got, big[:n]) {
					t.Fatalf("round %d: the first %d bytes differ from the stream at %d", round, n, tbFirstDiff(got, big[:n]))
				}
				if tt.network == "tcp" {
					if err := ftLingerZero(nc); err != nil {
						t.Fatal(err)
					}
				}
				nc.Close() // TCP: RST; unix: the server's next write fails with EPIPE
				err, ok := ftAwait(h.bigClosed, 20*time.Second)
				close(stop)
				for i := 0; i < others-1; i++ {
					if e, ok := ftAwait(done, 30*time.Second); !ok {
						t.Fatalf("round %d: an echoing connection did not finish within 30s", round)
					} else if e != nil {
						t.Errorf("round %d: echoing connection: %v", round, e)
					}
				}
				if !ok {
					t.Fatalf("round %d: no OnClose within 20s of the reset after %d bytes", round, n)
				}
				if !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, syscall.EPIPE) {
					t.Errorf("round %d: OnClose(%v) after a reset at %d bytes, want ECONNRESET or EPIPE", round, err, n)
				}
				if e, again := ftAwait(h.bigClosed, 20*time.Millisecond); again {
					t.Errorf("round %d: a second OnClose (%v) for the reset connection", round, e)
				}
				if err := tbEcho(probe, []byte(fmt.Sprintf("probe after %d", round)), 10*time.Second); err != nil {
					t.Errorf("round %d: a connection of the same loop after the reset: %v", round, err)
				}
				t.Logf("round %d: reset after %d of %d bytes; %d round trips on the others meanwhile; OnClose(%v)", round, n, ftBigSize, during.Load(), err)
			}
			s.stop(t)
			if o, c := h.opens.Load(), h.closes.Load(); o != c {
				t.Errorf("OnOpen ran %d times, OnClose %d times", o, c)
			}
		})
	}
}

// ftAcceptGate makes the first accept after arm block until release: the
// connections that arrive meanwhile wait in the listen backlog. Closing
// abort opens the gate for good, so that a failed test can still stop its
// engine.
type ftAcceptGate struct {
	armed   atomic.Bool
	blocked chan struct{}
	release chan struct{}
	abort   chan struct{}
}

func ftInstallAcceptGate(tb testing.TB) *ftAcceptGate {
	tb.Helper()
	g := &ftAcceptGate{blocked: make(chan struct{}, 1), release: make(chan struct{}), abort: make(chan struct{})}
	tbWrapAccept(tb, func(accept func() (int, netip.AddrPort, error)) (int, netip.AddrPort, error) {
		if g.armed.CompareAndSwap(true, false) {
			g.blocked <- struct{}{}
			select {
			case <-g.release:
			case <-g.abort:
			case <-time.After(10 * time.Second): // never hold an engine forever
			}
		}
		return accept()
	})
	return g
}

// TestRSTBeforeAccept aborts connections while they wait in the listen
// backlog (accepting is held by a gated accept): clients that reset or
// close right after connecting, some after sending a byte. Once accepting
// resumes, whatever the kernel still hands over is opened and closed once,
// and the listener goes on serving; no descriptor outlives the engine. To
// see it fail, leave the fd open in closeNow when the connection closed
// with an error (the reset ones).
func TestRSTBeforeAccept(t *testing.T) {
	tests := []struct {
		name string
		opts []Option
	}{
		{name: "acceptor", opts: []Option{WithLoops(2)}},
		{name: "reuseport", opts: []Option{WithLoops(1), WithReusePort(true)}},
	}
	aborted := itScale(48, 16)
	rounds := itScale(4, 2)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := ftTakeProbe(t)
			g := ftInstallAcceptGate(t)
			h := &ftChurnHandler{}
			s := startEngine(t, h, "tcp://127.0.0.1:0", append([]Option{WithLogger(tbQuietLogger())}, tt.opts...)...)
			t.Cleanup(func() { close(g.abort) }) // runs before the engine's stop
			good := s.dial(t)
			if err := tbEcho(good, []byte("before"), 10*time.Second); err != nil {
				t.Fatalf("before: %v", err)
			}
			for round := 0; round < rounds; round++ {
				g.armed.Store(true)
				for i := 0; i < aborted; i++ {
					nc := tbDial(t, s.addr)
					if i == 0 {
						tbRecv(t, g.blocked, 10*time.Second, "accept to be held")
					}
					switch i % 3 {
					case 0:
						_ = ftLingerZero(nc)
					case 1:
						_, _ = nc.Write([]byte("z"))
						_ = ftLingerZero(nc)
					}
					nc.Close() // case 2: FIN
				}
				time.Sleep(20 * time.Millisecond) // let every RST and FIN reach the backlog
				select {
				case g.release <- struct{}{}:
				case <-time.After(10 * time.Second):
					t.Fatal("the held accept did not take the release within 10s")
				}
				fresh := s.dial(t)
				if err := tbEcho(fresh, []byte(fmt.Sprintf("after round %d", round)), 10*time.Second); err != nil {
					t.Fatalf("round %d: a client after the aborted ones: %v", round, err)
				}
				if err := tbEcho(good, []byte(fmt.Sprintf("good %d", round)), 10*time.Second); err != nil {
					t.Fatalf("round %d: the first client: %v", round, err)
				}
				fresh.Close()
			}
			good.Close()
			if !itEventually(10*time.Second, func() bool {
				return s.eng.CountConnections() == 0 && h.opens.Load() == h.closes.Load()
			}) {
				t.Errorf("CountConnections() = %d, OnOpen %d, OnClose %d with every client gone",
					s.eng.CountConnections(), h.opens.Load(), h.closes.Load())
			}
			st := s.eng.Stats()
			t.Logf("%d connections aborted in the backlog over %d rounds; accepted %d in all, %d closed with an error, %d back-offs",
				aborted*rounds, rounds, st.Accepted, h.closeErrs.Load(), st.AcceptBackoffs)
			if uint64(h.opens.Load()) != st.Accepted {
				t.Errorf("OnOpen ran %d times for %d accepted connections", h.opens.Load(), st.Accepted)
			}
			s.stop(t)
			ftAwaitBaseline(t, "after Stop", base)
		})
	}
}
