//go:build linux

package evloop

import (
	"errors"
	"net"
	"net/netip"
	"sync/atomic"

	"github.com/evloop/evloop/internal/queue"
	"github.com/evloop/evloop/internal/socket"
	"github.com/evloop/evloop/poller"
	"github.com/evloop/evloop/ringbuffer"
)

// AsyncCallback reports the outcome of an asynchronous call (AsyncWrite,
// AsyncWritev, Wake, CloseWithCallback). It runs exactly once, on the
// connection's loop goroutine, with err == nil on success, ErrClosed when
// the connection was already gone, or the error that failed the write (a
// *os.SyscallError such as EPIPE or ECONNRESET; the connection is then
// closed with it). It must not block.
type AsyncCallback func(c Conn, err error)

// Conn is one connection of an engine.
//
// Who may call what: the methods in the first group belong to the loop that
// owns the connection and may only be called from inside that loop's event
// handler callbacks (or an AsyncCallback); the second group is safe from any
// goroutine, including pool jobs that outlive the connection, which then get
// ErrClosed.
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

	// AsyncWrite copies buf and has the connection's loop Write it; cb (may
	// be nil) then runs on that loop with the result. When AsyncWrite
	// returns an error (ErrClosed, ErrEngineStopped) nothing was queued and
	// cb will not run. buf may be reused as soon as AsyncWrite returns.
	// Any goroutine.
	AsyncWrite(buf []byte, cb AsyncCallback) error
	// AsyncWritev is AsyncWrite for several buffers, sent in order as one
	// write. Any goroutine.
	AsyncWritev(bufs [][]byte, cb AsyncCallback) error
	// Wake has the loop run OnTraffic for this connection (with whatever is
	// buffered) and then cb. Any goroutine.
	Wake(cb AsyncCallback) error
	// Close closes the connection on its loop, after trying to send pending
	// output; OnClose runs there with a nil error. Any goroutine.
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
	// (a database, an HTTP call). A job that panics is recovered and this
	// connection is closed with a *PanicError (unless WithPanicPropagation).
	// It returns ErrPoolOverload when the pool is full. Any goroutine.
	Submit(job func()) error
	// Execute is Submit with order: the connection's jobs run one at a
	// time, in the order Execute was called, so replies they send with
	// AsyncWrite leave in request order (pipelined requests served off the
	// loop). It returns ErrPoolOverload, without queuing job, when the pool
	// cannot start the connection's runner. Any goroutine.
	Execute(job func()) error

	// LocalAddr returns the listener's address. Any goroutine.
	LocalAddr() net.Addr
	// RemoteAddr returns the peer's address. Any goroutine.
	RemoteAddr() net.Addr
}

// conn is kept small (112 bytes, the size class every idle connection
// pays): an idle connection costs this struct, one slot in its loop's
// table, and no buffer (both rings hold memory only while non-empty). Hence
// the packed peer address (netip.AddrPort pads to 32 bytes) and the rare
// write error kept in the loop's map rather than in a 16-byte field.
type conn struct {
	fd   int32
	gen  uint32
	loop *loop
	ln   *listener

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

	peerPort uint16
	peerKind uint8 // 0: none (unix), 4 or 6
	peerIP   [16]byte
}
type connState uint8

const (
	connOpen    connState = iota
	connClosing           // not reading; closes once pending output is flushed
	connClosed
)

var _ Conn = (*conn)(nil)

func (c *conn) Context() any       { c.loopOnly("Context"); return c.ctx }
func (c *conn) SetContext(ctx any) { c.loopOnly("SetContext"); c.ctx = ctx }

func (c *conn) LocalAddr() net.Addr { return c.ln.addr }

func (c *conn) RemoteAddr() net.Addr {
	if peer := c.peerAddr(); peer.IsValid() {
		return socket.AddrPortToNetAddr(c.ln.network, peer)
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
	if c.closed.Load() {
		t.release()
		return ErrClosed
	}
	t.conn = c
	if err := c.loop.q.Push(t); errors.Is(err, queue.ErrClosed) {
		t.release()
		return ErrEngineStopped
	}
	// Any other error is the wake's: the task is queued and will run.
	return nil
}

func (c *conn) AsyncWrite(buf []byte, cb AsyncCallback) error {
	return c.push(task{kind: taskWrite, bb: copyBuffers(buf, nil), cb: cb})
}

func (c *conn) AsyncWritev(bufs [][]byte, cb AsyncCallback) error {
	return c.push(task{kind: taskWrite, bb: copyBuffers(nil, bufs), cb: cb})
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
