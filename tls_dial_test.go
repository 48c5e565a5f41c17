package evloop

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// The client side of TLS: Engine.DialTLS and Loop.DialTLS against a
// crypto/tls server and an evloop one.

// tdServer is a TLS echo server: crypto/tls over std net ("std") or an
// evloop engine with WithTLS ("evloop"). sni and alpn report what each
// connection negotiated, as the server saw it.
type tdServer struct {
	addr string
	sni  chan string
	alpn chan string
}

func startTLSServer(tb testing.TB, kind string, cfg *tls.Config) *tdServer {
	tb.Helper()
	s := &tdServer{sni: make(chan string, 16), alpn: make(chan string, 16)}
	if kind == "evloop" {
		h := &tbHandler{
			open: func(c Conn) ([]byte, Action) {
				st, _ := c.ConnectionState()
				s.sni <- st.ServerName
				s.alpn <- st.NegotiatedProtocol
				return nil, None
			},
			traffic: echoHandler{}.OnTraffic,
		}
		es := startEngine(tb, h, "tcp://127.0.0.1:0", WithLoops(1), WithTLS(cfg), WithLogger(tbQuietLogger()))
		s.addr = es.addr.String()
		return s
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		tb.Fatal(err)
	}
	done := make(chan struct{})
	tb.Cleanup(func() { ln.Close(); <-done })
	s.addr = ln.Addr().String()
	go func() {
		defer close(done)
		var conns []net.Conn
		finished := make(chan struct{}, 64)
		defer func() {
			for _, c := range conns {
				c.Close()
			}
			for range conns {
				<-finished
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
			go func() {
				defer func() { finished <- struct{}{} }()
				tc := c.(*tls.Conn)
				_ = tc.SetDeadline(time.Now().Add(10 * time.Second))
				if tc.Handshake() != nil {
					c.Close()
					return
				}
				st := tc.ConnectionState()
				s.sni <- st.ServerName
				s.alpn <- st.NegotiatedProtocol
				_, _ = io.Copy(c, c)
				c.Close()
			}()
		}
	}()
	return s
}

// tdClient is a client engine whose handler reports OnOpen, OnClose and
// the bytes received.
type tdClient struct {
	s      *testServer
	opened chan tls.ConnectionState
	closed chan error
	got    chan []byte
}

func startTLSClient(tb testing.TB, opts ...Option) *tdClient {
	tb.Helper()
	c := &tdClient{opened: make(chan tls.ConnectionState, 16), closed: make(chan error, 16), got: make(chan []byte, 64)}
	h := &tbHandler{
		open: func(cn Conn) ([]byte, Action) {
			st, _ := cn.ConnectionState()
			c.opened <- st
			return nil, None
		},
		traffic: func(cn Conn) Action {
			b, _ := cn.Next(-1)
			c.got <- bytes.Clone(b)
			return None
		},
		close: func(_ Conn, err error) Action { c.closed <- err; return None },
	}
	c.s = dtStartClient(tb, h, append([]Option{WithLoops(1), WithLogger(tbQuietLogger())}, opts...)...)
	return c
}

// echo sends msg on cn and waits for it to come back.
func (c *tdClient) echo(tb testing.TB, cn Conn, msg []byte) {
	tb.Helper()
	if err := cn.AsyncWrite(msg, nil); err != nil {
		tb.Fatal(err)
	}
	var got []byte
	for len(got) < len(msg) {
		got = append(got, tbRecv(tb, c.got, 5*time.Second, "echo")...)
	}
	if !bytes.Equal(got, msg) {
		tb.Fatalf("echo: got %d bytes, want %q", len(got), msg)
	}
}

// dialTLS dials with a 5 s bound.
func (c *tdClient) dialTLS(address string, cfg *tls.Config) (Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return c.s.eng.DialTLS(ctx, "tcp", address, cfg)
}

var tdServerKinds = []string{"std", "evloop"}

func TestDialTLSRoundTrip(t *testing.T) {
	for _, kind := range tdServerKinds {
		for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
			t.Run(kind+"/"+tls.VersionName(v), func(t *testing.T) {
				srv := startTLSServer(t, kind, tlsServerConfig(t))
				cl := startTLSClient(t)
				cn, err := cl.dialTLS(srv.addr, tlsClientConfig(v))
				if err != nil {
					t.Fatal(err)
				}
				st := tbRecv(t, cl.opened, 5*time.Second, "OnOpen")
				if st.Version != v || !st.HandshakeComplete || len(st.PeerCertificates) == 0 {
					t.Errorf("OnOpen's state: version %x, complete %v, %d certificates", st.Version, st.HandshakeComplete, len(st.PeerCertificates))
				}
				for i := range 5 {
					cl.echo(t, cn, tbPattern(i*100, 1+i*7000))
				}
				if err := cn.Close(); err != nil {
					t.Fatal(err)
				}
				if err := tbRecv(t, cl.closed, 5*time.Second, "OnClose"); err != nil {
					t.Errorf("OnClose(%v)", err)
				}
				if st := cl.s.eng.Stats(); st.Dialed != 1 || st.TLSHandshakes != 1 || st.DialFailures != 0 {
					t.Errorf("stats: dialed %d, handshakes %d, dial failures %d", st.Dialed, st.TLSHandshakes, st.DialFailures)
				}
			})
		}
	}
}

// TestDialTLSUnknownAuthority: a server certificate nobody trusts fails the
// dial with crypto/tls's error, the x509 one under it; no handler runs.
func TestDialTLSUnknownAuthority(t *testing.T) {
	for _, kind := range tdServerKinds {
		t.Run(kind, func(t *testing.T) {
			srv := startTLSServer(t, kind, tlsServerConfig(t))
			cl := startTLSClient(t)
			_, pool := tlsMakeCert("another CA", "localhost")
			cn, err := cl.dialTLS(srv.addr, &tls.Config{RootCAs: pool, ServerName: "localhost"})
			if err == nil || cn != nil {
				t.Fatalf("DialTLS = %v, %v; want an error", cn, err)
			}
			var op *net.OpError
			var ua x509.UnknownAuthorityError
			var ve *tls.CertificateVerificationError
			if !errors.As(err, &op) || op.Op != "dial" || !errors.As(err, &ua) || !errors.As(err, &ve) {
				t.Errorf("error %T %v: want a dial *net.OpError over tls.CertificateVerificationError and x509.UnknownAuthorityError", err, err)
			}
			select {
			case <-cl.opened:
				t.Error("OnOpen ran")
			case err := <-cl.closed:
				t.Errorf("OnClose(%v) ran", err)
			case <-time.After(50 * time.Millisecond):
			}
			if st := cl.s.eng.Stats(); st.Dialed != 0 || st.DialFailures != 1 || st.TLSHandshakeFailures != 1 || cl.s.eng.CountConnections() != 0 {
				t.Errorf("dialed %d, dial failures %d, handshake failures %d, connections %d; want 0, 1, 1, 0",
					st.Dialed, st.DialFailures, st.TLSHandshakeFailures, cl.s.eng.CountConnections())
			}
		})
	}
}

// TestDialTLSServerNameAndALPN: without ServerName the host dialed is the
// name sent and verified, as tls.Dial does; ALPN is negotiated.
func TestDialTLSServerNameAndALPN(t *testing.T) {
	for _, kind := range tdServerKinds {
		t.Run(kind, func(t *testing.T) {
			scfg := tlsServerConfig(t)
			scfg.NextProtos = []string{"h2", "evloop/1"}
			srv := startTLSServer(t, kind, scfg)
			_, port, _ := net.SplitHostPort(srv.addr)
			cl := startTLSClient(t)
			_, pool := tlsTestCerts()
			for _, tc := range []struct {
				host, sni string
			}{
				{host: "localhost", sni: "localhost"},
				{host: "127.0.0.1", sni: ""}, // verified against the IP; no SNI for an address
			} {
				cfg := &tls.Config{RootCAs: pool, NextProtos: []string{"evloop/1"}}
				cn, err := cl.dialTLS(net.JoinHostPort(tc.host, port), cfg)
				if err != nil {
					t.Fatalf("%s: %v", tc.host, err)
				}
				if cfg.ServerName != "" {
					t.Error("the caller's configuration was changed")
				}
				st := tbRecv(t, cl.opened, 5*time.Second, "OnOpen")
				if st.NegotiatedProtocol != "evloop/1" || st.ServerName != tc.sni {
					t.Errorf("%s: client negotiated %q for %q", tc.host, st.NegotiatedProtocol, st.ServerName)
				}
				if sni := tbRecv(t, srv.sni, 5*time.Second, "server's SNI"); sni != tc.sni {
					t.Errorf("%s: server saw SNI %q, want %q", tc.host, sni, tc.sni)
				}
				if p := tbRecv(t, srv.alpn, 5*time.Second, "server's ALPN"); p != "evloop/1" {
					t.Errorf("%s: server negotiated %q", tc.host, p)
				}
				cl.echo(t, cn, []byte("ping"))
				_ = cn.Close()
			}
		})
	}
}

// TestDialTLSSessionResumption: the second dial with the same
// ClientSessionCache resumes; TLS 1.3's ticket, which arrives after the
// handshake, is stored from the loop.
func TestDialTLSSessionResumption(t *testing.T) {
	for _, kind := range tdServerKinds {
		for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
			t.Run(kind+"/"+tls.VersionName(v), func(t *testing.T) {
				srv := startTLSServer(t, kind, tlsServerConfig(t))
				cl := startTLSClient(t)
				cfg := tlsClientConfig(v)
				cfg.ClientSessionCache = tls.NewLRUClientSessionCache(4)
				for i := range 2 {
					cn, err := cl.dialTLS(srv.addr, cfg)
					if err != nil {
						t.Fatal(err)
					}
					st := tbRecv(t, cl.opened, 5*time.Second, "OnOpen")
					if st.DidResume != (i == 1) {
						t.Errorf("connection %d: DidResume = %v", i, st.DidResume)
					}
					cl.echo(t, cn, []byte("resume?")) // and the ticket is read
					_ = cn.Close()
					tbRecv(t, cl.closed, 5*time.Second, "OnClose")
				}
			})
		}
	}
}

// TestLoopDialTLS: the callback gets the open connection after OnOpen, or
// the handshake's error; OnOpen sees the dial's context.
func TestLoopDialTLS(t *testing.T) {
	srv := startTLSServer(t, "std", tlsServerConfig(t))
	cl := startTLSClient(t)
	type result struct {
		c       Conn
		err     error
		ctx     any
		stateOK bool
	}
	results := make(chan result, 2)
	cb := func(c Conn, err error) {
		r := result{c: c, err: err}
		if c != nil {
			r.ctx = c.Context()
			_, r.stateOK = c.ConnectionState()
		}
		results <- r
	}
	lp := cl.s.eng.Loops()[0]
	if err := lp.DialTLS("tcp", srv.addr, tlsClientConfig(0), 5*time.Second, "backend", cb); err != nil {
		t.Fatal(err)
	}
	r := tbRecv(t, results, 5*time.Second, "dial callback")
	if r.err != nil || r.ctx != "backend" || !r.stateOK {
		t.Fatalf("callback: err %v, context %v, state %v", r.err, r.ctx, r.stateOK)
	}
	tbRecv(t, cl.opened, time.Second, "OnOpen")
	cl.echo(t, r.c, []byte("over the loop"))

	bad := &tls.Config{ServerName: "localhost"} // the system's roots do not know the test CA
	if err := lp.DialTLS("tcp", srv.addr, bad, 5*time.Second, nil, cb); err != nil {
		t.Fatal(err)
	}
	r = tbRecv(t, results, 5*time.Second, "dial callback")
	var ve *tls.CertificateVerificationError
	if r.c != nil || !errors.As(r.err, &ve) {
		t.Errorf("callback: %v, %v; want a certificate verification error", r.c, r.err)
	}
}

// silentServer accepts connections and never answers.
func silentServer(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		var conns []net.Conn
		for {
			c, err := ln.Accept()
			if err != nil {
				for _, c := range conns {
					c.Close()
				}
				return
			}
			conns = append(conns, c)
		}
	}()
	tb.Cleanup(func() { ln.Close(); <-done })
	return ln.Addr().String()
}

// TestDialTLSHandshakeTimeout: a server that never answers fails the dial
// at its deadline, or at WithTLSHandshakeTimeout without one.
func TestDialTLSHandshakeTimeout(t *testing.T) {
	addr := silentServer(t)
	cl := startTLSClient(t, WithTLSHandshakeTimeout(150*time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := cl.s.eng.DialTLS(ctx, "tcp", addr, tlsClientConfig(0)); !errors.Is(err, ErrDialTimeout) {
		t.Errorf("with a deadline: %v, want ErrDialTimeout", err)
	}
	if _, err := cl.s.eng.DialTLS(context.Background(), "tcp", addr, tlsClientConfig(0)); !errors.Is(err, ErrDialTimeout) {
		t.Errorf("with WithTLSHandshakeTimeout: %v, want ErrDialTimeout", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %v", d)
	}
	ctx2, cancel2 := context.WithCancel(context.Background())
	go func() { time.Sleep(50 * time.Millisecond); cancel2() }()
	if _, err := cl.s.eng.DialTLS(ctx2, "tcp", addr, tlsClientConfig(0)); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v, want context.Canceled", err)
	}
	if n := cl.s.eng.CountConnections(); n != 0 {
		t.Errorf("CountConnections = %d", n)
	}
}

// TestDialTLSStopDuringHandshake: Stop ends client handshakes in flight,
// each dial reported once with ErrEngineStopped, and no goroutine stays.
func TestDialTLSStopDuringHandshake(t *testing.T) {
	addr := silentServer(t)
	base := goleak.IgnoreCurrent()
	cl := startTLSClient(t, WithLoops(2), WithTLSHandshakeLimit(2))
	const n = 4
	errs := make(chan error, 2*n)
	for i := range n {
		lp := cl.s.eng.Loops()[i%2]
		if err := lp.DialTLS("tcp", addr, tlsClientConfig(0), 0, nil, func(c Conn, err error) { errs <- err }); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for tlsRunning(cl.s.eng.e) < 2 || tlsWaiting(cl.s.eng.e) < n-2 {
		if time.Now().After(deadline) {
			t.Fatalf("%d handshakes running, %d waiting", tlsRunning(cl.s.eng.e), tlsWaiting(cl.s.eng.e))
		}
		time.Sleep(5 * time.Millisecond)
	}
	cl.s.stop(t)
	for i := range n {
		if err := tbRecv(t, errs, time.Second, "dial "+strconv.Itoa(i)); !errors.Is(err, ErrEngineStopped) {
			t.Errorf("dial %d: %v, want ErrEngineStopped", i, err)
		}
	}
	select {
	case err := <-errs:
		t.Errorf("a dial reported twice: %v", err)
	case <-cl.opened:
		t.Error("OnOpen ran")
	case err := <-cl.closed:
		t.Errorf("OnClose(%v) ran", err)
	case <-time.After(50 * time.Millisecond):
	}
	goleak.VerifyNone(t, base)
}

// TestDialTLSServerSpeaksAndCloses: a server that writes and closes right
// after its handshake: the client gets the bytes, then OnClose without an
// error (close_notify came before the FIN), whether the FIN arrives before
// or after its handshake goroutine ends.
func TestDialTLSServerSpeaksAndCloses(t *testing.T) {
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		t.Run(tls.VersionName(v), func(t *testing.T) {
			ln, err := tls.Listen("tcp", "127.0.0.1:0", tlsServerConfig(t))
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan struct{})
			defer func() { ln.Close(); <-done }()
			go func() {
				defer close(done)
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					_, _ = c.Write([]byte("bye"))
					c.Close()
				}
			}()
			cl := startTLSClient(t)
			cfg := tlsClientConfig(v)
			cfg.ClientSessionCache = tls.NewLRUClientSessionCache(4)
			for i := range 20 {
				if _, err := cl.dialTLS(ln.Addr().String(), cfg); err != nil {
					t.Fatalf("dial %d: %v", i, err)
				}
				tbRecv(t, cl.opened, 5*time.Second, "OnOpen")
				var got []byte
				for len(got) < 3 {
					got = append(got, tbRecv(t, cl.got, 5*time.Second, "bye")...)
				}
				if string(got) != "bye" {
					t.Fatalf("dial %d: got %q", i, got)
				}
				if err := tbRecv(t, cl.closed, 5*time.Second, "OnClose"); err != nil {
					t.Fatalf("dial %d: OnClose(%v)", i, err)
				}
			}
		})
	}
}

// TestDialTLSOverUnixSocket: a unix socket has no host to name the
// server, so ServerName is the caller's to give.
func TestDialTLSOverUnixSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tls.sock")
	startEngine(t, echoHandler{}, "unix://"+path, WithLoops(1), WithTLS(tlsServerConfig(t)), WithLogger(tbQuietLogger()))
	cl := startTLSClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cn, err := cl.s.eng.DialTLS(ctx, "unix", path, tlsClientConfig(0))
	if err != nil {
		t.Fatal(err)
	}
	tbRecv(t, cl.opened, 5*time.Second, "OnOpen")
	cl.echo(t, cn, []byte("over a unix socket"))
	_, pool := tlsTestCerts()
	if _, err := cl.s.eng.DialTLS(ctx, "unix", path, &tls.Config{RootCAs: pool}); err == nil {
		t.Error("a unix dial without ServerName verified the server")
	}
}
