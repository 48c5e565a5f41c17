//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows || evloop_portable

package evloop

import (
	"crypto/tls"
	"errors"
	"fmt"
	"time"
)

// TLS on the loop, with the standard library's crypto/tls.
//
// A listener's connection is TLS from accept on: no handler sees it until
// its handshake has succeeded. The handshake runs on a goroutine of its own
// (crypto/tls cannot resume a handshake that returned an error, so it needs
// a Read that blocks), started when the first bytes arrive and gone when the
// handshake ends; the loop feeds it ciphertext and writes its flights.
// Then the loop hands the tls.Conn over to itself (a task, checked against
// the connection's generation), runs OnOpen and serves the connection like
// any other: each read's ciphertext is decrypted by calling tls.Conn.Read
// until the transport says "would block", a temporary net.Error that
// crypto/tls does not record, and the plaintext is what Peek, Next and Read
// show. Records written by Write go to the connection's ordinary output.
// An established TLS connection holds no goroutine.

// Defaults of the TLS options.
const (
	// DefaultTLSHandshakeTimeout bounds a TLS handshake, from accept.
	DefaultTLSHandshakeTimeout = 10 * time.Second
	// DefaultTLSHandshakeLimit is how many handshakes an engine runs at
	// once, each on a goroutine.
	DefaultTLSHandshakeLimit = 1024
)

// WithTLS serves every stream listener of the engine (tcp and unix, given
// as addresses or by WithListeners) with TLS, configured by cfg (default
// nil: plain text). cfg must give a certificate (Certificates,
// GetCertificate or GetConfigForClient); it is cloned at Run, so later
// changes to it have no effect. Connections the engine dials or enrolls
// stay plain; Engine.DialTLS and Loop.DialTLS dial as TLS clients.
//
// It applies to the whole engine rather than to addresses marked with a
// scheme of their own (a "tls://" address): addresses are also how dials
// and adopted listeners are named, a listener adopted by WithListeners has
// no address to mark, and a server that speaks both runs two engines.
//
// Handlers see plaintext only, through the same Conn methods. OnOpen runs
// once the handshake has succeeded; from then on Conn.ConnectionState
// reports the version, ALPN protocol, server name and peer certificates. A
// handshake that fails or times out (WithTLSHandshakeTimeout) closes the
// socket, is logged at debug level and counted in Stats.TLSHandshakeFailures;
// OnOpen and OnClose never run for it. What a peer sends before its
// handshake ends is held up to WithInboundLimit (at least 1 MiB, more than
// a handshake needs); beyond it the connection stops reading until the
// handshake ends. CountConnections counts a connection from accept on,
// handshake included. The configuration's callbacks (GetCertificate,
// GetConfigForClient, VerifyPeerCertificate) run on the handshake
// goroutine and must return: Stop waits for every handshake to end.
//
// Close sends close_notify after the pending output; CloseWrite sends it
// before the FIN. The peer's close_notify is what a plain connection's FIN
// is (with WithHalfClose, ReadCloseHandler learns of it); a FIN without
// it closes the connection, and OnClose gets ErrTLSTruncated. A client's
// TLS 1.3 KeyUpdate is answered from the loop; a TLS 1.2 client's
// renegotiation is refused by crypto/tls, which closes the connection
// with its error.
//
// Per record crypto/tls allocates what it allocates under std net; evloop
// adds nothing. Each established connection keeps crypto/tls's state and
// its record buffers, which grow to the largest record seen (16 KiB of
// plaintext at most) and stay, as they do under std net.
func WithTLS(cfg *tls.Config) Option { return func(o *options) { o.tls = cfg } }

// WithTLSHandshakeTimeout bounds each TLS handshake (default
// DefaultTLSHandshakeTimeout; must be positive). It runs from accept, so a
// client that connects and never sends is closed too; for DialTLS, from
// the connect, when the dial itself has no timeout. Like net/http's
// client Transport, and unlike its servers, which leave slow handshakes
// unbounded.
func WithTLSHandshakeTimeout(d time.Duration) Option {
	return func(o *options) { o.tlsTimeout = d }
}

// WithTLSHandshakeLimit caps how many TLS handshakes run at once (default
// DefaultTLSHandshakeLimit; must be positive): each takes a goroutine from
// its first bytes (a DialTLS client's: from the connect) to its end. A connection whose first bytes arrive while
// the engine is at the limit waits in line, holding no goroutine, until a
// handshake ends; its handshake timeout keeps running, so a flood of
// handshakes costs at most the limit in goroutines and each waiting
// connection a few hundred bytes. Connections that have connected but sent
// nothing yet take no goroutine and do not count.
func WithTLSHandshakeLimit(n int) Option { return func(o *options) { o.tlsLimit = n } }

// normalizeTLS validates the TLS options and clones the configuration.
func (o *options) normalizeTLS() error {
	switch {
	case o.tlsTimeout <= 0:
		return fmt.Errorf("%w: TLS handshake timeout must be positive, got %v", ErrInvalidOption, o.tlsTimeout)
	case o.tlsLimit <= 0:
		return fmt.Errorf("%w: TLS handshake limit must be positive, got %d", ErrInvalidOption, o.tlsLimit)
	case o.tls == nil:
		return nil
	case len(o.tls.Certificates) == 0 && o.tls.GetCertificate == nil && o.tls.GetConfigForClient == nil:
		return fmt.Errorf("%w: TLS config gives no certificate", ErrInvalidOption)
	}
	o.tls = o.tls.Clone()
	return nil
}

// tlsState is a TLS connection's state beside its conn, in its loop's
// tlsConns map: plain connections pay nothing for TLS, not even a field.
// Loop only, except the transport (see tlsTransport).
type tlsState struct {
	tc     *tls.Conn
	tr     tlsTransport
	open   bool     // the handshake succeeded: OnOpen ran
	busy   bool     // its handshake has a goroutine, or waits in line for one
	hsErr  error    // why the handshake failed, for the log
	closed bool     // close_notify sent
	dial   *dialing // DialTLS: the dial to report when the handshake ends
}

// ConnectionState returns the TLS state of a connection served with WithTLS
// or dialed with DialTLS, and true, from OnOpen on (OnClose included); the zero value and false on
// a plain connection. Loop only.
func (c *conn) ConnectionState() (tls.ConnectionState, bool) {
	c.loopOnly("ConnectionState")
	if c.flags&flagTLS == 0 {
		return tls.ConnectionState{}, false
	}
	ts := c.loop.tlsConns[c]
	if ts == nil || !ts.open {
		return tls.ConnectionState{}, false
	}
	return ts.tc.ConnectionState(), true
}

// tlsAccept makes an accepted connection a TLS one, waiting for its first
// bytes, with the handshake deadline armed from now. The deadline is the
// connection's read deadline, which no handler can have touched yet: it
// fires with ErrReadTimeout, and closes the connection without OnClose.
func (l *loop) tlsAccept(c *conn) {
	ts := &tlsState{}
	ts.tr.init(c)
	ts.tc = tls.Server(&ts.tr, l.eng.opts.tls)
	c.flags |= flagTLS
	if l.tlsConns == nil {
		l.tlsConns = make(map[*conn]*tlsState)
	}
	l.tlsConns[c] = ts
	c.timeState().readDL.Store(l.eng.clock() + int64(l.eng.opts.tlsTimeout))
	l.settleTime(c)
}

// tlsOpened reports whether a TLS connection's handshake succeeded. A
// connection that closes before that is a failed handshake: counted and
// logged here, and OnClose does not run for it.
func (l *loop) tlsOpened(c *conn, err error) bool {
	ts := l.tlsConns[c]
	if ts != nil && ts.open {
		return true
	}
	l.eng.tlsFailures.Add(1)
	if ts != nil && ts.hsErr != nil {
		err = ts.hsErr
	}
	switch {
	case errors.Is(err, ErrReadTimeout):
		err = fmt.Errorf("timed out after %v", l.eng.opts.tlsTimeout)
	case err == nil:
		err = ErrClosed // closed by the engine (Stop) before it ended
	}
	l.eng.log.Debug("evloop: TLS handshake failed", "remote", c.RemoteAddr(), "err", err)
	return false
}

// tlsRelease forgets a closed connection's TLS state and wakes its
// handshake goroutine, if one still waits for bytes.
func (l *loop) tlsRelease(c *conn) {
	if ts := l.tlsConns[c]; ts != nil {
		delete(l.tlsConns, c)
		ts.tr.shut()
	}
}

// tlsCloseNotify sends close_notify once, behind pending output. Only an
// established connection has one to send.
func (l *loop) tlsCloseNotify(c *conn) {
	if ts := l.tlsConns[c]; ts != nil && ts.open && !ts.closed {
		ts.closed = true
		_ = ts.tc.CloseWrite() // the transport never fails a write
	}
}

// tlsWrite encrypts p into records, which go to the connection's output
// as a plain Write's bytes do. Loop only, after usable.
func (c *conn) tlsWrite(p []byte) (int, error) {
	ts := c.loop.tlsConns[c]
	if ts == nil || !ts.open || ts.closed {
		return 0, ErrClosed
	}
	n, err := ts.tc.Write(p)
	if err == nil {
		err = c.failure()
	}
	return n, err
}

// tlsWritev writes each buffer in turn: crypto/tls has no vectored write,
// and copying the buffers into one would cost what writev saves.
func (c *conn) tlsWritev(bufs [][]byte) (int, error) {
	total := 0
	for _, b := range bufs {
		if len(b) == 0 {
			continue
		}
		n, err := c.tlsWrite(b)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}
