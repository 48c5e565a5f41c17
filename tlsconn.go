//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows || evloop_portable

package evloop

import (
	"io"
	"net"
	"sync"
	"time"
)

// tlsTransport is the net.Conn a tls.Conn reads ciphertext from and writes
// records to. It has two phases.
//
// During the handshake the handshake goroutine calls it: Read blocks until
// the loop delivers bytes (deliver) or the connection closes (shut), and
// Write appends to out and asks the loop, once per batch, to write it
// (taskTLSFlush); mu guards in, out, closed and queued.
//
// Once the loop has taken the connection back (handshake false, set on the
// loop), only the loop calls it, without the lock: in is a view of the
// bytes just read into the loop's read buffer, and Read returns
// errWouldBlock when it is used up, an error crypto/tls does not record
// (see tls_evidence_test.go), so the next read goes on where this one
// stopped. Write goes straight to the connection's output.
//
// Read hands crypto/tls at most one record per call, up to its end (parse
// keeps track of the record headers in the stream), so that tls.Conn
// holds no complete record it has not consumed: once its Read has
// returned data and the transport is empty, nothing is left to decrypt,
// and the loop need not call Read once more only to hear "would block"
// (which costs crypto/tls an allocation).
//
// Write never fails and never writes short: crypto/tls takes either as the
// end of the connection, and a record cut short corrupts the stream. A
// connection whose output cannot take the bytes (a write error, the
// outbound limit) is failed and closed by the loop, as a plain one is.
type tlsTransport struct {
	c   *conn
	gen uint32

	handshake bool // written by the loop only

	// Where the stream is: the current record's header as far as seen,
	// and how many bytes of its body are still to come.
	hdr     [recordHeaderLen]byte
	hdrN    int
	recLeft int

	mu     sync.Mutex
	in     []byte
	out    []byte
	spare  []byte // loop only: the last out, for the next batch
	queued bool   // a taskTLSFlush is on its way
	closed bool
	eof    bool          // the peer's FIN came after in
	ready  chan struct{} // one token: in grew, eof or closed
}

// errWouldBlock is what the transport's Read returns when the loop has no
// more ciphertext for now. It is a net.Error whose Temporary method reports
// true, which crypto/tls returns without recording; boxed once, so the
// common path does not allocate.
var errWouldBlock net.Error = wouldBlockError{}

type wouldBlockError struct{}

func (wouldBlockError) Error() string   { return "evloop: no more TLS input for now" }
func (wouldBlockError) Timeout() bool   { return true }
func (wouldBlockError) Temporary() bool { return true }

func (t *tlsTransport) init(c *conn) {
	t.c, t.gen, t.handshake = c, c.gen, true
	t.ready = make(chan struct{}, 1)
}

func (t *tlsTransport) Read(p []byte) (int, error) {
	if !t.handshake {
		if len(t.in) == 0 {
			return 0, errWouldBlock
		}
		return t.take(p), nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for len(t.in) == 0 && !t.closed && !t.eof {
		t.mu.Unlock()
		<-t.ready
		t.mu.Lock()
	}
	switch {
	case t.closed:
		return 0, net.ErrClosed
	case len(t.in) == 0:
		return 0, io.EOF
	}
	return t.take(p), nil
}

// recordHeaderLen is the size of a TLS record's header: type, version and
// the length of the body, which follows.
const recordHeaderLen = 5

// take moves bytes from in to p, stopping at the end of a record.
func (t *tlsTransport) take(p []byte) int {
	out := 0
	for out < len(p) && len(t.in) > 0 {
		var k int
		if t.hdrN < recordHeaderLen {
			k = min(recordHeaderLen-t.hdrN, len(t.in), len(p)-out)
			copy(t.hdr[t.hdrN:], t.in[:k])
			t.hdrN += k
			if t.hdrN == recordHeaderLen {
				t.recLeft = int(t.hdr[3])<<8 | int(t.hdr[4])
			}
		} else {
			k = min(t.recLeft, len(t.in), len(p)-out)
			t.recLeft -= k
		}
		copy(p[out:], t.in[:k])
		out += k
		t.in = t.in[k:]
		if t.hdrN == recordHeaderLen && t.recLeft == 0 {
			t.hdrN = 0
			break
		}
	}
	return out
}

func (t *tlsTransport) Write(p []byte) (int, error) {
	if !t.handshake {
		c := t.c
		if c.state != connClosed && c.flags&flagFailed == 0 {
			_, _ = c.writeRaw(p) // a failure is recorded by c.fail and closes c
		}
		return len(p), nil
	}
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return len(p), nil // the handshake ends at its next Read
	}
	t.out = append(t.out, p...)
	push := !t.queued
	t.queued = true
	t.mu.Unlock()
	if push {
		_ = t.c.push(task{kind: taskTLSFlush, seq: uint64(t.gen)})
	}
	return len(p), nil
}

// deliver hands received ciphertext to the handshake goroutine, and
// returns how much it has not read yet. Loop only.
func (t *tlsTransport) deliver(b []byte) int {
	t.mu.Lock()
	if !t.closed {
		t.in = append(t.in, b...)
	}
	n := len(t.in)
	t.mu.Unlock()
	t.signal()
	return n
}

// takeOut returns what the handshake wrote since the last call, valid until
// the next. Loop only.
func (t *tlsTransport) takeOut() []byte {
	t.mu.Lock()
	out := t.out
	t.out, t.spare = t.spare[:0], out
	t.queued = false
	t.mu.Unlock()
	return out
}

// finish tells the handshake goroutine that nothing follows what it has
// been given: its Read returns io.EOF once that is read. Loop only.
func (t *tlsTransport) finish() {
	t.mu.Lock()
	t.eof = true
	t.mu.Unlock()
	t.signal()
}

// shut ends the transport: a Read waiting for bytes returns net.ErrClosed.
// Loop only.
func (t *tlsTransport) shut() {
	t.mu.Lock()
	t.closed = true
	t.in, t.out, t.spare = nil, nil, nil
	t.mu.Unlock()
	t.signal()
}

func (t *tlsTransport) signal() {
	select {
	case t.ready <- struct{}{}:
	default:
	}
}

// Close is never called by evloop, which closes the socket itself;
// crypto/tls calls it only from tls.Conn.Close and an interrupted
// HandshakeContext, neither of which evloop uses.
func (t *tlsTransport) Close() error { return nil }

func (t *tlsTransport) LocalAddr() net.Addr  { return t.c.LocalAddr() }
func (t *tlsTransport) RemoteAddr() net.Addr { return t.c.RemoteAddr() }

// The deadlines are the loop's (the handshake timeout, the connection's own
// deadlines); crypto/tls sets them only around close_notify, which never
// blocks here.
func (t *tlsTransport) SetDeadline(time.Time) error      { return nil }
func (t *tlsTransport) SetReadDeadline(time.Time) error  { return nil }
func (t *tlsTransport) SetWriteDeadline(time.Time) error { return nil }
