//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows || evloop_portable

package evloop

import (
	"net/netip"

	"github.com/valyala/bytebufferpool"

	"github.com/evloop/evloop/internal/socket"
)

// A task is work another goroutine hands to a loop. It is a plain value in
// the loop's queue: no interface boxing and no allocation per task, except
// the pooled buffer an async write copies its bytes into.
type task struct {
	kind taskKind
	fd   int32 // taskRegister: the accepted fd
	conn *conn // connection tasks: identity is the pointer, never the fd
	ln   *listener
	dg   *udpSock // datagram tasks: the socket
	peer netip.AddrPort
	bb   *bytebufferpool.ByteBuffer // taskWrite: the bytes, owned by the task
	cb   AsyncCallback
	err  error    // taskClose: the reason given to OnClose; taskDialCancel: why
	dial *dialing // taskDial, taskDialCancel
	// taskProbe: where the loop reports whether it is quiet.
	reply chan<- bool
	// taskTimer: the timer, the arming and when it is due. taskTLSFlush,
	// taskTLSDone: seq is the connection's generation.
	timer *Timer
	seq   uint64
	when  int64
}

type taskKind uint8

const (
	taskRegister      taskKind = iota + 1 // serve an fd accepted by the acceptor
	taskWrite                             // AsyncWrite, AsyncWritev
	taskSendTo                            // DatagramPeer.AsyncWrite
	taskWake                              // Conn.Wake
	taskClose                             // Conn.Close, a pool job's panic
	taskCloseWrite                        // Conn.CloseWrite
	taskAbort                             // Conn.Abort
	taskPause                             // Conn.PauseReading
	taskResume                            // Conn.ResumeReading
	taskPoolPause                         // Execute waits for the pool: stop reading
	taskPoolResume                        // the pool took the waiting jobs: read again
	taskTimer                             // arm a Timer (AfterFunc, Reset)
	taskDeadline                          // a deadline or idle timeout moved earlier
	taskStopAccepting                     // close this loop's own listeners
	taskProbe                             // Stop's drain phase: anything pending?
	taskShutdown                          // close every connection and exit
	taskDial                              // start a dial or serve an enrolled fd
	taskDialCancel                        // Engine.Dial's context ended
	taskTLSFlush                          // a TLS handshake wrote: send it
	taskTLSDone                           // a TLS handshake ended (err: how)
)

// release frees what a task owns when it will not run: the async write's
// buffer and its reservation, or the accepted fd nobody will serve.
func (t *task) release() {
	if t.bb != nil {
		switch t.kind {
		case taskWrite:
			t.conn.asyncQueued.Add(-int32(len(t.bb.B))) // see conn.reserveAsync
		case taskSendTo:
			t.dg.asyncQueued.Add(-int64(len(t.bb.B)))
		}
		bytebufferpool.Put(t.bb)
		t.bb = nil
	}
	if t.kind == taskRegister && t.fd >= 0 {
		_ = socket.Close(int(t.fd))
		t.fd = -1
	}
}

// copyBuffers copies buf and bufs into one pooled buffer, so the caller of
// AsyncWrite may reuse its memory at once.
func copyBuffers(buf []byte, bufs [][]byte) *bytebufferpool.ByteBuffer {
	bb := bytebufferpool.Get()
	bb.B = append(bb.B[:0], buf...)
	for _, b := range bufs {
		bb.B = append(bb.B, b...)
	}
	return bb
}

// RunTask runs one queued task on the loop goroutine.
func (l *loop) RunTask(t *task) {
	l.st.tasks++
	l.begin(actTask, t.conn)
	c := t.conn
	switch t.kind {
	case taskRegister:
		fd := int(t.fd)
		t.fd = -1 // the loop owns it now
		l.register(fd, t.peer, t.ln)
	case taskWrite:
		err := ErrClosed
		if c.state == connOpen {
			_, err = c.Write(t.bb.B)
		}
		// The bytes leave the queue only now that the pending count,
		// published by Write, holds them: a producer in between counts
		// them twice, never zero times, and cannot pass the cap.
		c.asyncQueued.Add(-int32(len(t.bb.B)))
		bytebufferpool.Put(t.bb)
		t.bb = nil
		l.callback(c, t.cb, err)
	case taskSendTo:
		l.sendTo(t)
	case taskWake:
		if c.state != connOpen {
			l.callback(c, t.cb, ErrClosed)
			break
		}
		l.settle(c, l.traffic(c))
		l.callback(c, t.cb, nil)
	case taskClose:
		if c.state != connOpen {
			l.callback(c, t.cb, ErrClosed)
			break
		}
		l.closeConn(c, t.err)
		l.callback(c, t.cb, nil)
	case taskPoolPause, taskPoolResume:
		if c.state == connOpen {
			c.setPaused(pausePool, t.kind == taskPoolPause)
		}
	case taskCloseWrite, taskAbort, taskPause, taskResume:
		if t.dg != nil {
			t.dg.pause(t.kind == taskPause) // a datagram socket's
			break
		}
		if c.state != connOpen {
			l.callback(c, t.cb, ErrClosed)
			break
		}
		switch t.kind {
		case taskCloseWrite:
			c.closeWrite()
		case taskAbort:
			l.abort(c)
		case taskPause, taskResume:
			c.setPaused(pauseUser, t.kind == taskPause)
		}
		l.callback(c, t.cb, nil)
	case taskTLSFlush:
		if ts := l.tlsTask(t); ts != nil {
			l.tlsFlushHandshake(c, ts)
			l.afterDispatch()
		}
	case taskTLSDone:
		if ts := l.tlsTask(t); ts != nil {
			l.tlsHandshakeDone(c, ts, t.err)
			l.afterDispatch()
		}
	case taskTimer:
		l.armTimer(t.timer, t.seq, t.when)
	case taskDeadline:
		if c.state != connClosed {
			l.settleTime(c)
		}
	case taskStopAccepting:
		l.closeListeners()
		l.stopDatagrams()
	case taskProbe:
		t.reply <- !l.flushing() && !l.datagramsPending() && l.q.Len() == 0
	case taskShutdown:
		l.closeListeners()
		l.closeAll()
		l.closeDatagrams()
		l.exiting = true
	case taskDial:
		l.runDial(t.dial)
	case taskDialCancel:
		l.cancelDial(t.dial, t.err)
	}
	l.afterDispatch()
}

// drop is what happens to a task that will never run because its loop has
// exited: its callback still runs exactly once, with ErrClosed, and what it
// owns is released.
func (l *loop) drop(t *task) {
	if t.kind == taskRegister {
		l.count.Add(-1)
	}
	t.release()
	if t.kind == taskProbe {
		t.reply <- true
	}
	if t.kind == taskTimer {
		t.timer.kill() // its loop is gone: it will never run
	}
	if t.kind == taskDial && !t.dial.done {
		l.dialFailed(t.dial, ErrEngineStopped)
	}
	if t.conn != nil {
		l.callback(t.conn, t.cb, ErrClosed)
	}
	if t.dg != nil && t.cb != nil {
		t.dg.withPeer(t.peer, func(c Conn) { l.datagramCallback(c, t.cb, ErrClosed) })
	}
}
