//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows || evloop_portable

package evloop

import (
	"errors"
	"io"
)

// minHandshakeInput is the least a handshake may hold unread before its
// connection stops reading: more than a client's largest flight (crypto/tls
// takes certificate messages of up to 256 KiB), so that a small
// WithInboundLimit cannot stall a handshake that needs the bytes the
// pause holds back.
const minHandshakeInput = 1 << 20

// tlsRead takes ciphertext just read from a TLS connection's socket. During
// the handshake it goes to the handshake goroutine (started by the first
// bytes); after it, tlsPump decrypts it (with drain, until crypto/tls says
// "would block") and OnTraffic sees the plaintext.
func (l *loop) tlsRead(c *conn, ts *tlsState, data []byte, drain bool) {
	if !ts.open {
		if ts.tr.deliver(data) >= max(l.eng.opts.inLimit, minHandshakeInput) {
			// A peer that sends this much before its handshake ends
			// waits for the hand-off, as a handler's slow reader would.
			c.setPaused(pauseHandshake, true)
		}
		if !ts.busy {
			l.tlsStart(ts)
		}
		return
	}
	ts.tr.in = data
	n, err := l.tlsPump(c, ts, drain)
	ts.tr.in = nil
	if n > 0 && c.state == connOpen {
		l.settle(c, l.traffic(c))
	}
	switch {
	case err == nil || c.state != connOpen:
	case errors.Is(err, io.EOF):
		// close_notify: the peer sent everything; as a plain
		// connection's FIN, after its data.
		if l.eng.opts.halfClose {
			c.setPaused(pauseEOF, true)
			l.settle(c, l.readClosed(c))
			return
		}
		l.closeConn(c, nil)
	default:
		// A bad record, an unexpected message: crypto/tls has written
		// its alert; send it before the fd closes.
		_ = c.flush()
		l.closeConn(c, err)
	}
	l.afterDispatch()
}

// tlsPump decrypts everything crypto/tls can decrypt from what the
// transport holds, into the loop's plaintext buffer, and shows it to the
// handler as the plain path shows a read: a view while nothing is
// buffered, appended to the connection's ring otherwise (also when it
// passes one buffer's worth). It returns how many plaintext bytes it
// delivered, and crypto/tls's error other than "would block": io.EOF after
// close_notify. With drain it reads until crypto/tls reports "would block";
// without, it stops when the transport is empty and crypto/tls has
// returned less than it was offered room for: crypto/tls then holds
// nothing more (see tlsTransport's record-at-a-time Read).
func (l *loop) tlsPump(c *conn, ts *tlsState, drain bool) (int, error) {
	if l.tlsBuf == nil {
		l.tlsBuf = make([]byte, len(l.buf))
	}
	buf := l.tlsBuf
	total, m := 0, 0
	var err error
	for {
		if m == len(buf) {
			if _, werr := c.inbound.Write(buf); werr != nil {
				return total, werr
			}
			m = 0
		}
		var n int
		n, err = ts.tc.Read(buf[m:])
		m += n
		total += n
		if err != nil {
			break // n > 0 with an error: the bytes are used first
		}
		if !drain && len(ts.tr.in) == 0 && m < len(buf) {
			break
		}
	}
	if err == errWouldBlock {
		err = nil
	}
	if m > 0 {
		if c.inbound.IsEmpty() {
			l.cur, l.view = c, buf[:m]
		} else if _, werr := c.inbound.Write(buf[:m]); werr != nil {
			return total, werr
		}
	}
	return total, err
}

// tlsEOF handles the FIN of a TLS connection. After close_notify,
// tlsRead has already closed the connection (or half-closed it, which
// stops reading): a FIN that gets here was not announced, and data the
// peer meant to send may be missing, which OnClose learns as
// ErrTLSTruncated. A FIN during the handshake closes the connection
// without OnClose; a dial's handshake gets the chance to say why first.
func (l *loop) tlsEOF(c *conn, ts *tlsState) {
	if !ts.open && ts.dial != nil && ts.busy {
		// A client's handshake: the server may have sent an alert saying
		// why before its FIN, or the handshake may have failed on its own
		// and the server answered its alert. The handshake goroutine
		// reads to the end and reports that error, which the dial
		// returns; meanwhile the connection stops reading. Should the
		// handshake succeed, the hand-off resumes reading, and this FIN
		// is read again, now after the handshake.
		ts.tr.finish()
		c.setPaused(pauseHandshake, true)
		return
	}
	if !ts.open {
		ts.hsErr = io.ErrUnexpectedEOF
		l.closeConn(c, nil)
		return
	}
	l.closeConn(c, ErrTLSTruncated)
}
