//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows || evloop_portable

package evloop

import (
	"errors"
	"net/netip"
	"os"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/evloop/evloop/internal/queue"
	"github.com/evloop/evloop/internal/socket"
	"github.com/evloop/evloop/poller"
)

// listenerGen tags listener fds in a poller; connections start at 1, so an
// event with generation 0 is never mistaken for a connection's.
const listenerGen = 0

// A loop is one goroutine that owns a poller, the connections it serves
// (indexed by fd), one read buffer and a task queue. An iteration:
//
//	wait for readiness (bounded by the next timer)
//	  -> handle each ready fd: read + OnTraffic, or flush pending output
//	  -> run queued tasks, within a budget
//	  -> run due timers (OnTick on loop 0, listener back-off)
//
// Nothing in it blocks except the wait.
type loop struct {
	idx    int
	eng    *engine
	poller readiness
	q      *queue.Queue[task]

	conns []*conn      // by fd; grown on demand
	count atomic.Int32 // open connections, read by the balancer and Engine
	gen   uint32       // last generation handed out
	buf   []byte       // the read buffer

	// cur and view: the connection inside OnTraffic and the unread part of
	// what was just read for it, a view of buf.
	cur     *conn
	view    []byte
	scratch []byte    // contiguous copies for Peek across a ring's wrap
	iov     [][]byte  // writev arguments
	pair    [2][]byte // a ring's head and tail, as writev arguments
	failed  []*conn   // connections to close once the current callback returns
	// closingFailed and deliveringWritable: afterDispatch is working
	// through failed or due, so a nested call leaves them to it.
	closingFailed      bool
	deliveringWritable bool
	errs               map[*conn]error       // why each failed connection failed
	dials              map[*conn]*dialing    // connects in progress, by their conn
	due                []*conn               // connections owed an OnWritable
	lns                []*listener           // this loop's own listeners (reuseport mode)
	udps               []*udpSock            // this loop's datagram sockets
	dgram              *socket.DatagramBatch // their receive slots and syscall arguments
	dirty              []*udpSock            // datagram sockets with replies queued outside a batch
	shortBatch         bool                  // a recvmmsg drained its socket: yield before the next poll (pace)
	tlsConns           map[*conn]*tlsState   // WithTLS: the state of each TLS connection
	tlsBuf             []byte                // WithTLS: plaintext decrypted from the read buffer

	timers timerHeap // deadlines, timers, back-offs, the tick
	now    int64     // the engine's clock, read once per iteration (tock)
	stale  bool      // now predates the current wait's return
	busy   bool      // the last wait found work: poll before blocking (pace)
	events int       // events the current wait delivered
	// stoppedTimers counts Stops since the last sweep (any goroutine adds).
	stoppedTimers atomic.Int64
	ticker        timerEntry // OnTick, on loop 0 WithTicker(true)

	exiting bool
	goid    atomic.Uint64

	st     loopCounters  // the loop's own counters
	pub    loopPublished // their copy for Engine.Stats
	stalls atomic.Uint64 // counted by the watchdog
	timing bool          // WithCallbackTiming

	// The watchdog's view (WithWatchdog): what the loop runs now.
	wd      bool
	actSeq  uint64
	act     atomic.Uint64
	actConn atomic.Pointer[conn]
}

func newLoop(idx int, e *engine) (*loop, error) {
	p, err := openPoller()
	if err != nil {
		return nil, err
	}
	l := &loop{
		idx:    idx,
		eng:    e,
		poller: p,
		buf:    make([]byte, e.opts.readBufferSize),
		iov:    make([][]byte, 0, socket.MaxIovecs),
		errs:   make(map[*conn]error),
		timing: e.opts.callbackTiming,
		wd:     e.opts.watchdog > 0,
		dials:  make(map[*conn]*dialing),
	}
	l.q = queue.New[task](p, 0, 0)
	l.ticker.idx, l.ticker.kind = -1, timerTick
	return l, nil
}

// run is the loop goroutine. It returns nil after a shutdown task, or the
// poller error that made the loop unable to go on.
func (l *loop) run() (err error) {
	if l.eng.opts.lockOSThread {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
	}
	l.goid.Store(goid())
	defer l.exit()
	l.now = l.eng.clock()
	if l.idx == 0 && l.eng.opts.ticker {
		l.timers.set(&l.ticker, l.now) // the first tick right after boot
	}
	for !l.exiting {
		l.stale = true // the clock is read once the wait returns
		timeout := l.timeout()
		if l.busy {
			timeout = 0
		}
		l.events = 0
		if l.wd {
			l.act.Store(l.actSeq<<8 | uint64(actWaiting))
		}
		woken, err := l.poller.Wait(timeout, l)
		if err != nil {
			l.eng.log.Error("evloop: event loop failed", "loop", l.idx, "err", err)
			return err
		}
		l.pace(woken)
		l.tock()
		if woken {
			l.st.wakes++
			l.q.Drain(l)
		}
		l.runTimers()
		if len(l.dirty) > 0 {
			l.flushDirty()
		}
		l.endIteration(!l.busy)
	}
	return nil
}

// pace decides how the next wait starts. A loop that just found work polls
// (timeout 0) instead of blocking: under load the next events are usually
// there already, and a wait that blocks costs the runtime a hand-off of the
// loop's P (entersyscall, sysmon retaking it, a wake-up on another thread)
// that a poll that returns at once does not. The first poll that finds
// nothing yields once, so other goroutines of the P run, and the wait after
// it blocks as usual: an idle loop still sleeps in epoll_wait, at no CPU.
//
// A loop that read a datagram socket dry (recvmmsg returned less than a
// full batch) yields once before it polls again: a poll at once would find
// one or two datagrams, worth a recvmmsg and a sendmmsg each time, where
// after the other goroutines of the process have run (clients, pool jobs
// replying) it finds a batch. Measured with BenchmarkUDPEcho (one loop):
// about 10 datagrams per recvmmsg instead of 5, 0.2 syscalls per datagram
// instead of 0.35, for the same throughput.
func (l *loop) pace(woken bool) {
	switch {
	case l.events > 0 || woken:
		l.busy = true
		if l.shortBatch {
			l.shortBatch = false
			runtime.Gosched()
		}
	case l.busy:
		l.busy = false
		runtime.Gosched()
	}
}

// exit closes whatever is still open (only after a poller failure) and
// fails every task that can no longer run. Later pushes are refused, so
// each accepted task is seen here exactly once.
func (l *loop) exit() {
	l.closeListeners()
	l.closeAll()
	l.closeDatagrams()
	l.q.Close()
	l.q.Pending(l.drop)
	l.afterDispatch()
	l.killTimers()
}

// OnEvent handles one ready fd.
func (l *loop) OnEvent(ev poller.Event) {
	l.events++
	l.tock()
	if ev.Gen == listenerGen {
		if ln := findListener(l.lns, ev.FD); ln != nil {
			ln.acceptReady(l.poller, l.eng, l)
			l.pauseListener(ln) // if accepting must back off
		} else if s := findDatagram(l.udps, ev.FD); s != nil {
			l.datagramEvent(s, ev)
		}
		return
	}
	c := l.lookup(ev.FD)
	if c == nil || c.gen != ev.Gen {
		return // stale: the connection this event was for is gone
	}
	if c.state == connDialing {
		l.dialReady(c)
		l.afterDispatch()
		return
	}
	const trouble = poller.EventError | poller.EventHangup
	if c.interest&poller.Writable != 0 && ev.Events&(poller.EventWrite|trouble) != 0 {
		_ = c.flush() // a failure is recorded by c.fail and closes c below
		if c.state == connClosing && c.outbound.IsEmpty() {
			// Drained, or emptied by a reset: failure tells which.
			l.closeNow(c, c.failure())
		}
	}
	switch {
	case c.state == connClosed || c.flags&flagFailed != 0:
	case c.interest&poller.Readable != 0 && ev.Events&(poller.EventRead|poller.EventReadHangup|trouble) != 0:
		l.read(c)
	case ev.Events&trouble != 0 && c.interest&poller.Writable == 0:
		if ev.Events&poller.EventError == 0 && c.state == connOpen && c.pause != 0 && socket.Unread(int(c.fd)) > 0 {
			// Shut down both ways (our FIN, then the peer's) while reading
			// is paused, with bytes still to read: closing would lose
			// them, and watching would spin on the level-triggered
			// hang-up. Stop watching until reading resumes (syncInterest).
			if err := l.poller.Del(int(c.fd)); err == nil {
				c.flags |= flagDetached
				break
			}
		}
		// Not reading, nothing to flush, and the socket is dead: close it
		// now, or its level-triggered hang-up would wake us forever.
		l.closeNow(c, socketError(int(c.fd)))
	}
	l.afterDispatch()
}

// read makes one read per readiness event: a level-triggered poller reports
// the fd again if more is waiting, which keeps busy connections from
// starving the others.
func (l *loop) read(c *conn) {
	n, err := socket.Read(int(c.fd), l.buf)
	l.st.reads++
	switch {
	case err == socket.EINTR || err == socket.EAGAIN:
		return
	case err != nil:
		l.closeConn(c, os.NewSyscallError("read", err))
		return
	case n == 0 && c.flags&flagTLS != 0:
		l.tlsEOF(c, l.tlsConns[c])
		return
	case n == 0:
		if l.eng.opts.halfClose {
			// Everything the peer sent has been shown to OnTraffic; it
			// may still read what the handler writes.
			c.setPaused(pauseEOF, true)
			l.settle(c, l.readClosed(c))
			return
		}
		l.closeConn(c, nil)
		return
	}
	c.active()
	l.st.bytesIn += uint64(n)
	if c.flags&flagTLS != 0 {
		l.tlsRead(c, l.tlsConns[c], l.buf[:n], false)
		return
	}
	if c.inbound.IsEmpty() {
		l.cur, l.view = c, l.buf[:n]
	} else if _, err := c.inbound.Write(l.buf[:n]); err != nil {
		l.closeConn(c, err)
		return
	}
	l.settle(c, l.traffic(c))
}

// endTraffic keeps what the handler left unread: the view dies with the
// next read into buf, so its rest is copied into the connection's ring. A
// ring left empty gives its memory back; one at the inbound limit pauses
// reading, unless the handler consumed none of the before bytes it was
// shown: then no read can help (a message larger than the limit), and the
// connection fails with ErrInboundFull instead of stalling unseen.
func (l *loop) endTraffic(c *conn, before int) {
	if l.cur == c {
		if len(l.view) > 0 {
			if _, err := c.inbound.Write(l.view); err != nil {
				c.fail(err)
			}
		}
		l.cur, l.view = nil, nil
	}
	if cap(l.scratch) > maxScratch {
		l.scratch = nil // the slices Peek returned die with the callback
	}
	if c.state == connClosed {
		return
	}
	if left := c.inbound.Buffered(); left >= l.eng.opts.inLimit && left == before &&
		c.state == connOpen && c.flags&flagFailed == 0 {
		l.eng.inboundFull.Add(1)
		c.fail(ErrInboundFull)
	}
	c.inboundChanged()
}

// settle applies a handler's Action, then closes connections whose writes
// failed during the callback.
func (l *loop) settle(c *conn, a Action) {
	switch a {
	case Close:
		l.closeConn(c, c.failure()) // nil unless a write failed or the handler panicked
	case Shutdown:
		l.eng.requestStop(nil, nil)
	}
	l.afterDispatch()
}

// afterDispatch runs what an event or task left due: OnWritable for
// connections that drained, and the close of connections that failed.
func (l *loop) afterDispatch() {
	if len(l.due) > 0 {
		l.deliverWritable()
	}
	// OnClose may fail more connections: they are appended, and the loop
	// reads the length each time. A nested call (a handler run from here
	// that leads back to afterDispatch) leaves the list to this one. The
	// slice keeps its capacity for the next failure.
	if l.closingFailed {
		return
	}
	l.closingFailed = true
	for i := 0; i < len(l.failed); i++ {
		c := l.failed[i]
		l.failed[i] = nil
		l.closeNow(c, c.failure())
	}
	l.failed = l.failed[:0]
	l.closingFailed = false
}

// register starts serving an accepted fd, already counted in l.count by
// whoever handed it over.
func (l *loop) register(fd int, peer netip.AddrPort, ln *listener) {
	if l.exiting {
		l.count.Add(-1)
		_ = socket.Close(fd)
		return
	}
	c := l.newConn(fd, &ln.origin, poller.Readable)
	c.setPeer(peer)
	if err := l.poller.Add(fd, c.gen, poller.Readable); err != nil {
		l.eng.log.Warn("evloop: cannot watch accepted connection", "err", err)
		l.count.Add(-1)
		_ = socket.Close(fd)
		return
	}
	l.store(c)
	if l.eng.opts.tls != nil {
		l.tlsAccept(c) // OnOpen once the handshake succeeds
		return
	}
	l.start(c)
}

// newConn makes the conn of fd, with the loop's next generation.
func (l *loop) newConn(fd int, org *origin, in poller.Interest) *conn {
	l.gen++
	if l.gen == listenerGen {
		l.gen++
	}
	return &conn{fd: int32(fd), gen: l.gen, loop: l, org: org, interest: in}
}

// store puts c in the table, under its fd.
func (l *loop) store(c *conn) {
	for int(c.fd) >= len(l.conns) {
		l.conns = append(l.conns, make([]*conn, max(64, len(l.conns)))...)
	}
	l.conns[c.fd] = c
}

// start serves a connection the poller watches for reading and the table
// holds: the idle timeout, then OnOpen. Being watched first lets output
// from OnOpen larger than the socket buffer arm EPOLLOUT. Accepted, dialed
// and enrolled connections all open here.
func (l *loop) start(c *conn) {
	l.st.opened++
	if d := l.eng.opts.idleTimeout; d > 0 {
		ct := c.timeState()
		ct.idle.Store(int64(d))
		l.settleTime(c)
	}
	out, action := l.open(c)
	if len(out) > 0 && c.state == connOpen {
		_, _ = c.Write(out) // a failure is recorded by c.fail and closes c
	}
	l.settle(c, action)
}

func (l *loop) lookup(fd int) *conn {
	if fd < 0 || fd >= len(l.conns) {
		return nil
	}
	return l.conns[fd]
}

// closeConn closes c. With nothing pending, or on an error, it closes at
// once; otherwise c stops reading and closes as soon as its pending output
// is flushed (a write error closes it too). Other goroutines see it closed
// from now on.
func (l *loop) closeConn(c *conn, err error) {
	if c.state != connOpen {
		if err != nil && c.state == connClosing {
			l.closeNow(c, err)
		}
		return
	}
	if err == nil && c.flags&flagTLS != 0 && c.flags&flagFailed == 0 {
		l.tlsCloseNotify(c)
	}
	if err == nil && c.flags&flagFailed == 0 && !c.outbound.IsEmpty() {
		_ = c.flush()
		if !c.outbound.IsEmpty() && c.flags&flagFailed == 0 {
			c.state = connClosing
			c.closed.Store(true)
			c.syncInterest() // stop reading, keep flushing
			if c.flags&flagFailed == 0 {
				c.timeState().linger = l.eng.clock() + int64(l.eng.opts.linger)
				l.settleTime(c)
				return
			}
		}
	}
	if err == nil {
		err = c.failure()
	}
	l.closeNow(c, err)
}

// closeNow closes c once: OnClose, then its buffers, its poller
// registration and its fd, in that order, so the fd number is reused only
// after everything that referred to it is gone.
func (l *loop) closeNow(c *conn, err error) {
	if c.state == connClosed {
		return
	}
	c.state = connClosed
	c.closed.Store(true)
	if c.flags&flagFailed != 0 {
		delete(l.errs, c) // OnClose gets err, which the caller took from it
	}
	l.conns[c.fd] = nil
	l.count.Add(-1)
	if c.interest&poller.Readable == 0 {
		l.st.notReading--
	}
	c.interest = 0
	l.st.pendingOut -= int64(c.outPending.Load())
	c.outPending.Store(0)
	if l.cur == c {
		l.cur, l.view = nil, nil
	}
	if err != nil && !c.outbound.IsEmpty() || errors.Is(err, ErrOutboundFull) {
		// Output was dropped: reset, so the peer cannot mistake the cut
		// stream for a complete one followed by an orderly EOF.
		_ = socket.SetLinger(int(c.fd), 0)
	}
	l.cancelTimers(c)
	var action Action
	var failedDial *tlsState // a DialTLS's, reported once the fd is closed
	if c.flags&flagTLS == 0 || l.tlsOpened(c, err) {
		action = l.onClose(c, err)
	} else if ts := l.tlsConns[c]; ts != nil && ts.dial != nil {
		failedDial = ts
	}
	if c.flags&flagTLS != 0 {
		l.tlsRelease(c)
	}
	c.inbound.Release()
	c.outbound.Release()
	_ = l.poller.Del(int(c.fd))
	_ = socket.Close(int(c.fd))
	if failedDial != nil {
		l.tlsDialFailed(failedDial, err)
	}
	if action == Shutdown {
		l.eng.requestStop(nil, nil)
	}
}

// closeAll closes every connection now, flushed or not: the stop's drain
// phase has already given pending output its chance. Dials in progress
// fail with ErrEngineStopped, DialTLS's in their handshake too. A connection that
// still has output to send, pending or queued by async writes (lingering
// ones included), is reset and gets ErrStopTimeout: the peer must not take
// a cut stream for a complete one.
func (l *loop) closeAll() {
	for _, c := range l.conns {
		if c == nil {
			continue
		}
		if c.state == connDialing {
			d := l.dials[c]
			l.dropAttempt(d)
			l.dialFailed(d, ErrEngineStopped)
			continue
		}
		if ts := l.tlsConns[c]; ts != nil && ts.dial != nil {
			ts.dial.err = ErrEngineStopped // in its handshake
		}
		err := c.failure()
		if err == nil && (!c.outbound.IsEmpty() || c.asyncQueued.Load() != 0) {
			err = ErrStopTimeout
		}
		l.closeNow(c, err)
	}
}

func (l *loop) closeListeners() {
	for _, ln := range l.lns {
		l.timers.remove(&ln.timer)
		_ = l.poller.Del(ln.fd)
		ln.close()
	}
	l.lns = nil
}

// flushing reports whether any connection still has output to send. Only
// Stop's drain asks, every few milliseconds, so it scans the table rather
// than have every interest change keep a count.
func (l *loop) flushing() bool {
	for _, c := range l.conns {
		if c != nil && !c.outbound.IsEmpty() {
			return true
		}
	}
	return false
}

// handoff serves a connection accepted by one of this loop's listeners.
func (l *loop) handoff(fd int, peer netip.AddrPort, ln *listener) {
	l.count.Add(1)
	l.register(fd, peer, ln)
}

// waitTimeout converts a deadline into a poller timeout in milliseconds,
// rounded up so a wait never returns just before its deadline.
func waitTimeout(deadline time.Time) int {
	if deadline.IsZero() {
		return -1
	}
	d := time.Until(deadline)
	if d <= 0 {
		return 0
	}
	return int((d + time.Millisecond - 1) / time.Millisecond)
}

// maxScratch is the largest scratch buffer a loop keeps between callbacks;
// a larger one, grown for one big Peek across a ring's wrap, goes back to
// the GC when the callback returns.
const maxScratch = 64 << 10

// scratchFor returns loop-owned memory for n contiguous bytes, valid until
// the callback returns.
func (l *loop) scratchFor(n int) []byte {
	if cap(l.scratch) < n {
		l.scratch = make([]byte, n)
	}
	return l.scratch[:n]
}

// iovFrom fills the loop's iovec list from bufs, starting at byte offset off
// and skipping empty buffers, up to socket.MaxIovecs entries; it returns the
// list and the bytes it holds.
func (l *loop) iovFrom(bufs [][]byte, off int) ([][]byte, int) {
	iov, offered := l.iov[:0], 0
	for _, b := range bufs {
		if off >= len(b) {
			off -= len(b)
			continue
		}
		b = b[off:]
		off = 0
		iov = append(iov, b)
		offered += len(b)
		if len(iov) == socket.MaxIovecs {
			break
		}
	}
	l.iov = iov
	return iov, offered
}
