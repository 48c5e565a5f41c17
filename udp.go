//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows || evloop_portable

package evloop

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"sync/atomic"

	"github.com/evloop/evloop/internal/socket"
	"github.com/evloop/evloop/poller"
)

// Datagrams. A udp:// address gets one SO_REUSEPORT socket per loop, all
// bound to the same port: the kernel picks the socket for each datagram by
// a hash of the peer's address, so one peer's datagrams always reach the
// same loop (in order), many peers spread over every loop, and no loop
// hands datagrams to another. (One socket on one loop would leave the
// other loops idle for UDP, or need a hand-off per datagram.)
//
// A socket is a listener and a connection at once. Readable, it gets one
// recvmmsg(2) of up to WithDatagramBatch datagrams into slots of its
// loop's datagram buffer, and OnTraffic runs once per datagram through the
// socket's reused datagram Conn (udpconn.go). Replies queue in the socket
// and leave with one sendmmsg(2) at the end of the batch; what the kernel
// refuses with EAGAIN waits for EPOLLOUT, up to WithOutboundLimit bytes,
// beyond which replies are dropped and counted.

// DefaultDatagramSlot is the default WithDatagramSlot: any datagram that
// fits UDP without jumbograms.
const DefaultDatagramSlot = 64 << 10

// DefaultDatagramBatch is the default WithDatagramBatch.
const DefaultDatagramBatch = 32

// udpSock is one bound datagram socket, owned by one loop.
type udpSock struct {
	ln     *listener // the socket; its address and network
	fd     int
	family socket.Family // IPv4 or IPv6: how destinations are written
	loop   *loop

	view     dgramConn // the Conn OnTraffic sees, one datagram at a time
	out      dgramQueue
	interest poller.Interest
	paused   bool // PauseReading on the datagram Conn
	stopping bool // the engine stopped reading
	dirty    bool // in loop.dirty: replies queued outside a batch
	closed   bool // the engine closed it

	// asyncQueued counts the bytes DatagramPeer.AsyncWrite copied into
	// tasks that have not run: bounded by WithOutboundLimit. Any goroutine.
	asyncQueued atomic.Int64

	received, sent, truncated, dropped atomic.Uint64
}

// dgramQueue holds replies not yet taken by the kernel: their bytes in one
// arena, in order.
type dgramQueue struct {
	buf   []byte
	items []dgramItem
	head  int // the first item not sent
	bytes int // bytes of the items not sent
}

type dgramItem struct {
	peer   netip.AddrPort
	off, n int
}

// The errors a reply can be refused with before it is queued. They match
// the errno with errors.Is, as the kernel would have refused it.
var (
	errMessageTooLong = os.NewSyscallError(socket.SendSyscall, socket.EMSGSIZE)
	errAddrFamily     = os.NewSyscallError(socket.SendSyscall, socket.EAFNOSUPPORT)
)

// maxRetainedQueue is the arena size a drained queue keeps; a larger one
// goes back to the GC.
const maxRetainedQueue = 1 << 20

// listenDatagrams gives every loop its own SO_REUSEPORT socket on address.
// Where sockets cannot share an address (the portable backend on
// Windows), one socket on the first loop serves it.
func (e *engine) listenDatagrams(network, address string) error {
	if socket.PortSharing() != nil {
		ln, err := e.listen(network, address, false)
		if err != nil {
			return err
		}
		e.addrs = append(e.addrs, ln.addr)
		return e.adoptDatagram(e.loops[0], ln)
	}
	return e.bindPerLoop(network, address, e.adoptDatagram)
}

// adoptDatagram makes the bound datagram socket ln one of l's.
func (e *engine) adoptDatagram(l *loop, ln *listener) error {
	network := ln.network
	if err := e.bufferSizes(ln.fd); err != nil {
		return listenError(network, &net.OpError{Op: "listen", Net: network, Addr: ln.addr, Err: err})
	}
	family, err := socket.FamilyOf(ln.fd)
	if err != nil {
		return listenError(network, &net.OpError{Op: "listen", Net: network, Addr: ln.addr, Err: err})
	}
	s := &udpSock{ln: ln, fd: ln.fd, family: family, loop: l, interest: poller.Readable}
	s.view.s = s
	if err := l.poller.Add(ln.fd, listenerGen, poller.Readable); err != nil {
		return err
	}
	if l.dgram == nil {
		l.dgram = socket.NewDatagramBatch(e.opts.dgramSlot, e.opts.dgramBatch)
	}
	l.udps = append(l.udps, s)
	e.udps = append(e.udps, s)
	return nil
}

// isDatagram reports whether network is one the engine serves with
// datagram sockets.
func isDatagram(network string) bool {
	return network == "udp" || network == "udp4" || network == "udp6"
}

// bufferSizes applies WithSocketRecvBuffer and WithSocketSendBuffer to a
// datagram socket: under a burst, the receive buffer is what holds the
// datagrams the loop has not read yet (the kernel caps it at
// net.core.rmem_max).
func (e *engine) bufferSizes(fd int) error {
	var err error
	if n := e.opts.recvBuffer; n > 0 {
		err = errors.Join(err, socket.SetRecvBuffer(fd, n))
	}
	if n := e.opts.sendBuffer; n > 0 {
		err = errors.Join(err, socket.SetSendBuffer(fd, n))
	}
	return err
}

func findDatagram(ss []*udpSock, fd int) *udpSock {
	for _, s := range ss {
		if s.fd == fd {
			return s
		}
	}
	return nil
}

// datagramEvent handles readiness of a datagram socket: queued replies
// first, then one batch of datagrams.
func (l *loop) datagramEvent(s *udpSock, ev poller.Event) {
	if s.interest&poller.Writable != 0 && ev.Events&(poller.EventWrite|poller.EventError) != 0 {
		l.sendDatagrams(s)
	}
	if s.interest&poller.Readable != 0 && ev.Events&(poller.EventRead|poller.EventError|poller.EventHangup) != 0 {
		l.readDatagrams(s)
	}
}

// readDatagrams makes one recvmmsg and runs OnTraffic for every datagram it
// returns, then sends the replies they queued with one sendmmsg.
func (l *loop) readDatagrams(s *udpSock) {
	b := l.dgram
	n, err := b.Recv(s.fd)
	if err != nil {
		// EAGAIN and EINTR: nothing now. Anything else is a pending
		// error on an unconnected socket, which recvmmsg has now
		// cleared; level-triggered readiness brings what follows.
		return
	}
	if n < b.Size() {
		l.shortBatch = true // drained: let the batch fill (pace)
	}
	delivered := 0
	for i := 0; i < n && !l.exiting; i++ {
		data, peer, truncated := b.Received(i)
		if truncated {
			s.truncated.Add(1) // never deliver a cut datagram
			continue
		}
		delivered++
		if l.datagram(s, peer, data) == Shutdown {
			l.eng.requestStop(nil, nil)
		}
	}
	s.received.Add(uint64(delivered))
	if !s.out.empty() {
		l.sendDatagrams(s)
	}
}

// queue appends one reply to s's queue, or drops and counts it when the
// queue is at WithOutboundLimit or the peer cannot be reached from s.
// bufs follow p as parts of the same datagram.
func (s *udpSock) queue(peer netip.AddrPort, p []byte, bufs [][]byte) error {
	n := len(p)
	for _, b := range bufs {
		n += len(b)
	}
	switch {
	case n > socket.MaxDatagram:
		s.dropped.Add(1)
		return &net.OpError{Op: "write", Net: s.ln.network, Source: s.ln.addr,
			Addr: socket.AddrPortToNetAddr(s.ln.network, peer), Err: errMessageTooLong}
	case !peer.IsValid() || s.family == socket.FamilyIPv4 && !peer.Addr().Unmap().Is4():
		s.dropped.Add(1)
		return &net.OpError{Op: "write", Net: s.ln.network, Source: s.ln.addr,
			Addr: socket.AddrPortToNetAddr(s.ln.network, peer), Err: errAddrFamily}
	case s.out.bytes+n > s.loop.eng.opts.outLimit:
		s.dropped.Add(1)
		return ErrOutboundFull
	}
	q := &s.out
	off := len(q.buf)
	q.buf = append(q.buf, p...)
	for _, b := range bufs {
		q.buf = append(q.buf, b...)
	}
	q.items = append(q.items, dgramItem{peer: peer, off: off, n: n})
	q.bytes += n
	if !s.dirty {
		s.dirty = true
		s.loop.dirty = append(s.loop.dirty, s)
	}
	return nil
}

func (q *dgramQueue) empty() bool { return q.head == len(q.items) }

// sendDatagrams hands queued replies to the kernel, a batch per sendmmsg,
// until none is left or the socket is full (then EPOLLOUT brings it back).
// A datagram the kernel refuses outright (the first of a batch failing) is
// dropped and counted.
func (l *loop) sendDatagrams(s *udpSock) {
	b, q := l.dgram, &s.out
	for !q.empty() {
		k := min(len(q.items)-q.head, b.Size())
		for j := 0; j < k; j++ {
			it := q.items[q.head+j]
			b.SetOutgoing(j, s.family, it.peer, q.buf[it.off:it.off+it.n])
		}
		n, err := b.Send(s.fd, k)
		switch {
		case err == socket.EINTR:
			continue
		case err == socket.EAGAIN:
			s.setWriting(true) // EPOLLOUT once the socket has room
			return
		case err != nil:
			n = 1
			s.dropped.Add(1)
		default:
			s.sent.Add(uint64(n))
		}
		for j := 0; j < n; j++ {
			q.bytes -= q.items[q.head].n
			q.head++
		}
	}
	b.ClearOutgoing() // do not keep the arena reachable from the batch
	q.reset()
	s.setWriting(false)
}

func (q *dgramQueue) reset() {
	q.items, q.head, q.bytes = q.items[:0], 0, 0
	if cap(q.buf) > maxRetainedQueue {
		q.buf = nil
	} else {
		q.buf = q.buf[:0]
	}
}

// setWriting watches s for writability while replies wait, and keeps the
// poller's interest in line with the pause and stop state.
func (s *udpSock) setWriting(on bool) {
	want := poller.Interest(0)
	if !s.paused && !s.stopping {
		want |= poller.Readable
	}
	if on {
		want |= poller.Writable
	}
	if want == s.interest {
		return
	}
	if err := s.loop.poller.Mod(s.fd, listenerGen, want); err != nil {
		s.loop.eng.log.Warn("evloop: cannot watch datagram socket", "addr", s.ln.addr, "err", err)
		return
	}
	s.interest = want
}

// flushDirty sends what was queued outside a batch: by tasks, timers and
// callbacks of other connections.
func (l *loop) flushDirty() {
	for i, s := range l.dirty {
		l.dirty[i] = nil
		s.dirty = false
		if !s.out.empty() && s.interest&poller.Writable == 0 {
			l.sendDatagrams(s)
		}
	}
	l.dirty = l.dirty[:0]
}

// stopDatagrams stops reading every datagram socket of the loop; queued
// replies still go out during the stop's drain.
func (l *loop) stopDatagrams() {
	for _, s := range l.udps {
		s.stopping = true
		s.setWriting(!s.out.empty())
	}
}

// closeDatagrams closes the loop's datagram sockets, dropping (and
// counting) the replies still queued.
func (l *loop) closeDatagrams() {
	for _, s := range l.udps {
		s.dropped.Add(uint64(len(s.out.items) - s.out.head))
		s.out = dgramQueue{}
		s.closed = true
		_ = l.poller.Del(s.fd)
		s.ln.close()
	}
	l.udps = nil
}

// datagramsPending reports whether a datagram socket of the loop still has
// replies queued (Stop's drain waits for them).
func (l *loop) datagramsPending() bool {
	for _, s := range l.udps {
		if !s.out.empty() {
			return true
		}
	}
	return false
}
