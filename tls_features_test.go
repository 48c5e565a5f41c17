package evloop

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestTLSSessionResumption(t *testing.T) {
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		s := startEngine(t, echoHandler{}, "tcp://127.0.0.1:0", WithLoops(1), WithTLS(tlsServerConfig(t)))
		cfg := tlsClientConfig(v)
		cfg.ClientSessionCache = tls.NewLRUClientSessionCache(4)
		for i := range 2 {
			c := tlsDial(t, s, cfg)
			// The echo also has the client read TLS 1.3's tickets.
			if err := tbEcho(c, []byte("resume?"), 5*time.Second); err != nil {
				t.Fatal(err)
			}
			if got := c.ConnectionState().DidResume; got != (i == 1) {
				t.Errorf("version %x, connection %d: DidResume = %v", v, i, got)
			}
			_ = c.Close()
		}
	}
}

func TestTLSClientCertificates(t *testing.T) {
	clientCert, clientPool := tlsMakeCert("evloop client")
	ev := newTLSEvents()
	cfg := tlsServerConfig(t)
	cfg.ClientAuth = tls.RequireAndVerifyClientCert
	cfg.ClientCAs = clientPool
	s := startEngine(t, ev.handler(), "tcp://127.0.0.1:0", WithLoops(1), WithTLS(cfg), WithLogger(tbQuietLogger()))

	ccfg := tlsClientConfig(0)
	ccfg.Certificates = []tls.Certificate{clientCert}
	c := tlsDial(t, s, ccfg)
	if err := tbEcho(c, []byte("me"), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	st := tbRecv(t, ev.opened, 5*time.Second, "OnOpen")
	if len(st.PeerCertificates) != 1 || st.PeerCertificates[0].Subject.CommonName != "evloop client" {
		t.Errorf("PeerCertificates in OnOpen: %d, want the client's", len(st.PeerCertificates))
	}

	// Without a certificate: refused, and never opened.
	raw := s.dial(t)
	anon := tls.Client(raw, tlsClientConfig(0))
	_ = anon.SetDeadline(time.Now().Add(5 * time.Second))
	err := anon.Handshake()
	if err == nil {
		_, err = anon.Read(make([]byte, 1)) // TLS 1.3: the refusal comes after the client's Finished
	}
	if err == nil {
		t.Fatal("a client without a certificate was served")
	}
	deadline := time.Now().Add(5 * time.Second)
	for s.eng.Stats().TLSHandshakeFailures != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("TLSHandshakeFailures = %d, want 1", s.eng.Stats().TLSHandshakeFailures)
		}
		time.Sleep(time.Millisecond)
	}
	select {
	case <-ev.opened:
		t.Error("OnOpen ran for a client without a certificate")
	default:
	}
}

func TestTLSSNIChoosesCertificate(t *testing.T) {
	a, poolA := tlsMakeCert("a", "a.example")
	b, poolB := tlsMakeCert("b", "b.example")
	cfg := &tls.Config{Certificates: []tls.Certificate{a, b}}
	s := startEngine(t, echoHandler{}, "tcp://127.0.0.1:0", WithLoops(1), WithTLS(cfg))
	for _, tc := range []struct {
		name string
		pool *x509.CertPool
	}{
		{name: "a.example", pool: poolA},
		{name: "b.example", pool: poolB},
	} {
		c := tlsDial(t, s, &tls.Config{ServerName: tc.name, RootCAs: tc.pool})
		if got := c.ConnectionState().PeerCertificates[0].Subject.CommonName; got+".example" != tc.name {
			t.Errorf("SNI %s: got the certificate of %s", tc.name, got)
		}
	}
}

// tamperConn flips a bit in the last byte of the next write once armed: a
// record whose authentication tag no longer matches.
type tamperConn struct {
	*batchConn
	armed bool
}

func (c *tamperConn) Write(p []byte) (int, error) {
	if c.armed {
		c.armed = false
		q := append([]byte(nil), p...)
		q[len(q)-1] ^= 1
		return c.batchConn.Write(q)
	}
	return c.batchConn.Write(p)
}

// A record that fails authentication closes the connection with crypto/tls's
// error, after the alert that tells the peer why.
func TestTLSBadRecordMAC(t *testing.T) {
	ev := newTLSEvents()
	s := startEngine(t, ev.handler(), "tcp://127.0.0.1:0", WithLoops(1), WithTLS(tlsServerConfig(t)))
	tc := &tamperConn{batchConn: &batchConn{Conn: s.dial(t)}}
	c := tls.Client(tc, tlsClientConfig(0))
	if err := tbEcho(c, []byte("fine"), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	tc.armed = true
	if _, err := c.Write([]byte("tampered")); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := c.Read(make([]byte, 16))
	if err == nil || !strings.Contains(err.Error(), "bad record MAC") {
		t.Errorf("client read: %v, want the server's bad_record_mac alert", err)
	}
	err = tbRecv(t, ev.closed, 5*time.Second, "OnClose")
	if err == nil || !strings.Contains(err.Error(), "bad record MAC") {
		t.Errorf("OnClose: %v, want crypto/tls's bad record MAC error", err)
	}
}

// halfCloseTLS answers the peer's close_notify with a last message.
type halfCloseTLS struct {
	echoHandler
	closed chan error
}

func (h *halfCloseTLS) OnReadClosed(c Conn) Action {
	_, _ = c.Write([]byte("last words"))
	return Close
}

func (h *halfCloseTLS) OnClose(c Conn, err error) Action {
	if _, ok := c.ConnectionState(); !ok {
		err = errors.Join(err, errors.New("no ConnectionState in OnClose"))
	}
	h.closed <- err
	return None
}

func TestTLSHalfCloseOnCloseNotify(t *testing.T) {
	h := &halfCloseTLS{closed: make(chan error, 1)}
	s := startEngine(t, h, "tcp://127.0.0.1:0", WithLoops(1), WithTLS(tlsServerConfig(t)), WithHalfClose(true))
	c := tlsDial(t, s, tlsClientConfig(0))
	if err := tbEcho(c, []byte("x"), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := c.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	got, err := io.ReadAll(c)
	if string(got) != "last words" || err != nil {
		t.Errorf("after close_notify the client read %q, %v; want the last words and the server's close_notify", got, err)
	}
	if err := tbRecv(t, h.closed, 5*time.Second, "OnClose"); err != nil {
		t.Errorf("OnClose: %v", err)
	}
}

func TestTLSOverUnixSocket(t *testing.T) {
	s := startEngine(t, echoHandler{}, "unix://"+filepath.Join(t.TempDir(), "tls.sock"), WithLoops(1),
		WithTLS(tlsServerConfig(t)))
	c := tlsDial(t, s, tlsClientConfig(0))
	if err := tbEcho(c, []byte("over a unix socket"), 5*time.Second); err != nil {
		t.Fatal(err)
	}
}

// tlsHTTP answers each complete HTTP/1.1 request (no body) with a small
// response, the way a pipelining server does: all the requests buffered,
// in order.
type tlsHTTP struct{ BaseHandler }

func (tlsHTTP) OnTraffic(c Conn) Action {
	for {
		b, _ := c.Peek(-1)
		end := bytes.Index(b, []byte("\r\n\r\n"))
		if end < 0 {
			return None
		}
		path := ""
		if f := strings.Fields(string(b[:end])); len(f) > 1 {
			path = f[1]
		}
		body := "you asked for " + path
		resp := fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
		if _, err := c.Write([]byte(resp)); err != nil {
			return Close
		}
		_, _ = c.Discard(end + 4)
	}
}

func TestTLSPipelinedHTTP(t *testing.T) {
	cfg := tlsServerConfig(t)
	cfg.NextProtos = []string{"http/1.1"}
	s := startEngine(t, tlsHTTP{}, "tcp://127.0.0.1:0", WithLoops(1), WithTLS(cfg))
	ccfg := tlsClientConfig(0)
	ccfg.NextProtos = []string{"http/1.1"}
	c := tlsDial(t, s, ccfg)
	const n = 50
	var reqs bytes.Buffer
	for i := range n {
		fmt.Fprintf(&reqs, "GET /%d HTTP/1.1\r\nHost: localhost\r\n\r\n", i)
	}
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write(reqs.Bytes()); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	for i := range n {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("response %d: %v", i, err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if want := fmt.Sprintf("you asked for /%d", i); err != nil || string(body) != want {
			t.Fatalf("response %d: %q, %v; want %q", i, body, err, want)
		}
	}
}

// A handshake that fails sends its alert before the socket closes: the
// client learns why.
func TestTLSHandshakeAlertReachesClient(t *testing.T) {
	s := startEngine(t, echoHandler{}, "tcp://127.0.0.1:0", WithLoops(1), WithTLS(tlsServerConfig(t)),
		WithLogger(tbQuietLogger()))
	cfg := tlsClientConfig(0)
	cfg.MinVersion, cfg.MaxVersion = tls.VersionTLS10, tls.VersionTLS11 // the server wants 1.2 at least
	c := tls.Client(s.dial(t), cfg)
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	err := c.Handshake()
	if err == nil || !strings.Contains(err.Error(), "protocol version") {
		t.Fatalf("handshake: %v, want the server's protocol_version alert", err)
	}
}
