//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows || evloop_portable

package evloop

import (
	"net/netip"
	"runtime/debug"
	"time"
)

// Every call into user code goes through one of these, which apply the
// panic policy: by default a panic is recovered, logged with its stack and
// counted, and the connection concerned is closed with a *PanicError; with
// WithPanicPropagation it is left to crash the process.

func (l *loop) open(c *conn) (out []byte, a Action) {
	l.begin(actOnOpen, c)
	if l.timing {
		defer l.timed(l.eng.clock())
	}
	if !l.eng.opts.propagatePanic {
		defer l.recoverConn(c, "OnOpen", &a)
	}
	return l.eng.handler.OnOpen(c)
}

func (l *loop) traffic(c *conn) (a Action) {
	l.begin(actOnTraffic, c)
	if l.timing {
		defer l.timed(l.eng.clock())
	}
	defer l.endTraffic(c, c.InboundBuffered())
	if !l.eng.opts.propagatePanic {
		defer l.recoverConn(c, "OnTraffic", &a)
	}
	return l.eng.handler.OnTraffic(c)
}

// datagram runs OnTraffic for one datagram through s's datagram Conn. A
// panic in it is logged and counted, and the datagram is dropped: there is
// no connection to close.
func (l *loop) datagram(s *udpSock, peer netip.AddrPort, data []byte) (a Action) {
	l.begin(actDatagram, nil)
	if l.timing {
		defer l.timed(l.eng.clock())
	}
	v := &s.view
	v.begin(peer, data)
	defer v.end()
	if !l.eng.opts.propagatePanic {
		defer func() {
			if r := recover(); r != nil {
				l.recovered("OnTraffic", r, debug.Stack())
				a = None
			}
		}()
	}
	return l.eng.handler.OnTraffic(v)
}

func (l *loop) onClose(c *conn, err error) (a Action) {
	l.begin(actOnClose, c)
	if l.timing {
		defer l.timed(l.eng.clock())
	}
	if !l.eng.opts.propagatePanic {
		defer l.recoverConn(nil, "OnClose", &a)
	}
	return l.eng.handler.OnClose(c, err)
}

func (l *loop) onWritable(c *conn) (a Action) {
	l.begin(actOnWritable, c)
	if l.timing {
		defer l.timed(l.eng.clock())
	}
	if !l.eng.opts.propagatePanic {
		defer l.recoverConn(c, "OnWritable", &a)
	}
	return l.eng.writable.OnWritable(c)
}

// readClosed tells a ReadCloseHandler that the peer shut down its writing
// side; without one the handler is not told, and it closes the connection
// when it is done writing.
func (l *loop) readClosed(c *conn) (a Action) {
	if l.eng.readEOF == nil {
		return None
	}
	l.begin(actOnReadClosed, c)
	if l.timing {
		defer l.timed(l.eng.clock())
	}
	if !l.eng.opts.propagatePanic {
		defer l.recoverConn(c, "OnReadClosed", &a)
	}
	return l.eng.readEOF.OnReadClosed(c)
}

func (l *loop) tick() (delay time.Duration, a Action) {
	l.begin(actOnTick, nil)
	if l.timing {
		defer l.timed(l.eng.clock())
	}
	if !l.eng.opts.propagatePanic {
		defer func() {
			if r := recover(); r != nil {
				l.recovered("OnTick", r, debug.Stack())
				delay, a = time.Second, None
			}
		}()
	}
	return l.eng.handler.OnTick()
}

// callback runs an AsyncCallback, if any; a panic in it closes c.
func (l *loop) callback(c *conn, cb AsyncCallback, err error) {
	if cb == nil {
		return
	}
	l.begin(actAsyncCallback, c)
	if l.timing {
		defer l.timed(l.eng.clock())
	}
	if !l.eng.opts.propagatePanic {
		var a Action
		defer l.recoverConn(c, "AsyncCallback", &a)
	}
	cb(c, err)
}

// datagramCallback runs an AsyncCallback for a datagram peer; a panic in
// it is logged and counted (there is no connection to close).
func (l *loop) datagramCallback(c Conn, cb AsyncCallback, err error) {
	l.begin(actAsyncCallback, nil)
	if l.timing {
		defer l.timed(l.eng.clock())
	}
	if !l.eng.opts.propagatePanic {
		defer func() {
			if r := recover(); r != nil {
				l.recovered("AsyncCallback", r, debug.Stack())
			}
		}()
	}
	cb(c, err)
}

// dialCallback runs a DialCallback; a panic in it closes c, when the dial
// gave one.
func (l *loop) dialCallback(cb DialCallback, c *conn, err error) {
	l.begin(actDialCallback, c)
	if l.timing {
		defer l.timed(l.eng.clock())
	}
	if c == nil {
		if !l.eng.opts.propagatePanic {
			defer l.recoverConn(nil, "DialCallback", new(Action))
		}
		cb(nil, err)
		return
	}
	if !l.eng.opts.propagatePanic {
		var a Action
		defer l.recoverConn(c, "DialCallback", &a)
	}
	cb(c, err)
}

// recoverConn is deferred around a callback for c (nil when the callback
// concerns no open connection). It must be deferred directly: recover only
// works in the deferred call itself.
func (l *loop) recoverConn(c *conn, where string, a *Action) {
	r := recover()
	if r == nil {
		return
	}
	perr := &PanicError{Value: r, Stack: debug.Stack()}
	l.recovered(where, r, perr.Stack)
	if c != nil {
		c.fail(perr)
		*a = Close
	}
}

// recovered counts a panic recovered in one of the loop's callbacks, for
// the loop's and the engine's statistics, and logs it.
func (l *loop) recovered(where string, r any, stack []byte) {
	l.st.panics++
	l.eng.recovered(where, r, stack)
}

// begin tells the watchdog, when there is one, what the loop starts
// running.
func (l *loop) begin(a activity, c *conn) {
	if l.wd {
		l.enter(a, c)
	}
}

func (e *engine) recovered(where string, r any, stack []byte) {
	e.panics.Add(1)
	e.log.Error("evloop: recovered panic", "in", where, "panic", r, "stack", string(stack))
}

func (e *engine) boot() (a Action) {
	if !e.opts.propagatePanic {
		defer func() {
			if r := recover(); r != nil {
				stack := debug.Stack()
				e.recovered("OnBoot", r, stack)
				// Run returns the panic: the engine never served.
				e.requestStop(nil, &PanicError{Value: r, Stack: stack})
				a = None
			}
		}()
	}
	return e.handler.OnBoot(Engine{e})
}

func (e *engine) shutdownHandler() {
	if !e.opts.propagatePanic {
		defer func() {
			if r := recover(); r != nil {
				e.recovered("OnShutdown", r, debug.Stack())
			}
		}()
	}
	e.handler.OnShutdown(Engine{e})
}

// timerCallback runs a Conn.AfterFunc function; a panic in it closes c.
func (l *loop) timerCallback(c *conn, f func(Conn)) {
	l.begin(actTimer, c)
	if l.timing {
		defer l.timed(l.eng.clock())
	}
	if !l.eng.opts.propagatePanic {
		var a Action
		defer l.recoverConn(c, "timer", &a)
	}
	f(c)
}

// loopCallback runs a function that concerns no connection (a Loop or
// Engine timer); a panic in it is logged and counted.
func (l *loop) loopCallback(where string, f func()) {
	l.begin(actTimer, nil)
	if l.timing {
		defer l.timed(l.eng.clock())
	}
	if !l.eng.opts.propagatePanic {
		defer func() {
			if r := recover(); r != nil {
				l.recovered(where, r, debug.Stack())
			}
		}()
	}
	f()
}
