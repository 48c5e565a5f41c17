//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows || evloop_portable

package evloop

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/evloop/evloop/internal/queue"
	"github.com/evloop/evloop/internal/socket"
)

// Dialing is accepting in reverse: a non-blocking connect on the loop that
// will serve the connection, the socket watched for writability, SO_ERROR
// read when it is writable, then the register path of an accepted fd
// (socket options, OnOpen). The connect's timeout is an entry in the loop's
// timer heap. This file holds the callers' side: Engine.Dial, Loop.Dial and
// the name resolution they may need; dialloop.go holds the loop's.

// DialCallback receives the outcome of Loop.Dial, exactly once, on the
// loop the dial was made on (it never runs if Loop.Dial returned an
// error). With (c, nil) the dial connected: the handler's OnOpen has run
// for c, with the value given to Dial as its Context, and c is served like
// an accepted connection. If OnOpen closed c, OnClose has run too and c
// answers ErrClosed.
//
// With (nil, err) there is no connection, and neither OnOpen nor OnClose
// ran for it. err is a *net.OpError with Op "dial" and, as Addr, the
// address tried last (nil when none was); its Err is one of (check with
// errors.Is and errors.As):
//   - a *os.SyscallError naming connect, with the errno: ECONNREFUSED
//     (nothing listens there), ENETUNREACH or EHOSTUNREACH (no route),
//     ETIMEDOUT (the kernel gave up, after about two minutes, without a
//     timeout of ours), ENOENT (no unix socket at that path), EAGAIN (a
//     unix listener's backlog is full);
//   - ErrDialTimeout: the timeout passed (it matches
//     os.ErrDeadlineExceeded);
//   - ErrEngineStopped: the engine stopped first;
//   - a *net.DNSError: a host name could not be resolved;
//   - a *os.SyscallError naming socket or epoll_ctl: out of descriptors
//     (EMFILE) or memory;
//   - for DialTLS, the handshake's error (crypto/tls's, which errors.As
//     reaches, wrapped), after the connect succeeded.
//
// With several addresses for a host name each is tried in turn, and err
// is the last one's. Like any callback it must not block. It may use the
// loop-only methods of the loop's connections: a proxy writes to the
// client connection that asked for the dial. A panic in it is recovered
// and logged, and closes c with a *PanicError (unless
// WithPanicPropagation).
type DialCallback func(c Conn, err error)

// dialResult is what a blocked Engine.Dial or Enroll receives.
type dialResult struct {
	c   *conn
	err error
}

// Dial connects to address on network and returns the connection once the
// handler's OnOpen has run for it. network is tcp, tcp4, tcp6 or unix,
// and address is as net.Dial takes it ("host:port", "[::1]:80", a socket
// path). The connection is served by the engine's handler exactly like an
// accepted one, on a loop chosen by WithLoadBalancing (round-robin by
// default; SourceAddrHash hashes the address dialed).
//
// A host name is resolved first, on the calling goroutine; when it has
// several addresses they are tried in turn, each with a share of the time
// left. ctx bounds the whole dial: its deadline fails it with
// ErrDialTimeout and its cancellation with context.Canceled; either way
// the socket is closed and no OnOpen or OnClose runs. Without a deadline
// the kernel gives up after about two minutes (ETIMEDOUT).
//
// Every error is a *net.OpError with Op "dial", wrapping what DialCallback
// lists, context.Canceled, ErrUnsupportedNetwork for other networks, or
// ErrOnLoop. Dial blocks, so it may be called from any goroutine except
// the engine's own: inside a loop's callbacks, OnBoot or OnShutdown it
// returns ErrOnLoop at once (use Loop.Dial there). Pool jobs may call it.
func (eng Engine) Dial(ctx context.Context, network, address string) (Conn, error) {
	return eng.dial(ctx, network, address, nil)
}

func (eng Engine) dial(ctx context.Context, network, address string, cfg *tls.Config) (Conn, error) {
	e := eng.e
	if e == nil {
		return nil, dialError(network, nil, ErrEngineStopped)
	}
	if e.onOwnGoroutine() {
		return nil, dialError(network, nil, ErrOnLoop)
	}
	if e.stopped.Load() {
		return nil, dialError(network, nil, ErrEngineStopped)
	}
	if err := checkDialNetwork(network); err != nil {
		return nil, dialError(network, nil, err)
	}
	addrs, err := socket.ResolveDial(ctx, network, address)
	if err != nil {
		return nil, dialError(network, nil, ctxCause(ctx, err))
	}
	d := newDialing(network, address)
	d.addrs, d.tls = addrs, cfg
	d.result = make(chan dialResult, 1) // the loop never waits for the caller
	if dl, ok := ctx.Deadline(); ok {
		d.deadline = e.clockOf(dl)
	}
	l := e.pickDial(addrs[0])
	if err := handDial(l, d); err != nil {
		return nil, dialError(network, nil, err)
	}
	// The cancel is queued behind the dial, so the loop sees the dial
	// first; a cancel that finds the dial settled does nothing.
	stop := context.AfterFunc(ctx, func() {
		_ = l.q.Push(task{kind: taskDialCancel, dial: d, err: ctxCause(ctx, nil)})
	})
	r := <-d.result
	stop()
	if r.err != nil {
		return nil, r.err
	}
	return r.c, nil
}

// Dial connects to address on network from this loop, without blocking:
// the connection, once open, belongs to this loop, so a handler that dials
// for one of its connections (a proxy's backend) can use both with plain
// loop-only calls. network and address are as for Engine.Dial. ctx is set
// as the new connection's Context before OnOpen runs (as SetContext
// would), so OnOpen can tell what the connection is for. timeout bounds
// the dial (0: no timeout of ours; the kernel gives up after about two
// minutes). cb (may be nil) then runs on this loop with the result; see
// DialCallback.
//
// An IP address is dialed at once. A host name (or a service name as the
// port) is resolved off the loop, on a goroutine of the engine's, and the
// dial continues on the loop; the resolution counts against timeout.
//
// Dial returns an error, and cb will not run, when nothing was started: a
// *net.OpError with Op "dial" wrapping ErrUnsupportedNetwork, an address
// that cannot be parsed, or ErrEngineStopped (also for the zero Loop).
// Any goroutine: from outside the loop the dial is queued to it. If the
// loop has already failed (a poller error, which stops the engine) when a
// host name's resolution ends, cb runs on the resolving goroutine with
// ErrEngineStopped.
func (lp Loop) Dial(network, address string, timeout time.Duration, ctx any, cb DialCallback) error {
	return lp.dial(network, address, nil, timeout, ctx, cb)
}

func (lp Loop) dial(network, address string, cfg *tls.Config, timeout time.Duration, ctx any, cb DialCallback) error {
	l := lp.l
	if l == nil || l.eng.stopped.Load() {
		return dialError(network, nil, ErrEngineStopped)
	}
	if err := checkDialNetwork(network); err != nil {
		return dialError(network, nil, err)
	}
	addrs, ok, err := socket.DialAddrs(network, address)
	if err != nil {
		return dialError(network, nil, err)
	}
	d := newDialing(network, address)
	d.addrs, d.ctx, d.cb, d.tls = addrs, ctx, cb, cfg
	if now := l.eng.clock(); timeout > 0 && now+int64(timeout) > now {
		d.deadline = now + int64(timeout) // a timeout too long to add is none
	}
	if !ok {
		err = l.eng.resolve(l, d)
	} else {
		err = handDial(l, d)
	}
	if err != nil {
		return dialError(network, nil, err)
	}
	return nil
}

func newDialing(network, address string) *dialing {
	d := &dialing{network: network, address: address, fd: -1}
	d.entry.idx = -1
	d.entry.kind = timerDial
	return d
}

// checkDialNetwork accepts the networks evloop dials.
func checkDialNetwork(network string) error {
	if socket.IsStream(network) {
		return nil
	}
	return fmt.Errorf("%w %q (evloop dials tcp and unix streams)", ErrUnsupportedNetwork, network)
}

// ctxCause is the error a dial reports when ctx ended it (err otherwise):
// a deadline is the dial's timeout.
func ctxCause(ctx context.Context, err error) error {
	switch ctx.Err() {
	case nil:
		return err
	case context.DeadlineExceeded:
		return ErrDialTimeout
	default:
		return ctx.Err()
	}
}

// pickDial chooses the loop of a connection dialed to (or enrolled from)
// peer, by the engine's policy. Any goroutine dials, so round-robin takes
// its turn from an atomic counter.
func (e *engine) pickDial(peer net.Addr) *loop {
	var ap netip.AddrPort
	if a, ok := peer.(*net.TCPAddr); ok {
		ap = a.AddrPort()
	}
	rr := int(e.dialTurn.Add(1) - 1)
	return e.pick(ap, &rr)
}

// handDial queues d to l, counted in l's connections from now on, as the
// acceptor counts a hand-off, so LeastConnections spreads a burst of dials.
// The loop takes the count back if the dial fails.
func handDial(l *loop, d *dialing) error {
	l.count.Add(1)
	if err := l.q.Push(task{kind: taskDial, dial: d}); errors.Is(err, queue.ErrClosed) {
		l.count.Add(-1)
		return ErrEngineStopped
	}
	// Any other error is the wake's: the task is queued and will run.
	return nil
}

// Name resolution for Loop.Dial runs on a goroutine per look-up, tracked so
// that the stop can cancel them and wait for them before the loops exit:
// each then hands its dial to a loop that is still there to fail it.
type resolvers struct {
	ctx     context.Context // cancelled by stop
	cancel  context.CancelFunc
	stopped bool // under the engine's stopMu
}

// resolve looks d's address up off the loop, then hands d to l.
func (e *engine) resolve(l *loop, d *dialing) error {
	e.stopMu.Lock()
	if e.resolvers.stopped {
		e.stopMu.Unlock()
		return ErrEngineStopped
	}
	e.resolving.Add(1)
	e.stopMu.Unlock()
	l.count.Add(1)
	go func() {
		defer e.resolving.Done()
		ctx, cancel := e.resolvers.ctx, context.CancelFunc(func() {})
		if d.deadline != 0 {
			ctx, cancel = context.WithDeadline(ctx, e.base.Add(time.Duration(d.deadline)))
		}
		d.addrs, d.err = socket.ResolveDial(ctx, d.network, d.address)
		if d.err != nil {
			if e.resolvers.ctx.Err() != nil {
				d.err = ErrEngineStopped
			} else {
				d.err = ctxCause(ctx, d.err)
			}
		}
		cancel()
		if err := l.q.Push(task{kind: taskDial, dial: d}); errors.Is(err, queue.ErrClosed) {
			l.dialFailed(d, ErrEngineStopped) // the loop is gone: report here
		}
	}()
	return nil
}

// stopResolving cancels the look-ups in flight and waits for them; later
// ones are refused. The stop calls it while the loops still run.
func (e *engine) stopResolving() {
	e.stopMu.Lock()
	e.resolvers.stopped = true
	e.stopMu.Unlock()
	e.resolvers.cancel()
	e.resolving.Wait()
}
