package evloop

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"syscall"

	"github.com/evloop/evloop/poller"
)

// Syscall fault matrix, poller side: epoll_ctl failures on Add, Mod and
// Del, and failed wakes, injected through a decorator around the real
// poller of every loop and of the acceptor.

// ftOp is a poller method a rule can fail.
type ftOp int

const (
	ftAdd ftOp = iota
	ftMod
	ftDel
	ftWake
)

func (op ftOp) String() string { return [...]string{"Add", "Mod", "Del", "Wake"}[op] }

// Pollers are opened loops first, in index order, then the acceptor.
const ftAcceptorPoller = -2

// ftRule fails matching calls: op on poller number poller (-1: any loop's,
// ftAcceptorPoller: the acceptor's), on fd (-1: any), while armed, after
// letting skip matching calls through, fail times. deliver makes a failed
// Wake still wake the poller (the error is reported after the fact).
type ftRule struct {
	op      ftOp
	poller  int
	fd      atomic.Int64
	armed   atomic.Bool
	skip    int
	fail    int
	err     error
	deliver bool

	mu     sync.Mutex
	seen   int // matching calls
	failed int
}

func newFTRule(op ftOp, poller, fd, skip, fail int, err error) *ftRule {
	r := &ftRule{op: op, poller: poller, skip: skip, fail: fail, err: err}
	r.fd.Store(int64(fd))
	return r
}

// hit reports whether this call must fail.
func (r *ftRule) hit(op ftOp, idx, last, fd int) bool {
	if op != r.op || !r.armed.Load() {
		return false
	}
	switch {
	case r.poller == ftAcceptorPoller && idx != last:
		return false
	case r.poller == -1 && idx == last && last > 0:
		return false // loops only, when there is an acceptor
	case r.poller >= 0 && idx != r.poller:
		return false
	}
	if want := r.fd.Load(); want >= 0 && int64(fd) != want {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen++
	if r.seen <= r.skip || r.failed >= r.fail {
		return false
	}
	r.failed++
	return true
}

func (r *ftRule) counts() (seen, failed int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seen, r.failed
}

// ftPollers holds the decorated pollers of one engine and the rules.
type ftPollers struct {
	mu       sync.Mutex
	rules    []*ftRule
	pollers  []*ftPoller
	acceptor bool // the engine has an acceptor: the last poller opened is its
}

type ftPoller struct {
	readiness
	set *ftPollers
	idx int
}

// ftInstallPollers makes openPoller return decorated pollers for the rest
// of the test. Call it before starting the engine.
func ftInstallPollers(tb testing.TB, acceptor bool, rules ...*ftRule) *ftPollers {
	tb.Helper()
	set := &ftPollers{rules: rules, acceptor: acceptor}
	open := openPoller
	tb.Cleanup(func() { openPoller = open })
	openPoller = func() (readiness, error) {
		p, err := open()
		if err != nil {
			return nil, err
		}
		set.mu.Lock()
		defer set.mu.Unlock()
		fp := &ftPoller{readiness: p, set: set, idx: len(set.pollers)}
		set.pollers = append(set.pollers, fp)
		return fp, nil
	}
	return set
}

// match returns the error of the first rule that fails this call.
func (s *ftPollers) match(op ftOp, idx, fd int) *ftRule {
	s.mu.Lock()
	last := -1
	if s.acceptor {
		last = len(s.pollers) - 1
	}
	rules := s.rules
	s.mu.Unlock()
	for _, r := range rules {
		if r.hit(op, idx, last, fd) {
			return r
		}
	}
	return nil
}

func ftCtlError(r *ftRule) error { return os.NewSyscallError("epoll_ctl", r.err) }

func (p *ftPoller) Add(fd int, gen uint32, in poller.Interest) error {
	if r := p.set.match(ftAdd, p.idx, fd); r != nil {
		return ftCtlError(r)
	}
	return p.readiness.Add(fd, gen, in)
}

func (p *ftPoller) Mod(fd int, gen uint32, in poller.Interest) error {
	if r := p.set.match(ftMod, p.idx, fd); r != nil {
		return ftCtlError(r)
	}
	return p.readiness.Mod(fd, gen, in)
}

func (p *ftPoller) Del(fd int) error {
	if r := p.set.match(ftDel, p.idx, fd); r != nil {
		return ftCtlError(r)
	}
	return p.readiness.Del(fd)
}

func (p *ftPoller) Wake() error {
	if r := p.set.match(ftWake, p.idx, -1); r != nil {
		if r.deliver {
			_ = p.readiness.Wake()
		}
		return os.NewSyscallError("write", r.err)
	}
	return p.readiness.Wake()
}

// ftPeerGone reads from nc until EOF or a reset, and reports whether that
// came within the timeout without any byte.
func ftPeerGone(nc net.Conn, within time.Duration) error {
	if err := nc.SetReadDeadline(time.Now().Add(within)); err != nil {
		return err
	}
	var b [64]byte
	n, err := nc.Read(b[:])
	switch {
	case n > 0:
		return fmt.Errorf("read %d bytes %q, want EOF or a reset", n, b[:n])
	case errors.Is(err, io.EOF), errors.Is(err, syscall.ECONNRESET):
		return nil
	}
	return fmt.Errorf("read: %v, want EOF or a reset", err)
}

// TestFaultPollerCtl injects epoll_ctl failures into the loop's and the
// acceptor's pollers. A failed Add refuses that connection; a failed Mod
// of a connection closes it with the error; a failed Del is survived; a
// failed Mod of a paused listener delays accepting, never ends it. The
// loop keeps serving another client throughout, and no descriptor or
// epoll registration outlives the engine. To see it fail, make register
// keep the connection after a failed Add, or ignore syncInterest's error.
func TestFaultPollerCtl(t *testing.T) {
	size := itScale(256<<10, 64<<10)
	payload := itPattern(0, size)
	tests := []struct {
		name   string
		rule   func() *ftRule // armed once the other client is served
		fdRule bool           // the rule's fd is the target's, set in OnOpen
		writes []ftStep       // script for the target's writes
		accept []error        // accept4 results injected once armed
		// refused: the target is never opened (its client sees EOF or a
		// reset); otherwise the target asks for the payload and wantErr
		// is OnClose's (0: nil and the whole payload).
		refused bool
		wantErr syscall.Errno
	}{
		{name: "Add EEXIST refuses the connection", refused: true,
			rule: func() *ftRule { return newFTRule(ftAdd, -1, -1, 0, 1, syscall.EEXIST) }},
		{name: "Add EBADF refuses the connection", refused: true,
			rule: func() *ftRule { return newFTRule(ftAdd, -1, -1, 0, 1, syscall.EBADF) }},
		{name: "Add ENOMEM refuses the connection", refused: true,
			rule: func() *ftRule { return newFTRule(ftAdd, -1, -1, 0, 1, syscall.ENOMEM) }},
		{name: "Mod ENOENT arming EPOLLOUT", fdRule: true, wantErr: syscall.ENOENT,
			writes: []ftStep{ftErr(syscall.EAGAIN)},
			rule:   func() *ftRule { return newFTRule(ftMod, -1, -1, 0, 1, syscall.ENOENT) }},
		{name: "Mod EBADF arming EPOLLOUT", fdRule: true, wantErr: syscall.EBADF,
			writes: []ftStep{ftShort(10)},
			rule:   func() *ftRule { return newFTRule(ftMod, -1, -1, 0, 1, syscall.EBADF) }},
		{name: "Mod ENOENT disarming EPOLLOUT", fdRule: true, wantErr: syscall.ENOENT,
			writes: []ftStep{ftShort(10), ftErr(syscall.EAGAIN)},
			rule:   func() *ftRule { return newFTRule(ftMod, -1, -1, 1, 1, syscall.ENOENT) }},
		{name: "Del ENOENT at close", fdRule: true,
			rule: func() *ftRule { return newFTRule(ftDel, -1, -1, 0, 1, syscall.ENOENT) }},
		{name: "Del EBADF at close", fdRule: true,
			writes: []ftStep{ftShort(1), ftErr(syscall.EAGAIN)},
			rule:   func() *ftRule { return newFTRule(ftDel, -1, -1, 0, 1, syscall.EBADF) }},
		{name: "listener pause Mod ENOENT", accept: []error{syscall.EMFILE},
			rule: func() *ftRule { return newFTRule(ftMod, ftAcceptorPoller, -1, 0, 1, syscall.ENOENT) }},
		{name: "listener resume Mod ENOENT", accept: []error{syscall.ENFILE},
			rule: func() *ftRule { return newFTRule(ftMod, ftAcceptorPoller, -1, 1, 1, syscall.ENOENT) }},
		{name: "listener resume Mod EEXIST twice", accept: []error{syscall.ENOMEM, syscall.ENOMEM},
			rule: func() *ftRule { return newFTRule(ftMod, ftAcceptorPoller, -1, 1, 2, syscall.EEXIST) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			epBase, fdBase := ftEpollWatches(t), itCountFDs(t)
			rule := tt.rule()
			f := ftInstallIO(t)
			var acceptArmed atomic.Bool
			injected := make(chan error, len(tt.accept))
			for _, err := range tt.accept {
				injected <- err
			}
			tbWrapAccept(t, func(accept func() (int, netip.AddrPort, error)) (int, netip.AddrPort, error) {
				if acceptArmed.Load() {
					select {
					case err := <-injected:
						return -1, netip.AddrPort{}, err
					default:
					}
				}
				return accept()
			})
			ftInstallPollers(t, true, rule)
			h := newFTIOHandler(f)
			h.fdRule = func(fd int) {
				if tt.fdRule {
					rule.fd.Store(int64(fd))
				}
			}
			s := startEngine(t, h, "tcp://127.0.0.1:0", WithLoops(1), WithLogger(tbQuietLogger()))
			other := &ftOther{nc: s.dial(t)}
			other.echo(t, "before")

			tg := &ftTarget{serve: ftSendWrite, payload: payload, writes: tt.writes}
			if !tt.fdRule {
				rule.armed.Store(true)
			}
			acceptArmed.Store(true)
			h.next.Store(tg)
			nc := s.dial(t)
			if tt.fdRule {
				// Armed once the target is open and its fd known.
				if !itEventually(10*time.Second, func() bool { return rule.fd.Load() >= 0 }) {
					t.Fatal("the connection under test was not opened within 10s")
				}
				rule.armed.Store(true)
			}
			if tt.refused {
				if err := ftPeerGone(nc, 10*time.Second); err != nil {
					t.Errorf("refused connection: %v", err)
				}
				if h.next.Load() == nil {
					t.Error("OnOpen ran for the connection whose Add failed")
				}
				h.next.Store(nil)
				nc.Close()
			} else {
				got, rerr := ftExchange(nc, tg, func() { other.echo(t, "during") })
				closeErr, ok := ftAwait(h.closed, 10*time.Second)
				if !ok {
					t.Fatalf("no OnClose for the connection under test within 10s (client read %d bytes, %v)", len(got), rerr)
				}
				if err := ftCheckStream(got, payload, tt.wantErr == 0); err != nil {
					t.Error(err)
				}
				if err := ftCheckClose(closeErr, tt.wantErr); err != nil {
					t.Error(err)
				}
			}
			if seen, failed := rule.counts(); failed != rule.fail {
				t.Errorf("the rule failed %d of %d matching %v calls, want %d failed: the fault was not reached", failed, seen, rule.op, rule.fail)
			}
			if n := len(injected); n != 0 {
				t.Errorf("%d injected accept errors were never returned", n)
			}
			other.echo(t, "after")
			fresh := s.dial(t)
			if err := tbEcho(fresh, []byte("a new client"), 10*time.Second); err != nil {
				t.Errorf("a new client after the fault: %v", err)
			}
			fresh.Close()
			if tt.accept != nil && s.eng.Stats().AcceptBackoffs == 0 {
				t.Error("Stats().AcceptBackoffs = 0 after a back-off error")
			}
			other.nc.Close()
			if !itEventually(5*time.Second, func() bool { return s.eng.CountConnections() == 0 }) {
				t.Errorf("CountConnections() = %d with every client gone, want 0", s.eng.CountConnections())
			}
			s.stop(t)
			if o, c := h.opens.Load(), h.closes.Load(); o != c {
				t.Errorf("OnOpen ran %d times, OnClose %d times", o, c)
			}
			ftCheckBaseline(t, fdBase, epBase)
		})
	}
}

// ftCheckBaseline checks that descriptors and epoll registrations are back
// where they were before the engine started.
func ftCheckBaseline(tb testing.TB, fdBase, epBase int) {
	tb.Helper()
	var fds, ep int
	if !itEventually(5*time.Second, func() bool {
		fds, ep = itCountFDs(tb), ftEpollWatches(tb)
		return fds <= fdBase && ep <= epBase
	}) {
		tb.Errorf("after Stop: %d descriptors and %d epoll registrations, %d and %d before the engine started", fds, ep, fdBase, epBase)
	}
}

// ftWakeHandler records the connections it opens for the test.
type ftWakeHandler struct {
	echoHandler
	opened        chan Conn
	opens, closes atomic.Int64
}

func (h *ftWakeHandler) OnOpen(c Conn) ([]byte, Action) {
	h.opens.Add(1)
	select {
	case h.opened <- c:
	default:
	}
	return nil, None
}

func (h *ftWakeHandler) OnClose(Conn, error) Action {
	h.closes.Add(1)
	return None
}

// TestFaultPollerWake makes the loop's Wake fail once while an AsyncWrite
// is queued, with the wake delivered anyway or lost. Whatever AsyncWrite
// returns must be true: nil means its bytes arrive once and its callback
// runs once, an error means neither happens. A later AsyncWrite wakes the
// loop, and the stream the client reads is exactly what was accepted, in
// order. To see it fail, have conn.push release the task and return an
// error whenever Push returns one, although only queue.ErrClosed means
// that the task was not queued.
func TestFaultPollerWake(t *testing.T) {
	tests := []struct {
		name    string
		deliver bool
		err     syscall.Errno
	}{
		{name: "wake delivered, EINTR reported", deliver: true, err: syscall.EINTR},
		{name: "wake delivered, EAGAIN reported", deliver: true, err: syscall.EAGAIN},
		{name: "wake lost, EBADF reported", deliver: false, err: syscall.EBADF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rule := newFTRule(ftWake, 0, -1, 0, 1, tt.err)
			rule.deliver = tt.deliver
			ftInstallPollers(t, true, rule)
			h := &ftWakeHandler{opened: make(chan Conn, 1)}
			s := startEngine(t, h, "tcp://127.0.0.1:0", WithLoops(1), WithLogger(tbQuietLogger()))
			nc := s.dial(t)
			c := tbRecv(t, h.opened, 10*time.Second, "OnOpen")

			type result struct {
				tag   string
				err   error // AsyncWrite's
				calls chan error
			}
			write := func(tag string) result {
				r := result{tag: tag, calls: make(chan error, 4)}
				r.err = c.AsyncWrite([]byte(tag), func(_ Conn, err error) { r.calls <- err })
				return r
			}
			rule.armed.Store(true)
			faulty := write("<faulty>")
			if seen, failed := rule.counts(); failed != 1 {
				t.Fatalf("the Wake rule failed %d of %d calls, want 1: the fault was not reached", failed, seen)
			}
			later := []result{write("<later-1>"), write("<later-2>")}

			var want []byte
			for _, r := range append([]result{faulty}, later...) {
				if r.err == nil {
					want = append(want, r.tag...)
				}
			}
			for _, r := range later {
				if r.err != nil {
					t.Fatalf("AsyncWrite %s after the fault = %v, want nil", r.tag, r.err)
				}
			}
			if err := nc.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
				t.Fatal(err)
			}
			got := make([]byte, len(want))
			if _, err := io.ReadFull(nc, got); err != nil {
				t.Fatalf("read %d bytes: %v (AsyncWrite of %s returned %v)", len(want), err, faulty.tag, faulty.err)
			}
			if string(got) != string(want) {
				t.Errorf("client read %q, want %q (AsyncWrite of %s returned %v)", got, want, faulty.tag, faulty.err)
			}
			if err := itExpectNoMore(nc, 50*time.Millisecond); err != nil {
				t.Errorf("after the async writes: %v", err)
			}
			for _, r := range later {
				if err, ok := ftAwait(r.calls, 10*time.Second); !ok || err != nil {
					t.Errorf("callback of %s: ran %v, err %v; want once with nil", r.tag, ok, err)
				}
			}
			s.stop(t) // every queued callback has run once Run returned
			switch n := len(faulty.calls); {
			case faulty.err == nil && n != 1:
				t.Errorf("AsyncWrite returned nil, but its callback ran %d times, want 1", n)
			case faulty.err == nil:
				if err := <-faulty.calls; err != nil {
					t.Errorf("AsyncWrite returned nil and its bytes arrived, but its callback got %v", err)
				}
			case n != 0:
				t.Errorf("AsyncWrite returned %v (nothing queued, per its doc), but its callback ran %d times", faulty.err, n)
			}
			for _, r := range later {
				if n := len(r.calls); n != 0 {
					t.Errorf("callback of %s ran %d more times", r.tag, n)
				}
			}
		})
	}
}

// TestFaultPollerWakeHandoff makes the Wake fail once (and not wake) as the
// acceptor hands a connection to the loop; a second connection follows.
// Both clients must be served, or the refused one must see EOF, and the
// engine must close each socket it accepted exactly once: a hand-off that
// closes the fd although its task stays queued would serve a reused fd
// twice. To see it fail, have acceptor.handoff close the fd whenever Push
// returns an error, although only queue.ErrClosed means that the task was
// not queued.
func TestFaultPollerWakeHandoff(t *testing.T) {
	tests := []struct {
		name    string
		deliver bool
	}{
		{name: "wake lost", deliver: false},
		{name: "wake delivered", deliver: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := itGuardFDs(t)
			rule := newFTRule(ftWake, 0, -1, 0, 1, syscall.EBADF)
			rule.deliver = tt.deliver
			ftInstallPollers(t, true, rule)
			h := &ftWakeHandler{opened: make(chan Conn, 4)}
			s := startEngine(t, h, "tcp://127.0.0.1:0", WithLoops(1), WithLogger(tbQuietLogger()))
			rule.armed.Store(true)
			first := s.dial(t)
			if !itEventually(10*time.Second, func() bool { _, failed := rule.counts(); return failed == 1 }) {
				t.Fatal("the hand-off's Wake was not attempted within 10s")
			}
			second := s.dial(t)
			if err := tbEcho(second, []byte("second"), 10*time.Second); err != nil {
				t.Errorf("second client: %v", err)
			}
			if err := tbEcho(first, []byte("first"), 5*time.Second); err != nil {
				if gone := ftPeerGone(first, 5*time.Second); gone != nil {
					t.Errorf("first client neither served (%v) nor closed (%v)", err, gone)
				}
			}
			if err := tbEcho(second, []byte("second again"), 10*time.Second); err != nil {
				t.Errorf("second client again: %v", err)
			}
			first.Close()
			second.Close()
			if !itEventually(5*time.Second, func() bool { return s.eng.CountConnections() == 0 }) {
				t.Errorf("CountConnections() = %d with every client gone, want 0", s.eng.CountConnections())
			}
			s.stop(t)
			g.check(t)
			if o, c := h.opens.Load(), h.closes.Load(); o != c {
				t.Errorf("OnOpen ran %d times, OnClose %d times", o, c)
			}
		})
	}
}

// TestFaultPollerStartup fails the epoll_ctl that registers a listener
// while the engine starts: Run returns that error without booting, and
// leaves no descriptor, epoll registration or goroutine behind. To see it
// fail, have newEngine skip release when a listener cannot be watched.
func TestFaultPollerStartup(t *testing.T) {
	tests := []struct {
		name     string
		acceptor bool // main-reactor mode: the acceptor's poller watches the listener
		poller   int
		err      syscall.Errno
		opts     []Option
	}{
		{name: "acceptor Add EBADF", acceptor: true, poller: ftAcceptorPoller, err: syscall.EBADF, opts: []Option{WithLoops(2)}},
		{name: "reuseport Add EEXIST", poller: 1, err: syscall.EEXIST, opts: []Option{WithLoops(2), WithReusePort(true)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !tt.acceptor {
				tbSkipUnlessReusePortBalances(t)
			}
			base := ftTakeProbe(t)
			rule := newFTRule(ftAdd, tt.poller, -1, 0, 1, tt.err)
			rule.armed.Store(true)
			ftInstallPollers(t, tt.acceptor, rule)
			h := &tbHandler{boot: func(Engine) Action {
				t.Error("OnBoot ran although a listener could not be watched")
				return Shutdown
			}}
			errc := make(chan error, 1)
			go func() {
				errc <- Run(h, "tcp://127.0.0.1:0", append([]Option{WithLogger(tbQuietLogger())}, tt.opts...)...)
			}()
			err, ok := ftAwait(errc, 10*time.Second)
			if !ok {
				t.Fatal("Run did not return within 10s")
			}
			if !errors.Is(err, tt.err) {
				t.Errorf("Run = %v, want an error matching %v", err, tt.err)
			}
			if _, failed := rule.counts(); failed != 1 {
				t.Errorf("the rule failed %d calls, want 1: the fault was not reached", failed)
			}
			ftAwaitBaseline(t, "after the failed Run", base)
		})
	}
}
