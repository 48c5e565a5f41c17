//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows || evloop_portable

package evloop

import (
	"runtime/debug"
	"sync"
)

// The handshake, from the loop's side:
//
//	accept        tlsAccept: the deadline armed, no goroutine
//	first bytes   tlsStart: a goroutine runs tls.Conn.Handshake, or the
//	              handshake waits in line (WithTLSHandshakeLimit)
//	more bytes    deliver: its Read wakes up
//	its flights   taskTLSFlush: written to the socket by the loop
//	its end       taskTLSDone: the loop takes the connection back, checks
//	              it is still the same one, and opens it (OnOpen) or
//	              closes it; the goroutine is gone by then or about to be

// tlsQueue bounds the handshake goroutines (WithTLSHandshakeLimit). A
// handshake that finds them all busy waits in line, holding no goroutine,
// and a goroutine that ends a handshake takes the next one in line before
// it exits: goroutines are started only below the limit, and never while
// one is about to be free.
type tlsQueue struct {
	mu      sync.Mutex
	running int         // goroutines
	waiting []*tlsState // first bytes arrived, no goroutine yet
}

// tlsStart gives c's handshake a goroutine, or a place in line. Its bytes
// keep arriving meanwhile, and its deadline keeps running.
func (l *loop) tlsStart(ts *tlsState) {
	e := l.eng
	ts.busy = true
	q := &e.tlsQueue
	q.mu.Lock()
	if q.running == e.opts.tlsLimit {
		q.waiting = append(q.waiting, ts)
		q.mu.Unlock()
		return
	}
	q.running++
	q.mu.Unlock()
	e.tlsWG.Add(1)
	go e.tlsServe(ts)
}

// tlsServe runs ts's handshake, then those waiting in line, on one
// goroutine.
func (e *engine) tlsServe(ts *tlsState) {
	defer e.tlsWG.Done()
	for ts != nil {
		e.tlsHandshake(ts)
		ts = e.tlsQueue.next()
	}
}

// next returns the next handshake in line, or ends the caller's turn: in
// one critical section, so a handshake queued meanwhile is never left
// without a goroutine.
func (q *tlsQueue) next() *tlsState {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.waiting) == 0 {
		q.running--
		return nil
	}
	ts := q.waiting[0]
	q.waiting[0] = nil
	q.waiting = q.waiting[1:]
	if len(q.waiting) == 0 {
		q.waiting = nil // the backing array goes when the line empties
	}
	return ts
}

// tlsHandshake runs one handshake and reports to its connection's loop. A
// connection closed while it waited in line fails at its first Read. A
// panic in the configuration's callbacks (GetCertificate and the like)
// fails this handshake only, unless WithPanicPropagation.
func (e *engine) tlsHandshake(ts *tlsState) {
	var err error
	func() {
		if !e.opts.propagatePanic {
			defer func() {
				if r := recover(); r != nil {
					stack := debug.Stack()
					e.recovered("TLS handshake", r, stack)
					err = &PanicError{Value: r, Stack: stack}
				}
			}()
		}
		err = ts.tc.Handshake()
	}()
	// ErrClosed: the connection was closed meanwhile, and nobody waits.
	_ = ts.tr.c.push(task{kind: taskTLSDone, err: err, seq: uint64(ts.tr.gen)})
}

// tlsTask looks up the TLS state a handshake task is for: nil when the
// connection closed, or is not the one the task was made for.
func (l *loop) tlsTask(t *task) *tlsState {
	c := t.conn
	ts := l.tlsConns[c]
	if ts == nil || c.state == connClosed || uint64(c.gen) != t.seq || ts.open {
		return nil
	}
	return ts
}

// tlsFlushHandshake writes what the handshake goroutine has written.
func (l *loop) tlsFlushHandshake(c *conn, ts *tlsState) {
	if out := ts.tr.takeOut(); len(out) > 0 && c.flags&flagFailed == 0 {
		_, _ = c.writeRaw(out) // a failure is recorded by c.fail and closes c
	}
}

// tlsHandshakeDone takes a connection back from its handshake goroutine.
// On success the deadline is cleared, OnOpen runs, and the loop reads
// once what crypto/tls or the transport already hold: the client's first
// request often arrives with its last handshake message, and no readiness
// event would bring it. On failure the connection is closed once the
// alert crypto/tls wrote is flushed.
func (l *loop) tlsHandshakeDone(c *conn, ts *tlsState, err error) {
	l.tlsFlushHandshake(c, ts)
	ts.busy = false
	if err == nil && c.flags&flagFailed != 0 {
		err = c.failure()
	}
	if err != nil {
		ts.hsErr = err
		l.closeConn(c, nil)
		return
	}
	tr := &ts.tr
	tr.mu.Lock()
	tr.handshake = false
	left := tr.in
	tr.in, tr.out, tr.spare = nil, nil, nil
	tr.mu.Unlock()
	ts.open = true
	if c.pause&pauseHandshake != 0 {
		c.setPaused(pauseHandshake, false)
	}
	l.eng.tlsHandshakes.Add(1)
	if ts.dial != nil {
		l.eng.dialed.Add(1)
	}
	c.timeState().readDL.Store(0)
	l.start(c)
	if ts.dial != nil {
		l.tlsDialOpened(c, ts)
	}
	if c.state == connOpen && c.flags&flagFailed == 0 {
		// Drained once: whatever the handshake goroutine left behind is
		// decrypted, however crypto/tls holds it.
		l.tlsRead(c, ts, left, true)
	}
}
