//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows || evloop_portable

package evloop

import (
	"crypto/tls"
	"errors"
	"net"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/evloop/evloop/internal/queue"
	"github.com/evloop/evloop/internal/socket"
	"github.com/evloop/evloop/poller"
	"github.com/evloop/evloop/ringbuffer"
)

// AsyncCallback reports the outcome of an asynchronous call (AsyncWrite,
// AsyncWritev, Wake, CloseWithCallback). It runs exactly once, on the
// connection's loop goroutine, with err:
//   - nil: done (for a write: sent, or queued in order behind pending
//     output);
//   - ErrClosed: the connection was closed (or closing) before the call
//     ran, or the engine stopped first;
//   - a *os.SyscallError such as EPIPE or ECONNRESET: the write failed and
//     the connection is closed with that error;
//   - ErrOutboundFull: the write would have passed WithOutboundLimit on
//     the loop (writes by the handler itself count there too); the
//     connection is closed with it.
//
// Like any callback it may use the loop-only methods of connections of its
// loop. It must not block. A panic in it is recovered and closes the
// connection with a *PanicError (unless WithPanicPropagation).
type AsyncCallback func(c Conn, err error)

// Conn is one connection of an engine.
//
// Who may call what: the methods in the first group belong to the loop that
// owns the connection and may only be called from inside a callback running
// on that loop (an event handler method or an AsyncCallback), whichever of
// the loop's connections the callback is for: a handler may Write to
// another connection when other.Loop() == c.Loop(). The second group is safe
// from any goroutine, including pool jobs that outlive the connection, which
// then get ErrClosed. Build with -tags evloop_debug to have a loop-only call
// from the wrong goroutine panic with a clear message.
//
// Slices returned by Peek and Next point into the loop's memory, without a
// copy. They are valid until the callback returns or until the next call to
// Read, Peek, Next or Discard on the same connection, whichever comes first;
// keep the bytes longer by copying them.
type Conn interface {
	// Read copies buffered inbound bytes into p. It returns io.EOF when
	// nothing is buffered now. Loop only.
	Read(p []byte) (n int, err error)
	// Peek returns the next n buffered bytes without consuming them (n < 0:
	// everything buffered). With fewer than n bytes buffered it returns
	// them all and ErrShortBuffer. Loop only; see the type doc for how long
	// the slice is valid.
	Peek(n int) (buf []byte, err error)
	// Next is Peek followed by Discard of the returned bytes. Loop only.
	Next(n int) (buf []byte, err error)
	// Discard drops up to n buffered bytes and returns how many it dropped.
	// Loop only.
	Discard(n int) (discarded int, err error)
	// InboundBuffered returns how many received bytes are not consumed yet.
	// Loop only.
	InboundBuffered() int

	// Write sends p: straight to the socket when nothing is pending, and
	// whatever the kernel does not take is kept, in order, and sent when
	// the socket becomes writable. It returns len(p) unless the connection
	// failed. p may be reused as soon as Write returns. Loop only.
	Write(p []byte) (n int, err error)
	// Writev is Write for several buffers, sent with one writev(2) where
	// possible. Loop only.
	Writev(bufs [][]byte) (n int, err error)
	// Flush tries to send pending output now. Loop only.
	Flush() error
	// OutboundBuffered returns how many written bytes wait for the socket.
	// Loop only.
	OutboundBuffered() int

	// Context returns the value set by SetContext. Loop only.
	Context() any
	// SetContext attaches per-connection state. Loop only.
	SetContext(ctx any)

	// ConnectionState returns the TLS state of a connection served with
	// WithTLS (version, cipher suite, ALPN protocol, server name, peer
	// certificates) and true, from OnOpen on; on a plain connection the
	// zero value and false. Loop only.
	ConnectionState() (tls.ConnectionState, bool)

	// AsyncWrite copies buf and has the connection's loop Write it; cb (may
	// be nil) then runs on that loop with the result. When AsyncWrite
	// returns an error nothing was queued and cb will not run: ErrClosed,
	// ErrEngineStopped, or ErrOutboundFull when the bytes already queued by
	// async writes, the pending output and buf together would pass
	// WithOutboundLimit (the connection stays open: back off and retry, or
	// close it). buf may be reused as soon as AsyncWrite returns. Any
	// goroutine.
	AsyncWrite(buf []byte, cb AsyncCallback) error
	// AsyncWritev is AsyncWrite for several buffers, sent in order as one
	// write. Any goroutine.
	AsyncWritev(bufs [][]byte, cb AsyncCallback) error
	// Wake has the loop run OnTraffic for this connection (with whatever is
	// buffered) and then cb. Any goroutine.
	Wake(cb AsyncCallback) error
	// Close closes the connection on its loop, after trying to send pending
	// output (for at most WithLinger). OnClose runs there with a nil error
	// when everything was sent, or with what went wrong: ErrLingerTimeout,
	// ErrStopTimeout, or the write error that ended the flush. Any
	// goroutine.
	Close() error
	// CloseWrite sends FIN once pending output is flushed: the peer reads
	// EOF, and this side keeps reading until the peer closes too. Writes
	// after it fail with ErrClosed. Any goroutine.
	CloseWrite() error
	// Abort closes the connection at once with a reset (RST), dropping
	// pending output: for servers that must shed load. OnClose gets a nil
	// error: the close was asked for. Any goroutine.
	Abort() error
	// PauseReading stops reading from the connection until ResumeReading;
	// bytes the peer sends meanwhile wait in the kernel, and TCP flow
	// control slows the peer down. It takes effect on the connection's loop
	// shortly after the call. Any goroutine.
	PauseReading() error
	// ResumeReading undoes PauseReading. Any goroutine.
	ResumeReading() error
	// CloseWithCallback is Close with a callback that runs on the loop once
	// the close has begun: after OnClose, or, when output is still pending,
	// while it is being flushed. Any goroutine.
	CloseWithCallback(cb AsyncCallback) error
	// Submit runs job on the engine's goroutine pool, for work that blocks
	// (a database, an HTTP call). Jobs of one connection may run at once,
	// in any order: use Execute when replies must keep request order. A job
	// that panics is recovered and this connection is closed with a
	// *PanicError (unless WithPanicPropagation). It returns ErrPoolOverload
	// when the pool is full, ErrClosed when the connection is closed and
	// ErrEngineStopped after a stop; the job then does not run. Any
	// goroutine.
	Submit(job func()) error
	// Execute is Submit with order: the connection's jobs run one at a
	// time, in the order Execute was called, so replies they send with
	// AsyncWrite leave in request order (pipelined requests served off the
	// loop). When the pool cannot start the connection's runner it returns
	// ErrPoolOverload without queuing job, or, with WithExecutePause,
	// queues it and pauses the connection's reading until a pool goroutine
	// is free. It also returns ErrClosed and ErrEngineStopped like Submit.
	// Any goroutine.
	Execute(job func()) error

	// Loop returns the event loop that owns the connection and runs its
	// callbacks. It never changes. Any goroutine.
	Loop() Loop

	// SetDeadline sets the read and write deadlines, as SetReadDeadline
	// and SetWriteDeadline do. Any goroutine.
	SetDeadline(t time.Time) error
	// SetReadDeadline sets an absolute time by which the connection must
	// have been given a later one: when it passes, the connection is
	// closed and OnClose gets ErrReadTimeout (which matches
	// os.ErrDeadlineExceeded). A handler keeps an active connection open
	// by moving it, e.g. on each message: moving it later costs a store,
	// not a syscall or an allocation. The zero time clears it. It returns
	// ErrClosed on a closed connection. Any goroutine.
	SetReadDeadline(t time.Time) error
	// SetWriteDeadline sets an absolute time by which pending output must
	// have been sent: when it passes with output still pending, that
	// output is dropped, the peer gets a reset and OnClose gets
	// ErrWriteTimeout (which matches os.ErrDeadlineExceeded). A deadline
	// that passes with nothing pending does nothing until output is
	// pending again. The zero time clears it. Any goroutine.
	SetWriteDeadline(t time.Time) error
	// SetIdleTimeout overrides WithIdleTimeout for this connection: it is
	// closed with ErrIdleTimeout once it has neither received nor sent a
	// byte for d; 0 turns idle closing off for it. Any goroutine.
	SetIdleTimeout(d time.Duration) error
	// AfterFunc runs f on the connection's loop after d, unless the
	// connection closes first (its timers are cancelled with it). See
	// Timer for Stop and Reset. Any goroutine.
	AfterFunc(d time.Duration, f func(c Conn)) *Timer

	// LocalAddr returns the local address: the listener's for an accepted
	// connection, the socket's own (getsockname) for a dialed or enrolled
	// one. Any goroutine.
	LocalAddr() net.Addr
	// RemoteAddr returns the peer's address (for an accepted unix
	// connection, whose peer is unnamed, an empty *net.UnixAddr). Any
	// goroutine.
	RemoteAddr() net.Addr
}

// conn is kept small (128 bytes, a size class of its own): an idle
// connection costs this struct, one slot in its loop's table, and no buffer
// (both rings hold memory only while non-empty); deadlines, the idle
// timeout and timers add a 96-byte connTime only once used. Hence
// the packed peer address (netip.AddrPort pads to 32 bytes), the rare write
// error kept in the loop's map rather than in a 16-byte field, and the
// 32-bit outbound accounting (WithOutboundLimit is at most 1 GiB).
type conn struct {
	fd   int32
	gen  uint32
	loop *loop
	org  *origin // its listener's, or its own when dialed or enrolled

	inbound  ringbuffer.Ring
	outbound ringbuffer.Ring
	ctx      any
	exec     atomic.Pointer[executor] // set by the first Execute

	// state is owned by the loop; closed mirrors it for other goroutines so
	// that their calls on a dead connection fail without queuing.
	closed   atomic.Bool
	state    connState
	interest poller.Interest // what the poller watches for this fd
	pause    pauseReason     // why reading is off (0: reading)
	flags    connFlags       // flagFailed: the loop's errs map holds why
	peerKind uint8           // 0: none (unix), 4 or 6
	peerPort uint16
	peerIP   [16]byte

	// What off-loop producers count against the outbound cap: bytes of
	// async writes queued and not yet run, and the loop's pending output
	// as last published by the loop (outboundChanged).
	asyncQueued atomic.Int32
	outPending  atomic.Int32

	tm atomic.Pointer[connTime] // deadlines and timers, from their first use
}

type connState uint8

const (
	connOpen    connState = iota
	connClosing           // not reading; closes once pending output is flushed
	connClosed
	// connDialing: a connect in progress, watched for writability. Its
	// dial (the loop's dials map) owns it; no handler has seen it, and it
	// becomes connOpen or is dropped without OnClose.
	connDialing
)

var _ Conn = (*conn)(nil)

func (c *conn) Context() any       { c.loopOnly("Context"); return c.ctx }
func (c *conn) SetContext(ctx any) { c.loopOnly("SetContext"); c.ctx = ctx }

func (c *conn) Loop() Loop { return Loop{c.loop} }

func (c *conn) LocalAddr() net.Addr { return c.org.addr }

func (c *conn) RemoteAddr() net.Addr {
	if peer := c.peerAddr(); peer.IsValid() {
		return socket.AddrPortToNetAddr(c.org.network, peer)
	}
	if c.org.peer != nil {
		return c.org.peer
	}
	return &net.UnixAddr{Net: "unix"}
}

// setPeer packs ap into the connection. An IPv6 zone is dropped: link-local
// clients of a server are rare, and the zone would cost every connection.
func (c *conn) setPeer(ap netip.AddrPort) {
	a := ap.Addr()
	switch {
	case a.Is4():
		c.peerKind = 4
	case a.Is6():
		c.peerKind = 6
	default:
		return
	}
	c.peerIP, c.peerPort = a.As16(), ap.Port()
}

func (c *conn) peerAddr() netip.AddrPort {
	switch c.peerKind {
	case 4:
		return netip.AddrPortFrom(netip.AddrFrom16(c.peerIP).Unmap(), c.peerPort)
	case 6:
		return netip.AddrPortFrom(netip.AddrFrom16(c.peerIP), c.peerPort)
	}
	return netip.AddrPort{}
}

// push hands a task for this connection to its loop. The closed check is a
// fast path only: a connection that closes after it is caught by the loop,
// which runs the task's callback with ErrClosed.
func (c *conn) push(t task) error {
	t.conn = c
	if c.closed.Load() {
		t.release()
		return ErrClosed
	}
	if err := c.loop.q.Push(t); errors.Is(err, queue.ErrClosed) {
		t.release()
		return ErrEngineStopped
	}
	// Any other error is the wake's: the task is queued and will run.
	return nil
}

func (c *conn) AsyncWrite(buf []byte, cb AsyncCallback) error {
	return c.asyncWrite(buf, nil, len(buf), cb)
}

func (c *conn) AsyncWritev(bufs [][]byte, cb AsyncCallback) error {
	n := 0
	for _, b := range bufs {
		n += len(b)
	}
	return c.asyncWrite(nil, bufs, n, cb)
}

// asyncWrite reserves n bytes against the outbound cap, copies them and
// queues the write. The reservation is returned when the task runs or is
// dropped (task.release).
func (c *conn) asyncWrite(buf []byte, bufs [][]byte, n int, cb AsyncCallback) error {
	if c.closed.Load() {
		return ErrClosed
	}
	if err := c.reserveAsync(n); err != nil {
		return err
	}
	return c.push(task{kind: taskWrite, bb: copyBuffers(buf, bufs), cb: cb})
}

// reserveAsync counts n more queued bytes if the queued bytes, the pending
// output and n together stay within the outbound cap. Any goroutine.
func (c *conn) reserveAsync(n int) error {
	limit := c.loop.eng.opts.outLimit
	if n > limit {
		return ErrOutboundFull
	}
	for {
		q := c.asyncQueued.Load()
		if int(q)+int(c.outPending.Load())+n > limit {
			return ErrOutboundFull
		}
		if c.asyncQueued.CompareAndSwap(q, q+int32(n)) {
			return nil
		}
	}
}

func (c *conn) Wake(cb AsyncCallback) error {
	return c.push(task{kind: taskWake, cb: cb})
}

func (c *conn) Close() error { return c.CloseWithCallback(nil) }

func (c *conn) CloseWithCallback(cb AsyncCallback) error {
	return c.push(task{kind: taskClose, cb: cb})
}

func (c *conn) CloseWrite() error    { return c.push(task{kind: taskCloseWrite}) }
func (c *conn) Abort() error         { return c.push(task{kind: taskAbort}) }
func (c *conn) PauseReading() error  { return c.push(task{kind: taskPause}) }
func (c *conn) ResumeReading() error { return c.push(task{kind: taskResume}) }

func (c *conn) Submit(job func()) error {
	if c.closed.Load() {
		return ErrClosed
	}
	return c.loop.eng.submit(c, job)
}
