//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows || evloop_portable

package evloop

import (
	"crypto/tls"
	"net"

	"github.com/evloop/evloop/internal/socket"
	"github.com/evloop/evloop/poller"
)

// The loop's side of dialing and enrolling. A dial in progress is a conn
// in state connDialing, in the loop's table under its fd and watched for
// writability, so its readiness arrives like any connection's; its dialing
// (the loop's dials map, kept out of the 128-byte conn) says what to do
// next. It leaves that state once: connOpen through the register path, or
// dropped without any handler call.

// dialing is one Engine.Dial, Loop.Dial, Enroll or EnrollFD on its way to
// becoming a connection. Built by the caller; owned by the loop from the
// task on (a resolver goroutine fills in addrs and err before the task).
type dialing struct {
	network string
	address string     // as given, for errors
	addrs   []net.Addr // the addresses to try, in order
	next    int        // how many of them were tried
	// deadline is when the whole dial fails, on the engine's clock (0:
	// none); entry holds the current attempt's, a share of what is left.
	deadline int64
	entry    timerEntry

	ctx    any             // the connection's Context before OnOpen
	cb     DialCallback    // Loop.Dial
	result chan dialResult // Engine.Dial, Enroll: the blocked caller

	// tls, for DialTLS, is the client's configuration (ServerName set):
	// once connected, the dial goes on with the handshake, and handshake
	// is true until it ends.
	tls       *tls.Config
	handshake bool

	enroll bool // fd is an enrolled connection: serve it, never close it
	fd     int
	c      *conn // the attempt in progress, or the enrolled connection
	err    error // why it failed so far: the look-up's, or the last attempt's
	done   bool  // reported
}

// runDial starts a dial or an enrollment handed to this loop.
func (l *loop) runDial(d *dialing) {
	switch {
	case d.done: // cancelled before it started
	case d.err != nil:
		l.dialFailed(d, d.err)
	case l.exiting:
		l.dialFailed(d, ErrEngineStopped)
	case d.enroll:
		l.enroll(d)
	default:
		l.dialNext(d)
	}
}

// dialNext connects to the next address, and fails the dial when none is
// left or its time is up.
func (l *loop) dialNext(d *dialing) {
	for d.next < len(d.addrs) {
		if d.deadline != 0 && d.deadline <= l.eng.clock() {
			l.dialFailed(d, ErrDialTimeout)
			return
		}
		d.next++
		fd, err := socket.ConnectAddr(d.addrs[d.next-1])
		switch {
		case err == nil: // connected at once
			if err = l.watchDial(d, fd, poller.Readable); err == nil {
				l.dialOpen(d)
				return
			}
		case err == socket.EINPROGRESS:
			if err = l.watchDial(d, fd, poller.Writable); err == nil {
				if when := d.attemptDeadline(l.eng.clock()); when != 0 {
					l.timers.set(&d.entry, when)
				}
				return
			}
		}
		d.err = err
	}
	l.dialFailed(d, d.err)
}

// attemptDeadline gives the next attempt an equal share of the time left
// with the addresses not tried yet, but at least two seconds (or all that
// is left), as package net does: a first address that does not answer
// must not take the others' time, and a slow one must get a fair chance.
func (d *dialing) attemptDeadline(now int64) int64 {
	if d.deadline == 0 {
		return 0
	}
	left := d.deadline - now
	share := left / int64(len(d.addrs)-d.next+1)
	const floor = int64(2e9)
	if share < floor {
		share = min(left, floor)
	}
	return now + share
}

// watchDial makes the conn of a connecting (or connected) socket: in the
// table and the poller, under a new generation. On failure fd is closed.
func (l *loop) watchDial(d *dialing, fd int, in poller.Interest) error {
	c := l.newConn(fd, nil, in)
	if in == poller.Writable {
		c.state = connDialing
	}
	if err := l.poller.Add(fd, c.gen, in); err != nil {
		_ = socket.Close(fd)
		return err
	}
	l.store(c)
	d.c = c
	l.dials[c] = d
	d.entry.c = c
	return nil
}

// dialReady handles readiness of a connecting socket: connected, or failed
// (then the next address is tried).
func (l *loop) dialReady(c *conn) {
	d := l.dials[c]
	if err := socket.ConnectResult(int(c.fd)); err != nil {
		d.err = err
		l.dropAttempt(d)
		l.dialNext(d)
		return
	}
	l.dialOpen(d)
}

// dialTimedOut ends an attempt whose share of the time ran out; the next
// address, if any and if time is left, gets its turn.
func (l *loop) dialTimedOut(c *conn) {
	d := l.dials[c]
	if d == nil {
		return
	}
	d.err = ErrDialTimeout
	l.dropAttempt(d)
	l.dialNext(d)
}

// cancelDial ends a dial whose context ended, if it is not settled yet.
func (l *loop) cancelDial(d *dialing, err error) {
	if d.done {
		return
	}
	if d.handshake {
		d.err = err
		l.closeConn(d.c, err) // reported as the handshake's failure
		return
	}
	if d.c != nil {
		l.dropAttempt(d)
	}
	l.dialFailed(d, err)
}

// dropAttempt forgets the attempt in progress: its timer, its poller
// registration, its table slot and, unless enrolled, its socket.
func (l *loop) dropAttempt(d *dialing) {
	c := d.c
	d.c = nil
	l.timers.remove(&d.entry)
	delete(l.dials, c)
	l.conns[c.fd] = nil
	c.state = connClosed
	c.closed.Store(true)
	_ = l.poller.Del(int(c.fd))
	if !d.enroll {
		_ = socket.Close(int(c.fd))
	}
}

// enroll serves an fd given to Enroll or EnrollFD.
func (l *loop) enroll(d *dialing) {
	c := l.newConn(d.fd, nil, poller.Readable)
	if err := l.poller.Add(d.fd, c.gen, poller.Readable); err != nil {
		l.dialFailed(d, err)
		return
	}
	l.store(c)
	d.c = c
	l.dialOpen(d)
}

// dialOpen turns a connected socket into an open connection: watched for
// reading, its addresses read, the engine's socket options applied, then
// OnOpen as for an accepted fd, then the dial reported.
func (l *loop) dialOpen(d *dialing) {
	c := d.c
	l.timers.remove(&d.entry)
	delete(l.dials, c)
	fd := int(c.fd)
	if c.interest != poller.Readable {
		if err := l.poller.Mod(fd, c.gen, poller.Readable); err != nil {
			l.dropAttempt(d)
			l.dialFailed(d, err)
			return
		}
		c.interest = poller.Readable
	}
	org, err := socketOrigin(fd, d.network)
	if err != nil {
		l.dropAttempt(d)
		l.dialFailed(d, err)
		return
	}
	c.org = org
	if a, ok := org.peer.(*net.TCPAddr); ok {
		c.setPeer(a.AddrPort())
		org.peer = nil // packed in the conn, as for accepted connections
	}
	c.state = connOpen
	c.ctx = d.ctx
	l.eng.prepare(fd, d.network)
	if d.tls != nil {
		l.tlsDial(c, d) // OnOpen, counted and reported once the handshake succeeds
		return
	}
	if d.enroll {
		l.eng.enrolled.Add(1)
	} else {
		l.eng.dialed.Add(1)
	}
	l.start(c)
	l.finishDial(d, c, nil)
}

// socketOrigin reads a connected socket's own addresses.
func socketOrigin(fd int, network string) (*origin, error) {
	local, err := socket.LocalAddr(fd, network)
	if err != nil {
		return nil, err
	}
	peer, err := socket.PeerAddr(fd, network)
	if err != nil {
		return nil, err
	}
	return &origin{network: network, addr: local, peer: peer}, nil
}

// dialFailed reports a dial that will not connect and takes back its
// count. The loop calls it, or, for a dial no loop will ever see (the
// push failed), the goroutine that holds it.
func (l *loop) dialFailed(d *dialing, err error) {
	l.count.Add(-1)
	if !d.enroll {
		l.eng.dialFailures.Add(1)
	}
	l.finishDial(d, nil, err)
}

// finishDial reports the outcome, once: to the blocked caller of
// Engine.Dial or Enroll, or to Loop.Dial's callback. A dial's error is
// shaped as package net shapes it; an enrollment's is passed as is.
func (l *loop) finishDial(d *dialing, c *conn, err error) {
	if d.done {
		return
	}
	d.done = true
	if err != nil && !d.enroll {
		var tried net.Addr
		if d.next > 0 {
			tried = d.addrs[d.next-1]
		}
		err = dialError(d.network, tried, err)
	}
	if d.result != nil {
		d.result <- dialResult{c: c, err: err}
		return
	}
	if d.cb != nil {
		l.dialCallback(d.cb, c, err)
	}
}
