//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows || evloop_portable

package evloop

import (
	"os"

	"github.com/evloop/evloop/internal/socket"
	"github.com/evloop/evloop/poller"
)

// Flow control. What the poller watches for a connection is derived from
// its state, never toggled ad hoc: it reads while open and no pause reason
// holds, and it waits for writability while output is pending. Pausing
// therefore removes EPOLLIN from the interest set; skipping the events of a
// level-triggered fd instead would make the loop spin.

// pauseReason is a set of reasons a connection is not reading.
type pauseReason uint8

const (
	pauseOutbound  pauseReason = 1 << iota // output above the high watermark
	pauseInbound                           // unread input at the inbound limit
	pauseUser                              // PauseReading
	pauseEOF                               // the peer shut down its writing side
	pausePool                              // Execute waits for a pool goroutine
	pauseHandshake                         // a TLS handshake has WithInboundLimit bytes unread
)

type connFlags uint8

const (
	flagWantFIN   connFlags = 1 << iota // CloseWrite: send FIN once flushed
	flagFINSent                         // the write side is shut down
	flagWritable                        // OnWritable is due
	flagFailed                          // a write failed: l.errs[c] says why
	flagAboveHigh                       // output passed the high watermark, not yet back to low
	flagDetached                        // not in the poller: hung up while paused (loop.OnEvent)
	flagTLS                             // served with WithTLS or dialed with DialTLS: the loop's tlsConns holds its state
)

// failure returns the error c failed with, if any.
func (c *conn) failure() error {
	if c.flags&flagFailed == 0 {
		return nil
	}
	return c.loop.errs[c]
}

// wantInterest is what the poller should watch for c now.
func (c *conn) wantInterest() poller.Interest {
	var in poller.Interest
	if c.state == connOpen && c.pause == 0 {
		in |= poller.Readable
	}
	if !c.outbound.IsEmpty() && c.state != connClosed {
		in |= poller.Writable
	}
	return in
}

// syncInterest brings the poller in line with wantInterest, with one
// epoll_ctl only when something changed. Loop only.
func (c *conn) syncInterest() {
	want := c.wantInterest()
	if want == c.interest || c.state == connClosed {
		return
	}
	var err error
	if c.flags&flagDetached != 0 {
		// Reading resumes on a connection taken out of the poller: watch
		// it again, and its bytes and end of stream are read as usual.
		if err = c.loop.poller.Add(int(c.fd), c.gen, want); err == nil {
			c.flags &^= flagDetached
		}
	} else {
		err = c.loop.poller.Mod(int(c.fd), c.gen, want)
	}
	if err != nil {
		c.fail(err)
		return
	}
	switch {
	case c.interest&poller.Readable != 0 && want&poller.Readable == 0:
		c.loop.st.notReading++
	case c.interest&poller.Readable == 0 && want&poller.Readable != 0:
		c.loop.st.notReading--
	}
	c.interest = want
}

// outboundChanged applies the watermarks after output was queued or sent.
func (c *conn) outboundChanged() {
	n := c.outbound.Buffered()
	c.loop.st.pendingOut += int64(n) - int64(c.outPending.Load())
	c.outPending.Store(int32(n)) // for AsyncWrite's cap check
	o := &c.loop.eng.opts
	switch {
	case n > o.outHigh:
		c.flags |= flagAboveHigh
		if o.outboundPause {
			c.pause |= pauseOutbound
		}
	case n <= o.outLow && c.flags&flagAboveHigh != 0:
		c.flags &^= flagAboveHigh
		c.pause &^= pauseOutbound
		if c.loop.eng.writable != nil && c.flags&flagWritable == 0 {
			c.flags |= flagWritable
			c.loop.due = append(c.loop.due, c)
		}
	}
	if n == 0 {
		c.outbound.Release()
		if c.flags&(flagWantFIN|flagFINSent) == flagWantFIN {
			c.shutdownWrite()
		}
	} else if c.interest&poller.Writable == 0 {
		c.outputPending() // a write deadline applies from now
	}
	c.syncInterest()
}

// inboundChanged applies the inbound limit after a callback consumed (or
// left) received bytes.
func (c *conn) inboundChanged() {
	if c.inbound.Buffered() >= c.loop.eng.opts.inLimit {
		c.pause |= pauseInbound
	} else {
		c.pause &^= pauseInbound
	}
	if c.inbound.IsEmpty() {
		c.inbound.Release()
	}
	c.syncInterest()
}

func (c *conn) setPaused(reason pauseReason, on bool) {
	if on {
		c.pause |= reason
	} else {
		c.pause &^= reason
	}
	c.syncInterest()
}

// shutdownWrite sends FIN now. Loop only, with nothing pending.
func (c *conn) shutdownWrite() {
	c.flags |= flagFINSent
	if err := socket.ShutdownWrite(int(c.fd)); err != nil {
		c.fail(os.NewSyscallError("shutdown", err))
	}
}

// closeWrite is CloseWrite on the loop.
func (c *conn) closeWrite() {
	if c.flags&flagTLS != 0 {
		c.loop.tlsCloseNotify(c) // close_notify, then FIN
	}
	c.flags |= flagWantFIN
	if c.outbound.IsEmpty() && c.flags&flagFINSent == 0 {
		c.shutdownWrite()
	}
}

// abort closes c with a reset: SO_LINGER 0 makes close(2) send RST and drop
// whatever the kernel still holds.
func (l *loop) abort(c *conn) {
	_ = socket.SetLinger(int(c.fd), 0)
	c.outbound.Reset()
	l.closeNow(c, nil)
}

// deliverWritable runs OnWritable for connections whose output drained
// below the low watermark during the last event or task. The handler may
// make more due (appended; the length is read each time), and a nested call
// from settle leaves the list to this one. The slice keeps its capacity.
func (l *loop) deliverWritable() {
	if l.deliveringWritable {
		return
	}
	l.deliveringWritable = true
	for i := 0; i < len(l.due); i++ {
		c := l.due[i]
		l.due[i] = nil
		c.flags &^= flagWritable
		if c.state == connOpen && c.flags&flagFailed == 0 {
			l.settle(c, l.onWritable(c))
		}
	}
	l.due = l.due[:0]
	l.deliveringWritable = false
}

// socketError returns the pending error of a socket that reported an error
// or hang-up while it was not being read or flushed, so it can be closed
// with it: waiting on a level-triggered hang-up would spin.
func socketError(fd int) error { return socket.PendingError(fd) }
