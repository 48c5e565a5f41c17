//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows || evloop_portable

package evloop

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"sync/atomic"
	"time"

	"github.com/evloop/evloop/internal/queue"
	"github.com/evloop/evloop/internal/socket"
	"github.com/evloop/evloop/poller"
)

// Accept back-off: when the process or system is out of descriptors or
// memory, a listener stops being watched for this long, doubling up to the
// maximum while the condition lasts. Never spin on a listener that cannot
// accept, never stop the engine over it.
const (
	minAcceptBackoff = 5 * time.Millisecond
	maxAcceptBackoff = time.Second
	// acceptBatch bounds the accepts per readiness event so that a
	// reuseport loop under a connection storm still serves its connections.
	acceptBatch = 256
	// backoffLogEvery rate-limits the back-off warning per listener.
	backoffLogEvery = time.Second
)

// A listener is one listening socket and its back-off state, owned by the
// goroutine whose poller watches it (the acceptor, or one reuseport loop).
// Its origin (network and address) is immutable and shared by the
// connections it accepts, which read it from any goroutine.
type listener struct {
	origin
	sock *socket.Listener
	fd   int

	backoff    time.Duration
	retryAt    time.Time  // zero unless paused
	timer      timerEntry // a reuseport loop's retry; the acceptor scans its few listeners
	lastLog    time.Time
	suppressed int
	// next is the listener's own round-robin position: each listener's
	// connections spread over every loop, however clients of several
	// listeners interleave.
	next int
}

// handoffer takes an accepted fd: the acceptor passes it to a loop, a
// reuseport loop serves it itself.
type handoffer interface {
	handoff(fd int, peer netip.AddrPort, ln *listener)
}

// origin is where a connection's addresses come from. An accepted
// connection points at its listener's (network, and the listener's address
// as its local one) and keeps its peer packed in the conn; a dialed or
// enrolled connection has one of its own, from getsockname and getpeername,
// and a unix one keeps its peer's address here (an inet peer is packed in
// the conn as for accepted ones). Immutable once the connection opens.
type origin struct {
	network string
	addr    net.Addr // the local address
	peer    net.Addr // a dialed or enrolled unix connection's peer; nil otherwise
}

func (ln *listener) close() {
	if ln.sock != nil {
		_ = ln.sock.Close()
	}
}

func findListener(lns []*listener, fd int) *listener {
	for _, ln := range lns {
		if ln.fd == fd {
			return ln
		}
	}
	return nil
}

// acceptReady accepts pending connections until none is left (EAGAIN), the
// batch is done (the level-triggered poller reports the rest), or accepting
// must back off.
func (ln *listener) acceptReady(p readiness, e *engine, to handoffer) {
	for i := 0; i < acceptBatch; i++ {
		fd, peer, err := socket.Accept(ln.fd)
		switch err {
		case nil:
		case socket.EAGAIN:
			return
		case socket.EINTR, socket.ECONNABORTED, socket.EPROTO:
			continue // that connection is gone; the next may be fine
		case socket.EMFILE, socket.ENFILE, socket.ENOBUFS, socket.ENOMEM:
			ln.pause(p, e, err)
			return
		default:
			// Unknown: treat it as transient too. Spinning or stopping
			// would both be worse than retrying later.
			ln.pause(p, e, err)
			return
		}
		ln.backoff = 0
		e.accepted.Add(1)
		e.prepare(fd, ln.network)
		to.handoff(fd, peer, ln)
	}
}

// pause stops watching the listener until its back-off expires.
func (ln *listener) pause(p readiness, e *engine, err error) {
	ln.backoff = min(max(ln.backoff*2, minAcceptBackoff), maxAcceptBackoff)
	ln.retryAt = time.Now().Add(ln.backoff)
	e.acceptBackoffs.Add(1)
	if perr := p.Mod(ln.fd, listenerGen, 0); perr != nil {
		e.log.Warn("evloop: cannot pause listener", "addr", ln.addr, "err", perr)
	}
	if now := time.Now(); now.Sub(ln.lastLog) >= backoffLogEvery {
		// Shaped as package net reports a failed accept; built only when
		// logged, so the back-off path does not allocate per failure.
		err = &net.OpError{Op: "accept", Net: ln.network, Addr: ln.addr, Err: os.NewSyscallError(socket.AcceptSyscall, err)}
		e.log.Warn("evloop: accept failed; backing off", "addr", ln.addr, "err", err,
			"retry_in", ln.backoff, "suppressed", ln.suppressed)
		ln.lastLog, ln.suppressed = now, 0
	} else {
		ln.suppressed++
	}
}

// nextRetry returns the earliest retry time of the paused listeners.
func nextRetry(lns []*listener) time.Time {
	var next time.Time
	for _, ln := range lns {
		if !ln.retryAt.IsZero() && (next.IsZero() || ln.retryAt.Before(next)) {
			next = ln.retryAt
		}
	}
	return next
}

// resumeDue watches paused listeners again once their back-off expired; the
// level-triggered poller then reports any connection that waited.
func resumeDue(lns []*listener, p readiness) {
	if nextRetry(lns).IsZero() {
		return // nothing paused: spare the clock read
	}
	now := time.Now()
	for _, ln := range lns {
		if ln.retryAt.IsZero() || now.Before(ln.retryAt) {
			continue
		}
		ln.retryAt = time.Time{}
		if err := p.Mod(ln.fd, listenerGen, poller.Readable); err != nil {
			ln.retryAt = now.Add(ln.backoff) // try again later rather than lose the listener
		}
	}
}

// The acceptor (main-reactor mode) is one goroutine with its own poller
// watching every listener; it hands accepted fds to the loops through their
// task queues. The queue's wake flag batches the wakes: a burst of accepts
// for one loop costs one eventfd write.
type acceptor struct {
	eng      *engine
	poller   readiness
	lns      []*listener
	stopping atomic.Bool
	goid     atomic.Uint64
}

func newAcceptor(e *engine, lns []*listener) (*acceptor, error) {
	p, err := openPoller()
	if err != nil {
		return nil, err
	}
	a := &acceptor{eng: e, poller: p, lns: lns}
	for _, ln := range lns {
		if err := p.Add(ln.fd, listenerGen, poller.Readable); err != nil {
			_ = p.Close()
			return nil, err
		}
	}
	return a, nil
}

func (a *acceptor) run() error {
	a.goid.Store(goid())
	for !a.stopping.Load() {
		if _, err := a.poller.Wait(waitTimeout(nextRetry(a.lns)), a); err != nil {
			a.eng.log.Error("evloop: acceptor failed", "err", err)
			return err
		}
		resumeDue(a.lns, a.poller)
	}
	for _, ln := range a.lns {
		ln.close() // pending handshakes are refused rather than left waiting
	}
	return nil
}

// stop makes run return, closing the listeners (unless handed over, in
// which case the sockets live on in the process that took them).
func (a *acceptor) stop() {
	a.stopping.Store(true)
	_ = a.poller.Wake()
}

func (a *acceptor) OnEvent(ev poller.Event) {
	if ln := findListener(a.lns, ev.FD); ln != nil && !a.stopping.Load() {
		ln.acceptReady(a.poller, a.eng, a)
	}
}

func (a *acceptor) handoff(fd int, peer netip.AddrPort, ln *listener) {
	l := a.eng.pick(peer, &ln.next)
	// Counted now, not when the loop gets to it, so that LeastConnections
	// spreads a burst of accepts instead of sending it all to one loop.
	l.count.Add(1)
	err := l.q.Push(task{kind: taskRegister, fd: int32(fd), peer: peer, ln: ln})
	if errors.Is(err, queue.ErrClosed) {
		l.count.Add(-1)
		_ = socket.Close(fd) // the loop has exited: the engine is stopping
	}
	// Any other error is the wake's: the task is queued, the loop owns fd.
}
