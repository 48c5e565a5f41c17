package evloop

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// Evidence tests: the behaviours of crypto/tls that the TLS support relies
// on. A Go release that changes one of them fails here, by name, before it
// breaks a connection in a way that is hard to trace:
//
//   - Read after the handshake does not record an error that is a net.Error
//     with Temporary() true, and keeps the bytes it read before it: the loop
//     feeds ciphertext and calls Read until "would block", and goes on
//     where it stopped with the next read's bytes;
//   - an error that is only a timeout is recorded (the rule is Temporary);
//   - Read returns data and io.EOF together when close_notify follows the
//     data (TLS 1.2; in TLS 1.3 the EOF comes with the next Read): the
//     bytes must be used first;
//   - a handshake that returned an error cannot be resumed, which is why it
//     runs on a goroutine over a blocking Read.

// feedConn is a server's underlying connection for the evidence tests: it
// talks to its peer over a real socket until fed is set, and then reads
// only what the test feeds it, returning err when that is used up.
type feedConn struct {
	net.Conn
	fed bool
	in  []byte
	err error
}

func (f *feedConn) Read(p []byte) (int, error) {
	if !f.fed {
		return f.Conn.Read(p)
	}
	if len(f.in) == 0 {
		return 0, f.err
	}
	n := copy(p, f.in)
	f.in = f.in[n:]
	return n, nil
}

// captureConn is a client's underlying connection: once capturing, what
// the client writes is kept instead of sent.
type captureConn struct {
	net.Conn
	capturing bool
	out       []byte
}

func (c *captureConn) Write(p []byte) (int, error) {
	if !c.capturing {
		return c.Conn.Write(p)
	}
	c.out = append(c.out, p...)
	return len(p), nil
}

// take returns what was captured since the last call.
func (c *captureConn) take() []byte {
	out := c.out
	c.out = nil
	return out
}

// timeoutOnly is a net.Error that is a timeout and not temporary.
type timeoutOnly struct{}

func (timeoutOnly) Error() string   { return "timeout only" }
func (timeoutOnly) Timeout() bool   { return true }
func (timeoutOnly) Temporary() bool { return false }

// tlsEvidencePair returns a server and a client of version v that have
// completed their handshake over a loopback socket, with the server's
// reads and the client's writes then switched to the test's control.
func tlsEvidencePair(t *testing.T, v uint16) (*tls.Conn, *feedConn, *tls.Conn, *captureConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cr, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	sr, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cr.Close(); sr.Close() })
	for _, c := range []net.Conn{cr, sr} {
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	}
	scfg := tlsServerConfig(t)
	scfg.SessionTicketsDisabled = true
	fc, cc := &feedConn{Conn: sr}, &captureConn{Conn: cr}
	server, client := tls.Server(fc, scfg), tls.Client(cc, tlsClientConfig(v))
	var wg sync.WaitGroup
	var serr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		serr = server.Handshake()
	}()
	cerr := client.Handshake()
	wg.Wait()
	if serr != nil || cerr != nil {
		t.Fatalf("handshake: server %v, client %v", serr, cerr)
	}
	fc.fed, cc.capturing = true, true
	return server, fc, client, cc
}

var tlsEvidenceVersions = []struct {
	name    string
	version uint16
}{
	{name: "TLS1.2", version: tls.VersionTLS12},
	{name: "TLS1.3", version: tls.VersionTLS13},
}

func TestTLSEvidenceTemporaryErrorKeepsReadAlive(t *testing.T) {
	for _, tc := range tlsEvidenceVersions {
		t.Run(tc.name, func(t *testing.T) {
			server, fc, client, cc := tlsEvidencePair(t, tc.version)
			fc.err = errWouldBlock
			msg := []byte("hello, evloop")
			if _, err := client.Write(msg); err != nil {
				t.Fatal(err)
			}
			rec := cc.take()
			buf := make([]byte, 64)
			fc.in = rec[:len(rec)/2]
			if n, err := server.Read(buf); n != 0 || err != errWouldBlock {
				t.Fatalf("Read of half a record = %d, %v; want 0 and the transport's temporary error", n, err)
			}
			fc.in = rec[len(rec)/2:]
			n, err := server.Read(buf)
			if err != nil || string(buf[:n]) != string(msg) {
				t.Fatalf("Read once the rest arrived = %q, %v; want %q: the connection was poisoned or the first half lost",
					buf[:n], err, msg)
			}
		})
	}
}

func TestTLSEvidenceTimeoutOnlyErrorPoisonsRead(t *testing.T) {
	server, fc, client, cc := tlsEvidencePair(t, tls.VersionTLS13)
	fc.err = timeoutOnly{}
	if _, err := client.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	rec := cc.take()
	buf := make([]byte, 64)
	fc.in = rec[:len(rec)/2]
	if _, err := server.Read(buf); err == nil {
		t.Fatal("Read of half a record succeeded")
	}
	fc.in = rec[len(rec)/2:]
	if n, err := server.Read(buf); err == nil {
		t.Fatalf("Read after a timeout-only error = %q, nil: crypto/tls no longer records it; "+
			"the would-block error's Temporary may no longer be what matters", buf[:n])
	}
}

func TestTLSEvidenceDataAndCloseNotifyTogether(t *testing.T) {
	for _, tc := range tlsEvidenceVersions {
		t.Run(tc.name, func(t *testing.T) {
			server, fc, client, cc := tlsEvidencePair(t, tc.version)
			fc.err = errWouldBlock
			if _, err := client.Write([]byte("last")); err != nil {
				t.Fatal(err)
			}
			if err := client.CloseWrite(); err != nil {
				t.Fatal(err)
			}
			fc.in = cc.take()
			buf := make([]byte, 64)
			n, err := server.Read(buf)
			if tc.version == tls.VersionTLS13 {
				// TLS 1.3 encrypts alerts as application data, so the
				// look-ahead does not see close_notify: EOF comes next.
				if string(buf[:n]) != "last" || err != nil {
					t.Fatalf("Read = %q, %v; want \"last\", nil", buf[:n], err)
				}
				n, err = server.Read(buf)
				if n != 0 || err != io.EOF {
					t.Fatalf("second Read = %d, %v; want 0, io.EOF", n, err)
				}
				return
			}
			if string(buf[:n]) != "last" || err != io.EOF {
				t.Fatalf("Read = %q, %v; want \"last\" and io.EOF at once", buf[:n], err)
			}
		})
	}
}

func TestTLSEvidenceHandshakeNotResumable(t *testing.T) {
	// A ClientHello, captured from a client whose reads fail at once.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	cc := &captureConn{Conn: &feedConn{Conn: raw, fed: true, err: errWouldBlock}, capturing: true}
	if err := tls.Client(cc, tlsClientConfig(0)).Handshake(); err == nil {
		t.Fatal("client handshake without a server succeeded")
	}
	hello := cc.take()
	if len(hello) == 0 {
		t.Fatal("no ClientHello captured")
	}

	fc := &feedConn{Conn: raw, fed: true, err: errWouldBlock}
	server := tls.Server(fc, tlsServerConfig(t))
	fc.in = hello[:len(hello)/2]
	first := server.Handshake()
	if !errors.Is(first, errWouldBlock) {
		t.Fatalf("handshake on half a ClientHello = %v, want the transport's temporary error", first)
	}
	fc.in = hello[len(hello)/2:]
	if err := server.Handshake(); err == nil || len(fc.in) == 0 {
		t.Fatalf("handshake resumed after a temporary error (err %v, %d bytes unread): "+
			"it could run on the loop instead of a goroutine", err, len(fc.in))
	}
}
