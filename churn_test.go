package evloop

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// ftEpollWatches counts the registrations of every epoll instance the
// process holds: the "tfd:" lines of /proc/self/fdinfo/<fd> for each fd
// that is an eventpoll. The Go runtime's own poller is included; it
// returns to its baseline once the test's clients are closed. kqueue has
// no such listing, so elsewhere it returns 0 and only the descriptor and
// goroutine counts are checked.
func ftEpollWatches(tb testing.TB) int {
	tb.Helper()
	if runtime.GOOS != "linux" {
		return 0
	}
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		tb.Fatalf("list descriptors: %v", err)
	}
	n := 0
	for _, e := range ents {
		if link, err := os.Readlink("/proc/self/fd/" + e.Name()); err != nil || link != "anon_inode:[eventpoll]" {
			continue // closed meanwhile, or not an epoll fd
		}
		f, err := os.Open("/proc/self/fdinfo/" + e.Name())
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "tfd:") {
				n++
			}
		}
		f.Close()
	}
	return n
}

// ftProbe is a snapshot of what must return to baseline.
type ftProbe struct{ fds, watches, goroutines int }

func ftTakeProbe(tb testing.TB) ftProbe {
	tb.Helper()
	return ftProbe{fds: itCountFDs(tb), watches: ftEpollWatches(tb), goroutines: runtime.NumGoroutine()}
}

// ftAwaitBaseline waits until descriptors, epoll registrations and
// goroutines are no more than in base, and fails the test if they stay
// above it.
func ftAwaitBaseline(tb testing.TB, when string, base ftProbe) {
	tb.Helper()
	var now ftProbe
	if !itEventually(5*time.Second, func() bool {
		now = ftTakeProbe(tb)
		return now.fds <= base.fds && now.watches <= base.watches && now.goroutines <= base.goroutines
	}) {
		tb.Errorf("%s: %d descriptors, %d epoll registrations, %d goroutines; baseline %d, %d, %d",
			when, now.fds, now.watches, now.goroutines, base.fds, base.watches, base.goroutines)
	}
}

// ftChurnHandler echoes, except on its closer listener, where OnOpen
// says goodbye and closes.
type ftChurnHandler struct {
	BaseHandler
	closer        atomic.Pointer[string] // the closer listener's address
	opens, closes atomic.Int64
	closeErrs     atomic.Int64 // OnClose with an error (resets)
}

func (h *ftChurnHandler) OnOpen(c Conn) ([]byte, Action) {
	h.opens.Add(1)
	if p := h.closer.Load(); p != nil && c.LocalAddr().String() == *p {
		return []byte("bye"), Close
	}
	return nil, None
}

func (h *ftChurnHandler) OnTraffic(c Conn) Action { return echoHandler{}.OnTraffic(c) }

func (h *ftChurnHandler) OnClose(_ Conn, err error) Action {
	h.closes.Add(1)
	if err != nil {
		h.closeErrs.Add(1)
	}
	return None
}

// ftChurnMode is what one connect/close cycle does.
type ftChurnMode int

const (
	ftClientFirst     ftChurnMode = iota // one echo, then the client closes
	ftServerInOpen                       // the server's OnOpen writes "bye" and closes
	ftResetAfterByte                     // one byte sent, then SO_LINGER 0 close (RST)
	ftResetAtOnce                        // RST right after connecting
	ftCloseAtOnce                        // FIN before the first byte
	ftUnixClientFirst                    // ftClientFirst over the unix listener
	ftChurnModes
)

// ftLingerZero makes closing nc send RST.
func ftLingerZero(nc net.Conn) error {
	tc, ok := nc.(*net.TCPConn)
	if !ok {
		return fmt.Errorf("%T is not TCP", nc)
	}
	return tc.SetLinger(0)
}

// ftChurnCycle runs one cycle; it reports by its result.
func ftChurnCycle(mode ftChurnMode, echo, closer, unixAddr net.Addr) error {
	addr := echo
	switch mode {
	case ftServerInOpen:
		addr = closer
	case ftUnixClientFirst:
		addr = unixAddr
	}
	nc, err := itDial(addr.Network(), addr.String())
	if err != nil {
		return err
	}
	defer nc.Close()
	if err := nc.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		return err
	}
	switch mode {
	case ftClientFirst, ftUnixClientFirst:
		if _, err := nc.Write([]byte("x")); err != nil {
			return err
		}
		var b [1]byte
		if _, err := io.ReadFull(nc, b[:]); err != nil || b[0] != 'x' {
			return fmt.Errorf("echo: %q, %v", b[:], err)
		}
	case ftServerInOpen:
		got, err := io.ReadAll(nc)
		if err != nil || string(got) != "bye" {
			return fmt.Errorf("closer: read %q, %v; want \"bye\" and EOF", got, err)
		}
	case ftResetAfterByte:
		if _, err := nc.Write([]byte("y")); err != nil {
			return err
		}
		return ftLingerZero(nc)
	case ftResetAtOnce:
		return ftLingerZero(nc)
	}
	return nil
}

// TestChurnLeaks runs 10,000 connect/close cycles (2,000 under -short or
// the race detector) from 8 clients at once, mixing the ways a connection
// ends. Afterwards every accepted connection was opened and closed once,
// and descriptors, epoll registrations and goroutines are back at their
// baselines, both after the churn and after Stop. To see it fail, leave the
// fd open in closeNow when the connection closed with an error.
func TestChurnLeaks(t *testing.T) {
	cycles := itScale(10000, 2000)
	const workers = 8
	before := ftTakeProbe(t)
	h := &ftChurnHandler{}
	sock := filepath.Join(t.TempDir(), "churn.sock")
	s := itServe(t, h, []string{"tcp://127.0.0.1:0", "tcp://127.0.0.1:0", "unix://" + sock},
		WithLoops(2), WithLogger(tbQuietLogger()))
	addrs := s.eng.Addrs()
	closer := addrs[1].String()
	h.closer.Store(&closer)
	time.Sleep(20 * time.Millisecond) // let the loops and the acceptor reach their first wait
	running := ftTakeProbe(t)

	var next atomic.Int64
	var modes [ftChurnModes]atomic.Int64
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 99))
			var first error
			failures := 0
			for next.Add(1) <= int64(cycles) {
				mode := ftChurnMode(r.IntN(int(ftChurnModes)))
				modes[mode].Add(1)
				if err := ftChurnCycle(mode, addrs[0], addrs[1], addrs[2]); err != nil {
					failures++
					if first == nil {
						first = fmt.Errorf("mode %d: %w", mode, err)
					}
					if failures >= 10 {
						break
					}
				}
			}
			if first != nil {
				first = fmt.Errorf("%d failed cycles, the first: %w", failures, first)
			}
			errs <- first
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	var counts []string
	for m := range modes {
		counts = append(counts, strconv.FormatInt(modes[m].Load(), 10))
	}
	t.Logf("%d cycles; per mode (client-first, server-in-OnOpen, RST after a byte, RST at once, FIN at once, unix): %s",
		cycles, strings.Join(counts, ", "))

	var accepted uint64
	if !itEventually(10*time.Second, func() bool {
		accepted = s.eng.Stats().Accepted
		return h.closes.Load() == h.opens.Load() && uint64(h.opens.Load()) == accepted && s.eng.CountConnections() == 0
	}) {
		t.Errorf("after the churn: OnOpen %d, OnClose %d, Stats().Accepted %d, CountConnections() %d; want all equal and 0 open",
			h.opens.Load(), h.closes.Load(), accepted, s.eng.CountConnections())
	}
	// A connection reset right after connecting can die in the kernel
	// before anyone accepts it: when the accept queue overflows on a loaded
	// machine, the handshake's last ACK is dropped and the RST then removes
	// the half-open connection (seen once in CI: 1999 of 2000). Only those
	// may be missing; every other connect must be accepted.
	resets := uint64(modes[ftResetAfterByte].Load() + modes[ftResetAtOnce].Load())
	if accepted > uint64(cycles) || accepted+resets < uint64(cycles) {
		t.Errorf("Stats().Accepted = %d after %d connects (%d of them reset at once), want %d, or at most %d fewer",
			accepted, cycles, resets, cycles, resets)
	} else if accepted != uint64(cycles) {
		t.Logf("%d reset connections never reached accept", uint64(cycles)-accepted)
	}
	t.Logf("OnClose with an error (resets): %d", h.closeErrs.Load())
	ftAwaitBaseline(t, "after the churn", running)
	s.stop(t)
	ftAwaitBaseline(t, "after Stop", before)
}

// ftReuseHandler echoes. A "block" byte on the blocker connection holds
// the loop inside OnTraffic until released, so that the test can line up
// work for the loop's next iteration; "fill" asks for fillSize bytes the
// client will not read.
type ftReuseHandler struct {
	BaseHandler
	opened   chan ftOpened
	closed   chan error // OnClose of filled connections
	blocked  chan struct{}
	release  chan struct{}
	abort    chan struct{} // closed when the test ends: never hold the loop
	fillSize int
}

type ftOpened struct {
	c  Conn
	fd int32
}

// ftReuseConn is a connection's context: whether it was filled.
type ftReuseConn struct{ filled bool }

func (h *ftReuseHandler) OnOpen(c Conn) ([]byte, Action) {
	c.SetContext(&ftReuseConn{})
	select {
	case h.opened <- ftOpened{c: c, fd: c.(*conn).fd}:
	default:
	}
	return nil, None
}

func (h *ftReuseHandler) OnTraffic(c Conn) Action {
	b, _ := c.Peek(-1)
	switch string(b) {
	case "block":
		h.blocked <- struct{}{}
		select {
		case <-h.release:
		case <-h.abort:
		case <-time.After(10 * time.Second):
		}
	case "fill":
		_, _ = c.Discard(len(b))
		c.Context().(*ftReuseConn).filled = true
		if _, err := c.Write(bytes.Repeat([]byte{'A'}, h.fillSize)); err != nil {
			return Close
		}
		return None
	}
	return echoHandler{}.OnTraffic(c)
}

func (h *ftReuseHandler) OnClose(c Conn, err error) Action {
	if c.Context().(*ftReuseConn).filled {
		select {
		case h.closed <- err:
		default:
		}
	}
	return None
}

// ftDialSmallWindow connects with a receive buffer of rcvbuf bytes, fixed
// before the handshake (which turns autotuning off), so that most of a
// server's large write stays pending on the server's side.
func ftDialSmallWindow(tb testing.TB, addr net.Addr, rcvbuf int) net.Conn {
	tb.Helper()
	d := net.Dialer{Timeout: 5 * time.Second, Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = tbSetRecvBuffer(fd, rcvbuf)
		})
		return errors.Join(err, serr)
	}}
	nc, err := d.Dial(addr.Network(), addr.String())
	if err != nil {
		tb.Fatalf("dial %v: %v", addr, err)
	}
	tb.Cleanup(func() { nc.Close() })
	return nc
}

// TestStaleWorkAfterFDReuse closes connection A while work for it is
// queued, and opens B on A's fd number before that work runs: the loop is
// held inside a callback while AsyncWrites for A are queued, A's client
// goes away and B connects; once released, one loop iteration closes A,
// accepts B (reuseport: on the loop itself, which takes the lowest free fd)
// and only then runs A's tasks. In "pending flush" A also holds output
// waiting for EPOLLOUT and is reset. B must never see a byte of A's. To
// see it fail, make taskWrite look its connection up by fd instead of
// using the task's *conn.
func TestStaleWorkAfterFDReuse(t *testing.T) {
	tests := []struct {
		name  string
		flush bool // A has pending output and its client resets
	}{
		{name: "queued AsyncWrite"},
		{name: "pending flush", flush: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rounds := itScale(20, 6)
			h := &ftReuseHandler{
				opened:   make(chan ftOpened, 1),
				closed:   make(chan error, 1),
				blocked:  make(chan struct{}, 1),
				release:  make(chan struct{}),
				abort:    make(chan struct{}),
				fillSize: 2 << 20,
			}
			s := startEngine(t, h, "tcp://127.0.0.1:0", WithLoops(1), WithReusePort(true),
				WithSocketSendBuffer(16<<10), WithLogger(tbQuietLogger()))
			t.Cleanup(func() { close(h.abort) }) // runs before the engine's stop
			blocker := s.dial(t)
			tbRecv(t, h.opened, 10*time.Second, "OnOpen of the blocker")
			nc := s.dial(t)
			a := tbRecv(t, h.opened, 10*time.Second, "OnOpen of A")
			reused := 0
			var callbacks, cbErrs atomic.Int64
			for round := 0; round < rounds && !t.Failed(); round++ {
				if tt.flush {
					nc.Close()
					nc = ftDialSmallWindow(t, s.addr, 4<<10)
					a = tbRecv(t, h.opened, 10*time.Second, "OnOpen of A")
					if _, err := nc.Write([]byte("fill")); err != nil {
						t.Fatal(err)
					}
					// Wait until the write is pending: the kernel buffers on
					// both sides hold far less than fillSize.
					time.Sleep(20 * time.Millisecond)
				}
				if _, err := blocker.Write([]byte("block")); err != nil {
					t.Fatal(err)
				}
				tbRecv(t, h.blocked, 10*time.Second, "the loop to block")
				const queued = 64
				for i := 0; i < queued; i++ {
					err := a.c.AsyncWrite([]byte("STALE"), func(_ Conn, err error) {
						callbacks.Add(1)
						if err != nil {
							cbErrs.Add(1)
						}
					})
					if err != nil {
						t.Fatalf("AsyncWrite to A while it is open: %v", err)
					}
				}
				if tt.flush {
					if err := ftLingerZero(nc); err != nil {
						t.Fatal(err)
					}
				}
				nc.Close()
				time.Sleep(5 * time.Millisecond) // let the FIN or RST reach A's socket
				nb := s.dial(t)
				time.Sleep(5 * time.Millisecond) // and B's handshake complete
				select {
				case h.release <- struct{}{}:
				case <-time.After(10 * time.Second):
					t.Fatal("the blocked loop did not take the release within 10s")
				}
				echoed := make([]byte, len("block"))
				if err := blocker.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
					t.Fatal(err)
				}
				if _, err := io.ReadFull(blocker, echoed); err != nil || string(echoed) != "block" {
					t.Fatalf("blocker's echo: %q, %v", echoed, err)
				}
				b := tbRecv(t, h.opened, 10*time.Second, "OnOpen of B")
				if b.fd == a.fd {
					reused++
				}
				if err := itExpectNoMore(nb, 50*time.Millisecond); err != nil {
					t.Errorf("round %d (B on fd %d, A was on %d): %v", round, b.fd, a.fd, err)
				}
				if err := tbEcho(nb, []byte(fmt.Sprintf("B %d", round)), 10*time.Second); err != nil {
					t.Errorf("round %d: B: %v", round, err)
				}
				if tt.flush {
					err, ok := ftAwait(h.closed, 10*time.Second)
					if !ok {
						t.Fatalf("round %d: no OnClose for the reset connection", round)
					}
					if !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, syscall.EPIPE) {
						t.Errorf("round %d: OnClose(%v) for the reset connection, want ECONNRESET or EPIPE", round, err)
					}
				}
				nc, a = nb, b
			}
			t.Logf("B reused A's fd number in %d of %d rounds; %d callbacks, %d with an error", reused, rounds, callbacks.Load(), cbErrs.Load())
			if reused == 0 && !t.Failed() {
				t.Error("B never reused A's fd number: the scenario was not reached")
			}
			s.stop(t)
			if n, want := callbacks.Load(), int64(64*rounds); n != want && !t.Failed() {
				t.Errorf("%d AsyncWrite callbacks ran, want %d", n, want)
			}
		})
	}
}
