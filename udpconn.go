//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows || evloop_portable

package evloop

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/evloop/evloop/internal/socket"
	"github.com/evloop/evloop/poller"
)

// dgramConn is the Conn OnTraffic gets for one datagram of a udp:// socket:
// Read, Peek, Next and Discard see the datagram, RemoteAddr is its sender,
// Write and Writev queue a reply datagram to that sender (one Write, one
// datagram), sent with the batch's other replies by one sendmmsg. It is a
// view the socket reuses for every datagram: valid inside the callback
// only. To reply later, take DatagramPeerOf(c) inside the callback.
//
// There is no connection behind it: no OnOpen or OnClose, no deadlines or
// idle timeout, nothing to close. Close, CloseWrite, Abort,
// CloseWithCallback, Wake, Execute and the deadline setters return
// ErrNotStream; PauseReading and ResumeReading pause the whole socket.
type dgramConn struct {
	s      *udpSock
	peer   netip.AddrPort
	data   []byte
	ctx    any
	active atomic.Bool // inside a callback for peer
}

func (v *dgramConn) begin(peer netip.AddrPort, data []byte) {
	v.peer, v.data, v.ctx = peer, data, nil
	v.active.Store(true)
}

func (v *dgramConn) end() {
	v.active.Store(false)
	v.data, v.ctx = nil, nil
}

// withPeer runs f with the view standing for peer and no datagram: for an
// AsyncCallback or a timer that concerns a datagram peer. Loop only.
func (s *udpSock) withPeer(peer netip.AddrPort, f func(Conn)) {
	v := &s.view
	saved, data, ctx, was := v.peer, v.data, v.ctx, v.active.Load()
	v.begin(peer, nil)
	defer func() {
		v.peer, v.data, v.ctx = saved, data, ctx
		v.active.Store(was)
	}()
	f(v)
}

func (v *dgramConn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if len(v.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p, v.data)
	v.data = v.data[n:]
	return n, nil
}

func (v *dgramConn) Peek(n int) ([]byte, error) {
	var err error
	if n < 0 || n > len(v.data) {
		if n > len(v.data) {
			err = ErrShortBuffer
		}
		n = len(v.data)
	}
	return v.data[:n:n], err
}

func (v *dgramConn) Next(n int) ([]byte, error) {
	b, err := v.Peek(n)
	v.data = v.data[len(b):]
	return b, err
}

func (v *dgramConn) Discard(n int) (int, error) {
	if n < 0 {
		return 0, fmt.Errorf("%w: Discard(%d)", ErrNegativeSize, n)
	}
	n = min(n, len(v.data))
	v.data = v.data[n:]
	return n, nil
}

func (v *dgramConn) InboundBuffered() int { return len(v.data) }

func (v *dgramConn) Write(p []byte) (int, error) {
	if !v.active.Load() {
		return 0, ErrClosed
	}
	if err := v.s.queue(v.peer, p, nil); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (v *dgramConn) Writev(bufs [][]byte) (int, error) {
	if !v.active.Load() {
		return 0, ErrClosed
	}
	if err := v.s.queue(v.peer, nil, bufs); err != nil {
		return 0, err
	}
	n := 0
	for _, b := range bufs {
		n += len(b)
	}
	return n, nil
}

// Flush sends the socket's queued replies now instead of at the end of the
// batch.
func (v *dgramConn) Flush() error {
	if !v.active.Load() {
		return ErrClosed
	}
	v.s.loop.flushDirty()
	if !v.s.out.empty() && v.s.interest&poller.Writable == 0 {
		v.s.loop.sendDatagrams(v.s)
	}
	return nil
}

// OutboundBuffered is what the socket has queued for all its peers.
func (v *dgramConn) OutboundBuffered() int { return v.s.out.bytes }

func (v *dgramConn) Context() any         { return v.ctx }
func (v *dgramConn) SetContext(ctx any)   { v.ctx = ctx }
func (v *dgramConn) Loop() Loop           { return Loop{v.s.loop} }
func (v *dgramConn) LocalAddr() net.Addr  { return v.s.ln.addr }
func (v *dgramConn) RemoteAddr() net.Addr { return socket.AddrPortToNetAddr(v.s.ln.network, v.peer) }

// ConnectionState reports no TLS: datagrams are never served with it.
func (v *dgramConn) ConnectionState() (tls.ConnectionState, bool) {
	return tls.ConnectionState{}, false
}

func (v *dgramConn) AsyncWrite(buf []byte, cb AsyncCallback) error {
	if !v.active.Load() {
		return ErrClosed
	}
	return DatagramPeer{v.s, v.peer}.AsyncWrite(buf, cb)
}

func (v *dgramConn) AsyncWritev(bufs [][]byte, cb AsyncCallback) error {
	if !v.active.Load() {
		return ErrClosed
	}
	return DatagramPeer{v.s, v.peer}.AsyncWritev(bufs, cb)
}

func (v *dgramConn) PauseReading() error  { return v.s.pushPause(true) }
func (v *dgramConn) ResumeReading() error { return v.s.pushPause(false) }

func (v *dgramConn) Submit(job func()) error { return v.s.loop.eng.submit(nil, job) }

// AfterFunc runs f on the socket's loop after d with a Conn standing for
// the same peer (no datagram to read; writes reply to that peer).
func (v *dgramConn) AfterFunc(d time.Duration, f func(c Conn)) *Timer {
	s, peer := v.s, v.peer
	return Loop{s.loop}.AfterFunc(d, func() { s.withPeer(peer, f) })
}

func (v *dgramConn) Wake(AsyncCallback) error              { return ErrNotStream }
func (v *dgramConn) Close() error                          { return ErrNotStream }
func (v *dgramConn) CloseWrite() error                     { return ErrNotStream }
func (v *dgramConn) Abort() error                          { return ErrNotStream }
func (v *dgramConn) CloseWithCallback(AsyncCallback) error { return ErrNotStream }
func (v *dgramConn) Execute(func()) error                  { return ErrNotStream }
func (v *dgramConn) SetDeadline(time.Time) error           { return ErrNotStream }
func (v *dgramConn) SetReadDeadline(time.Time) error       { return ErrNotStream }
func (v *dgramConn) SetWriteDeadline(time.Time) error      { return ErrNotStream }
func (v *dgramConn) SetIdleTimeout(time.Duration) error    { return ErrNotStream }
