package evloop

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	mrand "math/rand/v2"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/evloop/evloop/internal/socket"
)

// tlsTestCerts is a certificate for localhost and example.com, made once
// per test binary, and a pool that trusts it.
var tlsTestCerts = sync.OnceValues(func() (tls.Certificate, *x509.CertPool) {
	return tlsMakeCert("evloop test", "localhost", "example.com")
})

// tlsMakeCert makes a self-signed certificate for names (and 127.0.0.1),
// good for servers and clients, and a pool that trusts it.
func tlsMakeCert(cn string, names ...string) (tls.Certificate, *x509.CertPool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              names,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		panic(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// tlsServerConfig is a server configuration with the test certificate.
func tlsServerConfig(tb testing.TB) *tls.Config {
	tb.Helper()
	cert, _ := tlsTestCerts()
	return &tls.Config{Certificates: []tls.Certificate{cert}}
}

// tlsClientConfig trusts the test certificate, for version v (0: any).
func tlsClientConfig(v uint16) *tls.Config {
	_, pool := tlsTestCerts()
	return &tls.Config{RootCAs: pool, ServerName: "localhost", MinVersion: v, MaxVersion: v}
}

// tlsDial connects a crypto/tls client to s and completes its handshake.
func tlsDial(tb testing.TB, s *testServer, cfg *tls.Config) *tls.Conn {
	tb.Helper()
	raw := s.dial(tb)
	c := tls.Client(raw, cfg)
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if err := c.Handshake(); err != nil {
		tb.Fatalf("handshake: %v", err)
	}
	_ = c.SetDeadline(time.Time{})
	return c
}

func TestTLSEcho(t *testing.T) {
	for _, tc := range []struct {
		name    string
		version uint16
	}{
		{name: "TLS1.2", version: tls.VersionTLS12},
		{name: "TLS1.3", version: tls.VersionTLS13},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startEngine(t, echoHandler{}, "tcp://127.0.0.1:0", WithLoops(2), WithTLS(tlsServerConfig(t)),
				WithLogger(tbQuietLogger()))
			for range 3 {
				c := tlsDial(t, s, tlsClientConfig(tc.version))
				if v := c.ConnectionState().Version; v != tc.version {
					t.Fatalf("version = %x, want %x", v, tc.version)
				}
				for i := range 20 {
					if err := tbEcho(c, tbPattern(i*1000, 1+i*97), 5*time.Second); err != nil {
						t.Fatal(err)
					}
				}
			}
			if st := s.eng.Stats(); st.TLSHandshakes != 3 || st.TLSHandshakeFailures != 0 {
				t.Errorf("handshakes = %d, failures = %d; want 3, 0", st.TLSHandshakes, st.TLSHandshakeFailures)
			}
		})
	}
}

// splitConn writes each buffer in pieces cut at random points, pausing
// now and then so that the server reads them apart.
type splitConn struct {
	net.Conn
	rng *mrand.Rand
}

func (s *splitConn) Write(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		k := min(len(p)-n, 1+s.rng.IntN(64))
		m, err := s.Conn.Write(p[n : n+k])
		n += m
		if err != nil {
			return n, err
		}
		if s.rng.IntN(4) == 0 {
			time.Sleep(100 * time.Microsecond)
		}
	}
	return n, nil
}

func TestTLSCiphertextSplitAtRandomPoints(t *testing.T) {
	s := startEngine(t, echoHandler{}, "tcp://127.0.0.1:0", WithLoops(1), WithTLS(tlsServerConfig(t)))
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		seed := uint64(time.Now().UnixNano())
		t.Logf("seed %d", seed)
		raw := &splitConn{Conn: s.dial(t), rng: mrand.New(mrand.NewPCG(seed, uint64(v)))}
		c := tls.Client(raw, tlsClientConfig(v))
		for i := range 30 {
			if err := tbEcho(c, tbPattern(i, 1+raw.rng.IntN(3000)), 10*time.Second); err != nil {
				t.Fatalf("version %x, message %d: %v", v, i, err)
			}
		}
	}
}

func TestTLSMegabyteBothWays(t *testing.T) {
	s := startEngine(t, echoHandler{}, "tcp://127.0.0.1:0", WithLoops(1), WithTLS(tlsServerConfig(t)))
	c := tlsDial(t, s, tlsClientConfig(0))
	const size = 1 << 20
	msg := tbPattern(0, size)
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	errc := make(chan error, 1)
	go func() {
		_, err := c.Write(msg)
		errc <- err
	}()
	got := make([]byte, size)
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatalf("read: %v", err)
	}
	if err := tbRecv(t, errc, 30*time.Second, "write"); err != nil {
		t.Fatalf("write: %v", err)
	}
	if i := tbFirstDiff(got, msg); i >= 0 {
		t.Fatalf("echo differs at byte %d", i)
	}
}

// A handshake runs on a goroutine of its own, which is gone once the
// connection is established.
func TestTLSEstablishedConnectionHoldsNoGoroutine(t *testing.T) {
	s := startEngine(t, echoHandler{}, "tcp://127.0.0.1:0", WithLoops(2), WithTLS(tlsServerConfig(t)))
	const n = 20
	conns := make([]*tls.Conn, n)
	// The loops and the acceptor start after OnBoot: counted only once a
	// first connection has been served, and its handshake's goroutine has
	// had time to go.
	conns[0] = tlsDial(t, s, tlsClientConfig(0))
	if err := tbEcho(conns[0], []byte("hi"), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	base := runtime.NumGoroutine()
	for range 20 {
		time.Sleep(5 * time.Millisecond)
		base = min(base, runtime.NumGoroutine())
	}
	for i := 1; i < n; i++ {
		conns[i] = tlsDial(t, s, tlsClientConfig(0))
		if err := tbEcho(conns[i], []byte("hi"), 5*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		// The portable backend's reader goroutine per connection aside
		// (the native backends have none), no goroutine is left.
		want := base
		if socket.Portable {
			want += n - 1
		}
		g := runtime.NumGoroutine()
		if g <= want {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines with %d established connections, %d before (%d expected)", g, n, base, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if c := s.eng.CountConnections(); c != n {
		t.Errorf("CountConnections = %d, want %d", c, n)
	}
}

// tlsEvents records what a TLS test handler saw.
type tlsEvents struct {
	opened chan tls.ConnectionState
	closed chan error
}

func newTLSEvents() *tlsEvents {
	return &tlsEvents{opened: make(chan tls.ConnectionState, 64), closed: make(chan error, 64)}
}

// handler echoes, and reports OnOpen's ConnectionState and OnClose's error.
func (ev *tlsEvents) handler() *tbHandler {
	return &tbHandler{
		open: func(c Conn) ([]byte, Action) {
			st, ok := c.ConnectionState()
			if !ok {
				st = tls.ConnectionState{}
			}
			ev.opened <- st
			return nil, None
		},
		traffic: echoHandler{}.OnTraffic,
		close: func(c Conn, err error) Action {
			ev.closed <- err
			return None
		},
	}
}

func TestTLSHandshakeTimeout(t *testing.T) {
	ev := newTLSEvents()
	const timeout = 300 * time.Millisecond
	s := startEngine(t, ev.handler(), "tcp://127.0.0.1:0", WithLoops(1), WithTLS(tlsServerConfig(t)),
		WithTLSHandshakeTimeout(timeout), WithLogger(tbQuietLogger()))
	silent := s.dial(t)                                                        // never sends: no goroutine, closed at the deadline
	stalled := s.dial(t)                                                       // stops mid-handshake
	if _, err := stalled.Write([]byte{0x16, 3, 1, 0, 200, 1, 0}); err != nil { // a ClientHello's start
		t.Fatal(err)
	}
	start := time.Now()
	for _, c := range []net.Conn{silent, stalled} {
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err := c.Read(make([]byte, 64))
		if err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("read = %v, want the server's close", err)
		}
	}
	if d := time.Since(start); d < timeout/2 || d > 3*time.Second {
		t.Errorf("closed after %v, want about %v", d, timeout)
	}
	if st := s.eng.Stats(); st.TLSHandshakeFailures != 2 {
		t.Errorf("TLSHandshakeFailures = %d, want 2", st.TLSHandshakeFailures)
	}
	select {
	case <-ev.opened:
		t.Error("OnOpen ran for a failed handshake")
	case err := <-ev.closed:
		t.Errorf("OnClose(%v) ran for a connection that never opened", err)
	case <-time.After(50 * time.Millisecond):
	}
}

func TestTLSPlainTextClientIsClosed(t *testing.T) {
	ev := newTLSEvents()
	logger, logs := itQuietLogger()
	s := startEngine(t, ev.handler(), "tcp://127.0.0.1:0", WithLoops(1), WithTLS(tlsServerConfig(t)),
		WithLogger(logger))
	good := tlsDial(t, s, tlsClientConfig(0))
	tbRecv(t, ev.opened, 5*time.Second, "OnOpen")
	plain := s.dial(t)
	if _, err := plain.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	_ = plain.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadAll(plain); err != nil && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("plain client: %v, want the server's close", err)
	}
	if err := tbEcho(good, []byte("still here"), 5*time.Second); err != nil {
		t.Fatalf("the TLS client after the plain one: %v", err)
	}
	if st := s.eng.Stats(); st.TLSHandshakeFailures != 1 || st.TLSHandshakes != 1 {
		t.Errorf("handshakes = %d, failures = %d; want 1, 1", st.TLSHandshakes, st.TLSHandshakeFailures)
	}
	select {
	case err := <-ev.closed:
		t.Errorf("OnClose(%v) for the plain-text client", err)
	default:
	}
	if out := logs.String(); !strings.Contains(out, "level=DEBUG") || !strings.Contains(out, "TLS handshake failed") {
		t.Errorf("the failed handshake was not logged at debug level; the log:\n%s", out)
	}
}

func TestTLSCloseNotifyVersusTruncation(t *testing.T) {
	ev := newTLSEvents()
	s := startEngine(t, ev.handler(), "tcp://127.0.0.1:0", WithLoops(1), WithTLS(tlsServerConfig(t)))

	// close_notify, then FIN: an orderly close, answered in kind.
	c := tlsDial(t, s, tlsClientConfig(0))
	if err := tbEcho(c, []byte("bye"), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := c.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	if err := tbRecv(t, ev.closed, 5*time.Second, "OnClose after close_notify"); err != nil {
		t.Errorf("OnClose after close_notify: %v, want nil", err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := c.Read(make([]byte, 16)); n != 0 || err != io.EOF {
		t.Errorf("client read after the close = %d, %v; want the server's close_notify (io.EOF)", n, err)
	}

	// A bare FIN under the TLS stream: truncation.
	raw := s.dial(t)
	c = tls.Client(raw, tlsClientConfig(0))
	if err := tbEcho(c, []byte("cut"), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := raw.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	err := tbRecv(t, ev.closed, 5*time.Second, "OnClose after a bare FIN")
	if !errors.Is(err, ErrTLSTruncated) || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("OnClose after a bare FIN: %v, want ErrTLSTruncated", err)
	}
}

func TestTLSConnectionStateFromOnOpen(t *testing.T) {
	ev := newTLSEvents()
	cfg := tlsServerConfig(t)
	cfg.NextProtos = []string{"h2", "http/1.1"}
	s := startEngine(t, ev.handler(), "tcp://127.0.0.1:0", WithLoops(1), WithTLS(cfg))
	ccfg := tlsClientConfig(0)
	ccfg.ServerName = "example.com"
	ccfg.NextProtos = []string{"http/1.1"}
	tlsDial(t, s, ccfg)
	st := tbRecv(t, ev.opened, 5*time.Second, "OnOpen")
	if !st.HandshakeComplete || st.NegotiatedProtocol != "http/1.1" || st.ServerName != "example.com" ||
		st.Version != tls.VersionTLS13 {
		t.Errorf("ConnectionState in OnOpen: complete %v, ALPN %q, SNI %q, version %x",
			st.HandshakeComplete, st.NegotiatedProtocol, st.ServerName, st.Version)
	}

	plainEv := newTLSEvents()
	p := startEngine(t, plainEv.handler(), "tcp://127.0.0.1:0", WithLoops(1))
	p.dial(t)
	if st := tbRecv(t, plainEv.opened, 5*time.Second, "plain OnOpen"); st.HandshakeComplete {
		t.Error("a plain connection reports a TLS state")
	}
}

// Stop while handshakes wait for bytes, some for a goroutine, and a client
// has sent nothing: every handshake goroutine ends, and none of the
// connections sees OnOpen or OnClose.
func TestTLSStopDuringHandshakes(t *testing.T) {
	base := goleak.IgnoreCurrent()
	ev := newTLSEvents()
	const n, limit = 8, 5
	s := startEngine(t, ev.handler(), "tcp://127.0.0.1:0", WithLoops(2), WithTLS(tlsServerConfig(t)),
		WithTLSHandshakeLimit(limit), WithLogger(tbQuietLogger()))
	s.dial(t) // silent
	for range n {
		c := s.dial(t)
		if _, err := c.Write([]byte{0x16, 3, 1, 0, 200, 1, 0}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for tlsRunning(s.eng.e) < limit || tlsWaiting(s.eng.e) < n-limit || s.eng.CountConnections() < n+1 {
		if time.Now().After(deadline) {
			t.Fatalf("%d handshakes running and %d waiting, want %d and %d (%d connections)",
				tlsRunning(s.eng.e), tlsWaiting(s.eng.e), limit, n-limit, s.eng.CountConnections())
		}
		time.Sleep(5 * time.Millisecond)
	}
	s.stop(t)
	goleak.VerifyNone(t, base)
	if st := s.eng.Stats(); st.TLSHandshakeFailures != n+1 {
		t.Errorf("TLSHandshakeFailures = %d, want %d", st.TLSHandshakeFailures, n+1)
	}
	if r, w := tlsRunning(s.eng.e), tlsWaiting(s.eng.e); r != 0 || w != 0 {
		t.Errorf("after Stop: %d handshakes running, %d waiting", r, w)
	}
	select {
	case <-ev.opened:
		t.Error("OnOpen ran")
	case err := <-ev.closed:
		t.Errorf("OnClose(%v) ran", err)
	default:
	}
}

func TestTLSOptionsValidated(t *testing.T) {
	for _, tc := range []struct {
		name string
		opt  Option
	}{
		{name: "no certificate", opt: WithTLS(&tls.Config{})},
		{name: "zero timeout", opt: WithTLSHandshakeTimeout(0)},
		{name: "zero limit", opt: WithTLSHandshakeLimit(0)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Run(echoHandler{}, "tcp://127.0.0.1:0", tc.opt)
			if !errors.Is(err, ErrInvalidOption) {
				t.Errorf("Run = %v, want ErrInvalidOption", err)
			}
		})
	}
}

// batchConn holds what is written until the next Read, then sends it with
// one write: records (and the last handshake flight with the first
// request) reach the server together.
type batchConn struct {
	net.Conn
	held []byte
}

func (b *batchConn) Write(p []byte) (int, error) {
	b.held = append(b.held, p...)
	return len(p), nil
}

func (b *batchConn) Read(p []byte) (int, error) {
	if len(b.held) > 0 {
		if _, err := b.Conn.Write(b.held); err != nil {
			return 0, err
		}
		b.held = b.held[:0]
	}
	return b.Conn.Read(p)
}

func TestTLSRecordsArrivingTogether(t *testing.T) {
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		s := startEngine(t, echoHandler{}, "tcp://127.0.0.1:0", WithLoops(1), WithTLS(tlsServerConfig(t)))
		c := tls.Client(&batchConn{Conn: s.dial(t)}, tlsClientConfig(v))
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		if err := c.Handshake(); err != nil {
			t.Fatal(err)
		}
		for round := range 3 {
			// In TLS 1.3 the first round travels with the client's
			// Finished: the server's handshake leaves it behind.
			var want []byte
			for i := range 10 {
				msg := tbPattern(round*100+i, 10+i*300)
				want = append(want, msg...)
				if _, err := c.Write(msg); err != nil {
					t.Fatal(err)
				}
			}
			got := make([]byte, len(want))
			if _, err := io.ReadFull(c, got); err != nil {
				t.Fatalf("version %x, round %d: %v", v, round, err)
			}
			if i := tbFirstDiff(got, want); i >= 0 {
				t.Fatalf("version %x, round %d: echo differs at byte %d", v, round, i)
			}
		}
	}
}

// The Conn API works unchanged on a TLS connection: OnOpen's output,
// Writev, Execute with AsyncWrite, and deadlines.
func TestTLSConnAPIUnchanged(t *testing.T) {
	closed := make(chan error, 1)
	h := &tbHandler{
		open: func(c Conn) ([]byte, Action) {
			_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
			return []byte("hello "), None
		},
		traffic: func(c Conn) Action {
			b, _ := c.Next(-1)
			if string(b) == "v" {
				if _, err := c.Writev([][]byte{[]byte("["), b, []byte("]")}); err != nil {
					return Close
				}
				return None
			}
			b = append([]byte(nil), b...)
			if err := c.Execute(func() { _ = c.AsyncWrite(append(append([]byte("<"), b...), '>'), nil) }); err != nil {
				return Close
			}
			return None
		},
		close: func(c Conn, err error) Action {
			closed <- err
			return None
		},
	}
	s := startEngine(t, h, "tcp://127.0.0.1:0", WithLoops(1), WithTLS(tlsServerConfig(t)))
	c := tlsDial(t, s, tlsClientConfig(0))
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	for _, step := range []struct{ send, want string }{
		{send: "", want: "hello "},
		{send: "v", want: "[v]"},
		{send: "job", want: "<job>"},
	} {
		if step.send != "" {
			if _, err := c.Write([]byte(step.send)); err != nil {
				t.Fatal(err)
			}
		}
		got := make([]byte, len(step.want))
		if _, err := io.ReadFull(c, got); err != nil || string(got) != step.want {
			t.Fatalf("after %q: %q, %v; want %q", step.send, got, err, step.want)
		}
	}
	if err := tbRecv(t, closed, 5*time.Second, "OnClose at the read deadline"); !errors.Is(err, ErrReadTimeout) {
		t.Errorf("OnClose: %v, want ErrReadTimeout", err)
	}
}

// tlsRunning returns how many handshake goroutines e runs, and how many
// handshakes wait for one.
func tlsRunning(e *engine) int {
	e.tlsQueue.mu.Lock()
	defer e.tlsQueue.mu.Unlock()
	return e.tlsQueue.running
}

func tlsWaiting(e *engine) int {
	e.tlsQueue.mu.Lock()
	defer e.tlsQueue.mu.Unlock()
	return len(e.tlsQueue.waiting)
}

// tbStallHandshake opens a connection that sends the start of a
// ClientHello and no more, and waits until its handshake goroutine runs.
func tbStallHandshake(tb testing.TB, s *testServer) net.Conn {
	tb.Helper()
	c := s.dial(tb)
	if _, err := c.Write([]byte{0x16, 3, 1, 0, 200, 1, 0}); err != nil {
		tb.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for tlsRunning(s.eng.e) < 1 {
		if time.Now().After(deadline) {
			tb.Fatal("the stalled handshake did not start")
		}
		time.Sleep(time.Millisecond)
	}
	return c
}

// At the handshake limit, a handshake waits in line, without a goroutine,
// and runs as soon as one ends.
func TestTLSHandshakeLimitQueues(t *testing.T) {
	s := startEngine(t, echoHandler{}, "tcp://127.0.0.1:0", WithLoops(1), WithTLS(tlsServerConfig(t)),
		WithTLSHandshakeLimit(1), WithLogger(tbQuietLogger()))
	stalled := tbStallHandshake(t, s)
	deadline := time.Now().Add(5 * time.Second)
	done := make(chan error, 1)
	raw := s.dial(t)
	go func() {
		c := tls.Client(raw, tlsClientConfig(0))
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		err := c.Handshake()
		if err == nil {
			err = tbEcho(c, []byte("after the line"), 5*time.Second)
		}
		done <- err
	}()
	for tlsWaiting(s.eng.e) < 1 {
		if time.Now().After(deadline) {
			t.Fatal("the second handshake is not waiting in line")
		}
		time.Sleep(time.Millisecond)
	}
	if n := tlsRunning(s.eng.e); n != 1 {
		t.Fatalf("%d handshake goroutines at a limit of 1", n)
	}
	select {
	case err := <-done:
		t.Fatalf("the second handshake ended (%v) while the first held the only goroutine", err)
	case <-time.After(100 * time.Millisecond):
	}
	stalled.Close() // its handshake fails; the goroutine takes the next in line
	if err := tbRecv(t, done, 10*time.Second, "the waiting handshake"); err != nil {
		t.Fatal(err)
	}
	if st := s.eng.Stats(); st.TLSHandshakes != 1 || st.TLSHandshakeFailures != 1 {
		t.Errorf("handshakes = %d, failures = %d; want 1, 1", st.TLSHandshakes, st.TLSHandshakeFailures)
	}
}

// What a peer sends before its handshake ends is bounded (by
// WithInboundLimit, at least 1 MiB): beyond it the loop stops reading, and
// TCP flow control holds the peer back.
func TestTLSHandshakeInputBounded(t *testing.T) {
	s := startEngine(t, echoHandler{}, "tcp://127.0.0.1:0", WithLoops(1), WithTLS(tlsServerConfig(t)),
		WithTLSHandshakeLimit(1), WithInboundLimit(64<<10), WithSocketRecvBuffer(128<<10),
		WithLogger(tbQuietLogger()))
	tbStallHandshake(t, s) // holds the only handshake goroutine
	flood := s.dial(t)     // waits in line, reading until the limit
	_ = flood.(*net.TCPConn).SetWriteBuffer(128 << 10)
	_ = flood.SetWriteDeadline(time.Now().Add(time.Second))
	n, err := flood.Write(make([]byte, 64<<20))
	t.Logf("the kernels and the loop took %d bytes before the write blocked", n)
	// Two socket buffers of 128 KiB (which the kernel doubles) and 1 MiB:
	// under 4 MiB; a loop that kept reading takes tens.
	if err == nil || n > 4<<20 {
		t.Fatalf("the server took %d bytes sent before a handshake (write: %v)", n, err)
	}
}
