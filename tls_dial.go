//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows || evloop_portable

package evloop

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"
)

// The client side of TLS: a dial that connects goes on with a handshake
// as tls.Client, on the server side's machinery (a goroutine per
// handshake, in line behind WithTLSHandshakeLimit, the loop feeding it
// ciphertext), and is reported once that handshake has ended: OnOpen and
// the dial's success after it succeeded, the dial's error alone when it
// failed.

// DialTLS is Dial followed by a TLS handshake as a client, with crypto/tls's
// tls.Client semantics: Conn is returned once the handshake has succeeded
// and the handler's OnOpen has run, and from then on the connection is
// served like any other, the handler seeing plaintext only and
// Conn.ConnectionState reporting the negotiated version, ALPN protocol and
// the server's certificates.
//
// DialTLS is a method of its own, as tls.Dial is beside net.Dial and
// net/http's Transport has DialTLSContext beside DialContext, rather than
// an option of Dial: Dial's signature stays as it is, and a plain dial
// never takes a configuration it does not use. Engine options such as
// WithTLS configure the engine's listeners, not its dials.
//
// cfg may be nil (the zero configuration). When cfg.ServerName is empty,
// the host of address is used, as tls.Dial does; the server's certificate
// is verified against it (unless InsecureSkipVerify). A unix socket's path
// names no host: give ServerName. cfg is cloned for
// this dial only when ServerName has to be set; otherwise it is shared,
// as crypto/tls shares it between its connections, and must not be
// changed afterwards. A ClientSessionCache makes later dials resume: its
// Get runs on the handshake goroutine, but its Put for a TLS 1.3 session
// ticket, which arrives after the handshake, runs on the connection's
// loop, so it must not block (tls.NewLRUClientSessionCache only takes a
// mutex). VerifyPeerCertificate, VerifyConnection and
// GetClientCertificate run on the handshake goroutine and must return:
// Stop waits for every handshake to end.
//
// ctx bounds the connect and the handshake together; without a deadline
// the handshake is bounded by WithTLSHandshakeTimeout. A handshake that
// fails is the dial's error, a *net.OpError with Op "dial" wrapping
// crypto/tls's error (reach it, or the x509 error under it, with
// errors.As); one that runs out of time is ErrDialTimeout; the engine
// stopping meanwhile is ErrEngineStopped. Neither OnOpen nor OnClose runs
// for a connection whose handshake failed; it is counted in
// Stats.TLSHandshakeFailures and Stats.DialFailures. Otherwise as Dial.
func (eng Engine) DialTLS(ctx context.Context, network, address string, cfg *tls.Config) (Conn, error) {
	return eng.dial(ctx, network, address, clientConfig(cfg, network, address))
}

// DialTLS is Loop.Dial followed by a TLS handshake as a client: cb runs
// once the handshake has ended, after OnOpen when it succeeded. timeout
// bounds the connect and the handshake together (0: the handshake is
// bounded by WithTLSHandshakeTimeout). cfg, the ServerName default, the
// session cache and the errors are as for Engine.DialTLS. Any goroutine.
func (lp Loop) DialTLS(network, address string, cfg *tls.Config, timeout time.Duration, ctx any, cb DialCallback) error {
	return lp.dial(network, address, clientConfig(cfg, network, address), timeout, ctx, cb)
}

// clientConfig is cfg with ServerName defaulting to the host dialed.
func clientConfig(cfg *tls.Config, network, address string) *tls.Config {
	if cfg == nil {
		cfg = &tls.Config{}
	}
	if cfg.ServerName != "" || network == "unix" {
		return cfg
	}
	host, _, err := net.SplitHostPort(address)
	if err != nil || host == "" {
		return cfg
	}
	cfg = cfg.Clone()
	cfg.ServerName = host
	return cfg
}

// tlsDial starts the client handshake of a dial that just connected. The
// client speaks first, so the handshake takes its goroutine (or its place
// in line) at once. Its deadline, the connection's read deadline as for an
// accepted connection, is the dial's, or WithTLSHandshakeTimeout from now.
func (l *loop) tlsDial(c *conn, d *dialing) {
	ts := &tlsState{dial: d}
	ts.tr.init(c)
	ts.tc = tls.Client(&ts.tr, d.tls)
	c.flags |= flagTLS
	if l.tlsConns == nil {
		l.tlsConns = make(map[*conn]*tlsState)
	}
	l.tlsConns[c] = ts
	d.handshake, d.err = true, nil // an earlier address's error is moot
	when := d.deadline
	if when == 0 {
		when = l.eng.clock() + int64(l.eng.opts.tlsTimeout)
	}
	c.timeState().readDL.Store(when)
	l.settleTime(c)
	l.tlsStart(ts)
}

// tlsDialOpened reports a dial whose handshake succeeded, after OnOpen.
func (l *loop) tlsDialOpened(c *conn, ts *tlsState) {
	d := ts.dial
	ts.dial, d.handshake = nil, false
	l.finishDial(d, c, nil)
}

// tlsDialFailed reports a dial whose connection closed before its
// handshake succeeded. The connection's count was taken back by its close.
func (l *loop) tlsDialFailed(ts *tlsState, err error) {
	d := ts.dial
	ts.dial, d.handshake = nil, false
	switch {
	case d.err != nil: // cancelled, or the engine stopped
		err = d.err
	case ts.hsErr != nil && !errors.Is(ts.hsErr, net.ErrClosed):
		err = fmt.Errorf("evloop: TLS handshake: %w", ts.hsErr)
	case errors.Is(err, ErrReadTimeout):
		err = ErrDialTimeout
	case err == nil:
		err = ErrClosed
	}
	l.eng.dialFailures.Add(1)
	l.finishDial(d, nil, err)
}
