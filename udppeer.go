//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows || evloop_portable

package evloop

import (
	"errors"
	"net/netip"

	"github.com/evloop/evloop/internal/queue"
	"github.com/evloop/evloop/poller"
)

// DatagramPeer names one peer of one of the engine's udp:// sockets. It is
// a small value that stays valid after the callback, to reply later: from a
// pool job, a timer or another connection's callback. The zero DatagramPeer
// names no peer; its AsyncWrite returns ErrClosed.
type DatagramPeer struct {
	s    *udpSock
	addr netip.AddrPort
}

// DatagramPeerOf returns the sender of the datagram c stands for. ok is
// false when c is a stream connection. Call it inside the callback: the
// datagram Conn is reused for the next datagram once it returns.
func DatagramPeerOf(c Conn) (p DatagramPeer, ok bool) {
	v, ok := c.(*dgramConn)
	if !ok {
		return DatagramPeer{}, false
	}
	return DatagramPeer{v.s, v.peer}, true
}

// Addr returns the peer's address. Any goroutine.
func (p DatagramPeer) Addr() netip.AddrPort { return p.addr }

// Loop returns the loop whose socket received the peer's datagrams: the
// loop that sends the replies. Any goroutine.
func (p DatagramPeer) Loop() Loop {
	if p.s == nil {
		return Loop{}
	}
	return Loop{p.s.loop}
}

// AsyncWrite copies buf and has the socket's loop send it to the peer as
// one datagram, with that loop's other replies. cb (may be nil) then runs
// on the loop with a Conn standing for the peer (writes on it reply to the
// peer) and the result: nil once queued for sending, ErrOutboundFull when
// the socket's queue is at WithOutboundLimit, an error matching
// EMSGSIZE for a datagram larger than 65,527 bytes, or ErrClosed when
// the engine stopped first. When AsyncWrite returns an error nothing was
// queued and cb will not run: ErrClosed for the zero DatagramPeer,
// ErrEngineStopped, or ErrOutboundFull when the copies already queued by
// async writes to the socket would pass WithOutboundLimit. buf may be
// reused as soon as AsyncWrite returns. Any goroutine.
func (p DatagramPeer) AsyncWrite(buf []byte, cb AsyncCallback) error {
	return p.asyncWrite(buf, nil, len(buf), cb)
}

// AsyncWritev is AsyncWrite for several buffers sent as one datagram. Any
// goroutine.
func (p DatagramPeer) AsyncWritev(bufs [][]byte, cb AsyncCallback) error {
	n := 0
	for _, b := range bufs {
		n += len(b)
	}
	return p.asyncWrite(nil, bufs, n, cb)
}

func (p DatagramPeer) asyncWrite(buf []byte, bufs [][]byte, n int, cb AsyncCallback) error {
	s := p.s
	if s == nil {
		return ErrClosed
	}
	limit := int64(s.loop.eng.opts.outLimit)
	if int64(n) > limit || s.asyncQueued.Add(int64(n)) > limit {
		if int64(n) <= limit {
			s.asyncQueued.Add(-int64(n))
		}
		return ErrOutboundFull
	}
	t := task{kind: taskSendTo, dg: s, peer: p.addr, bb: copyBuffers(buf, bufs), cb: cb}
	if err := s.loop.q.Push(t); errors.Is(err, queue.ErrClosed) {
		t.release()
		return ErrEngineStopped
	}
	return nil
}

// sendTo runs a DatagramPeer.AsyncWrite on the socket's loop.
func (l *loop) sendTo(t *task) {
	s := t.dg
	err := ErrClosed
	if !s.closed {
		err = s.queue(t.peer, t.bb.B, nil)
	}
	t.release()
	if t.cb != nil {
		s.withPeer(t.peer, func(c Conn) { l.datagramCallback(c, t.cb, err) })
	}
}

// pushPause pauses or resumes reading the socket, on its loop.
func (s *udpSock) pushPause(on bool) error {
	kind := taskResume
	if on {
		kind = taskPause
	}
	if err := s.loop.q.Push(task{kind: kind, dg: s}); errors.Is(err, queue.ErrClosed) {
		return ErrEngineStopped
	}
	return nil
}

// pause applies PauseReading or ResumeReading of the datagram Conn.
func (s *udpSock) pause(on bool) {
	if s.closed {
		return
	}
	s.paused = on
	s.setWriting(s.interest&poller.Writable != 0)
}
