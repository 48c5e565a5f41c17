package evloop

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Dialing tests: Engine.Dial and Loop.Dial against servers of package net,
// on loopback and unix sockets, through a client engine (one without a
// listen address).

// dtStdEcho runs an echo server of package net (a goroutine per
// connection, io.Copy) on network ("tcp" on 127.0.0.1, or "unix" in a
// temporary directory) and returns its address. Everything it started is
// closed and waited for when the test ends; register it before the engine
// so that the engine stops first.
func dtStdEcho(tb testing.TB, network string) net.Addr {
	tb.Helper()
	address := "127.0.0.1:0"
	if network == "unix" {
		address = filepath.Join(tb.TempDir(), "echo.sock")
	}
	ln, err := net.Listen(network, address)
	if err != nil {
		tb.Fatal(err)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns = map[net.Conn]bool{}
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns[c] = true
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _ = io.Copy(c, c)
				mu.Lock()
				delete(conns, c)
				mu.Unlock()
				c.Close()
			}()
		}
	}()
	tb.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr()
}

// dtStartClient runs h with no listen address, a client engine, and stops
// it when the test ends.
func dtStartClient(tb testing.TB, h EventHandler, opts ...Option) *testServer {
	tb.Helper()
	hook := &bootHook{EventHandler: h, booted: make(chan Engine, 1)}
	s := &testServer{errc: make(chan error, 1)}
	wrapped := hook.forwarding(h)
	go func() { s.errc <- RunAddrs(wrapped, nil, opts...) }()
	select {
	case s.eng = <-hook.booted:
	case err := <-s.errc:
		tb.Fatalf("RunAddrs(nil) returned before boot: %v", err)
	case <-time.After(10 * time.Second):
		tb.Fatal("client engine did not boot within 10s")
	}
	tb.Cleanup(func() { s.stop(tb) })
	return s
}

// dtSession is one echo exchange of a dialed connection: the bytes it
// sends and what came back, checked once all of it did.
type dtSession struct {
	want []byte
	got  []byte
	done chan error // buffered: the first outcome
}

func newDTSession(seed uint64, n int) *dtSession {
	return &dtSession{want: fcRandom(seed, n), done: make(chan error, 1)}
}

func (s *dtSession) finish(err error) {
	select {
	case s.done <- err:
	default:
	}
}

// dtEchoClient is the handler of a client engine whose connections talk to
// an echo server: each collects the echo of its session and closes once
// all of it is back. A connection's session is its Context (Loop.Dial
// sets it before OnOpen) or, for Engine.Dial, an entry the test stores
// before it writes.
type dtEchoClient struct {
	BaseHandler
	sessions      sync.Map // Conn -> *dtSession
	opens, closes atomic.Int64
	closeErrs     atomic.Int64 // OnClose with an error
}

func (h *dtEchoClient) session(c Conn) *dtSession {
	if s, ok := c.Context().(*dtSession); ok {
		return s
	}
	if v, ok := h.sessions.Load(c); ok {
		return v.(*dtSession)
	}
	return nil
}

func (h *dtEchoClient) OnOpen(Conn) ([]byte, Action) {
	h.opens.Add(1)
	return nil, None
}

func (h *dtEchoClient) OnTraffic(c Conn) Action {
	s := h.session(c)
	if s == nil {
		return None
	}
	b, _ := c.Next(-1)
	s.got = append(s.got, b...)
	if len(s.got) < len(s.want) {
		return None
	}
	if i := tbFirstDiff(s.got, s.want); i >= 0 {
		s.finish(fmt.Errorf("echo of %d bytes differs at byte %d", len(s.want), i))
	} else {
		s.finish(nil)
	}
	return Close
}

func (h *dtEchoClient) OnClose(c Conn, err error) Action {
	h.closes.Add(1)
	if err != nil {
		h.closeErrs.Add(1)
	}
	if s := h.session(c); s != nil {
		s.finish(fmt.Errorf("closed after %d of %d bytes: %v", len(s.got), len(s.want), err))
	}
	return None
}

// dtSize returns the size of session i: 1 B up to 64 KiB.
func dtSize(r *rand.Rand, i int) int {
	if i == 0 {
		return 1
	}
	return 1 + r.IntN(64<<10)
}

// dtSettle waits for OnOpen and OnClose to balance at want.
func dtSettle(tb testing.TB, h *dtEchoClient, want int64) {
	tb.Helper()
	if !itEventually(5*time.Second, func() bool { return h.opens.Load() == want && h.closes.Load() == want }) {
		tb.Errorf("OnOpen ran %d times and OnClose %d times, want %d each", h.opens.Load(), h.closes.Load(), want)
	}
}

// TestDialEcho dials a package-net echo server 1,000 times with
// Engine.Dial from several goroutines, sends each connection random bytes
// and checks that the same come back, over TCP and unix sockets.
func TestDialEcho(t *testing.T) {
	for _, network := range []string{"tcp", "unix"} {
		t.Run(network, func(t *testing.T) {
			addr := dtStdEcho(t, network)
			h := &dtEchoClient{}
			s := dtStartClient(t, h, WithLoops(2))
			n := tbScale(1000, 4)
			const workers = 16
			errc := make(chan error, workers)
			var next atomic.Int64
			for w := range workers {
				go func() {
					r := rand.New(rand.NewPCG(uint64(w), 1))
					for {
						i := int(next.Add(1) - 1)
						if i >= n {
							errc <- nil
							return
						}
						if err := dtEngineSession(s.eng, h, addr, uint64(i), dtSize(r, i)); err != nil {
							errc <- fmt.Errorf("session %d: %w", i, err)
							return
						}
					}
				}()
			}
			for range workers {
				if err := <-errc; err != nil {
					t.Fatal(err)
				}
			}
			dtSettle(t, h, int64(n))
			if st := s.eng.Stats(); st.Dialed != uint64(n) || st.DialFailures != 0 || st.Accepted != 0 {
				t.Errorf("Stats = %+v, want Dialed %d and no failure or accept", st, n)
			}
			if h.closeErrs.Load() != 0 {
				t.Errorf("%d connections closed with an error", h.closeErrs.Load())
			}
		})
	}
}

// dtEngineSession runs one echo exchange on a connection from
// Engine.Dial.
func dtEngineSession(eng Engine, h *dtEchoClient, addr net.Addr, seed uint64, size int) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := eng.Dial(ctx, addr.Network(), addr.String())
	if err != nil {
		return err
	}
	s := newDTSession(seed, size)
	h.sessions.Store(c, s)
	defer h.sessions.Delete(c)
	if err := c.AsyncWrite(s.want, nil); err != nil {
		return fmt.Errorf("AsyncWrite: %w", err)
	}
	select {
	case err := <-s.done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("no echo within 10s: %d of %d bytes", len(s.got), len(s.want))
	}
}

// TestLoopDialEcho dials a package-net echo server 1,000 times with
// Loop.Dial from callbacks on the loops (a loop timer stands for a
// handler), at most 32 at a time: the callback writes the session's bytes
// on the loop, and the echo must come back whole.
func TestLoopDialEcho(t *testing.T) {
	addr := dtStdEcho(t, "tcp")
	h := &dtEchoClient{}
	s := dtStartClient(t, h, WithLoops(2))
	loops := s.eng.Loops()
	n := tbScale(1000, 4)
	r := rand.New(rand.NewPCG(7, 7))
	window := make(chan struct{}, 32)
	errc := make(chan error, n)
	for i := range n {
		window <- struct{}{}
		sess := newDTSession(uint64(i), dtSize(r, i))
		lp := loops[i%len(loops)]
		onLoop := make(chan uint64, 1)
		lp.AfterFunc(0, func() {
			onLoop <- tbGoroutineID()
			err := lp.Dial(addr.Network(), addr.String(), 5*time.Second, sess, func(c Conn, err error) {
				if err != nil {
					sess.finish(err)
					return
				}
				if c.Loop() != lp {
					sess.finish(fmt.Errorf("dialed connection on %v, want %v", c.Loop(), lp))
				}
				if c.Context() != sess {
					sess.finish(errors.New("the connection's Context is not the one given to Dial"))
				}
				if _, err := c.Write(sess.want); err != nil {
					sess.finish(fmt.Errorf("Write in the dial callback: %w", err))
				}
			})
			if err != nil {
				sess.finish(fmt.Errorf("Loop.Dial: %w", err))
			}
		})
		go func() {
			defer func() { <-window }()
			select {
			case err := <-sess.done:
				errc <- err
			case <-time.After(10 * time.Second):
				errc <- fmt.Errorf("session %d: no outcome within 10s", i)
			}
		}()
		if i == 0 && tbRecv(t, onLoop, 5*time.Second, "the timer") == tbGoroutineID() {
			t.Fatal("the timer ran on the test's goroutine")
		}
	}
	for i := range n {
		if err := <-errc; err != nil {
			t.Fatalf("session %d: %v", i, err)
		}
	}
	dtSettle(t, h, int64(n))
	if st := s.eng.Stats(); st.Dialed != uint64(n) || st.DialFailures != 0 {
		t.Errorf("Stats = %+v, want Dialed %d and no failure", st, n)
	}
}

// TestLoopDialOffLoopAndByName: Loop.Dial from a goroutine that is not a
// loop's queues the dial to the loop, and a host name ("localhost") is
// resolved off the loop; the callback runs on the loop either way, and
// Engine.Dial resolves the name too.
func TestLoopDialOffLoopAndByName(t *testing.T) {
	addr := dtStdEcho(t, "tcp").(*net.TCPAddr)
	h := &dtEchoClient{}
	s := dtStartClient(t, h, WithLoops(1))
	lp := s.eng.Loops()[0]
	loopGoid := make(chan uint64, 1)
	lp.AfterFunc(0, func() { loopGoid <- tbGoroutineID() })
	want := tbRecv(t, loopGoid, 5*time.Second, "the loop's goroutine")
	tests := []struct {
		address string
		timeout time.Duration
	}{
		{address: addr.String(), timeout: 5 * time.Second},
		{address: fmt.Sprintf("localhost:%d", addr.Port), timeout: 5 * time.Second},
		{address: addr.String(), timeout: math.MaxInt64}, // too long to add to the clock: none
	}
	for i, tt := range tests {
		address := tt.address
		sess := newDTSession(uint64(i), 1000)
		ran := make(chan uint64, 1)
		err := lp.Dial("tcp", address, tt.timeout, sess, func(c Conn, err error) {
			ran <- tbGoroutineID()
			if err != nil {
				sess.finish(err)
				return
			}
			_, _ = c.Write(sess.want)
		})
		if err != nil {
			t.Fatalf("Loop.Dial(%q): %v", address, err)
		}
		if g := tbRecv(t, ran, 5*time.Second, "the dial callback"); g != want {
			t.Errorf("Loop.Dial(%q): callback on goroutine %d, want the loop's %d", address, g, want)
		}
		if err := tbRecv(t, sess.done, 5*time.Second, "the echo"); err != nil {
			t.Errorf("Loop.Dial(%q): %v", address, err)
		}
	}
	// An empty host is the local system, as for net.Dial.
	if err := dtEngineSession(s.eng, h, &net.TCPAddr{Port: addr.Port}, 9, 100); err != nil {
		t.Errorf("Engine.Dial to :%d: %v", addr.Port, err)
	}
	c, err := s.eng.Dial(context.Background(), "tcp", fmt.Sprintf("localhost:%d", addr.Port))
	if err != nil {
		t.Fatalf("Engine.Dial(localhost): %v", err)
	}
	if ra := c.RemoteAddr().(*net.TCPAddr); !ra.IP.IsLoopback() || ra.Port != addr.Port {
		t.Errorf("RemoteAddr = %v, want the loopback echo server on port %d", ra, addr.Port)
	}
	_ = c.Close()
}

// TestClientOnlyEngine: an engine run with no address serves only what it
// dials; Addrs is empty, and it stops like any other.
func TestClientOnlyEngine(t *testing.T) {
	addr := dtStdEcho(t, "tcp")
	h := &dtEchoClient{}
	s := dtStartClient(t, h, WithLoops(1))
	if a := s.eng.Addrs(); len(a) != 0 {
		t.Errorf("Addrs = %v, want none", a)
	}
	if err := dtEngineSession(s.eng, h, addr, 1, 4096); err != nil {
		t.Fatal(err)
	}
	s.stop(t)
	dtSettle(t, h, 1)

	// RunAddrsContext with no address returns nil once ctx ends.
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	booted := make(chan struct{})
	go func() {
		errc <- RunAddrsContext(ctx, &tbHandler{boot: func(Engine) Action { close(booted); return None }}, nil, WithLoops(1))
	}()
	tbRecv(t, booted, 5*time.Second, "OnBoot")
	cancel()
	if err := tbRecv(t, errc, 10*time.Second, "RunAddrsContext"); err != nil {
		t.Errorf("RunAddrsContext(nil addresses) = %v after its context ended, want nil", err)
	}
}

// TestDialLoadBalancing: Engine.Dial spreads connections over the loops
// by the engine's policy: in turn with RoundRobin, by the address dialed
// with SourceAddrHash.
func TestDialLoadBalancing(t *testing.T) {
	addr := dtStdEcho(t, "tcp")
	tests := []struct {
		lb   LoadBalancing
		want func(i int, first int) int // the loop of dial i, given the first's
	}{
		{lb: RoundRobin, want: func(i, first int) int { return (first + i) % 3 }},
		{lb: SourceAddrHash, want: func(_, first int) int { return first }},
	}
	for _, tt := range tests {
		t.Run(tt.lb.String(), func(t *testing.T) {
			s := dtStartClient(t, &dtEchoClient{}, WithLoops(3), WithLoadBalancing(tt.lb))
			first := -1
			for i := range 6 {
				c, err := s.eng.Dial(context.Background(), "tcp", addr.String())
				if err != nil {
					t.Fatal(err)
				}
				if first < 0 {
					first = c.Loop().Index()
				}
				if got, want := c.Loop().Index(), tt.want(i, first); got != want {
					t.Errorf("dial %d on loop %d, want %d", i, got, want)
				}
				_ = c.Close()
			}
		})
	}
}
