package main

import (
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"github.com/evloop/evloop/benchmarks/internal/fakesrv"
	"github.com/evloop/evloop/benchmarks/internal/tlscert"
)

// fakeTLSEcho serves echo over crypto/tls on a loopback port until the test
// ends. corrupt, when set, may change the bytes of the n-th read of each
// connection (counting from 0) before they are written back.
func fakeTLSEcho(t *testing.T, corrupt func(n int, b []byte)) string {
	t.Helper()
	cfg, err := tlscert.Config()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	return fakesrv.Serve(t, ln, fakesrv.Echo(corrupt))
}

func tlsConfig(addr string) config {
	return config{proto: "echo", addr: addr, conns: 2, size: 1 << 10, pipeline: 1,
		warmup: 50 * time.Millisecond, duration: 200 * time.Millisecond, timeout: 5 * time.Second, parallel: 2, tls: true}
}

func TestTLSEcho(t *testing.T) {
	res, err := run(tlsConfig(fakeTLSEcho(t, nil)))
	if err != nil || res.Msgs == 0 || !res.TLS {
		t.Fatalf("a correct TLS echo server: %d messages, tls %v, error %v", res.Msgs, res.TLS, err)
	}
}

// TestTLSWrongEchoIsCaught: a byte changed in the plaintext a TLS server
// echoes (the records themselves are valid) fails the run.
func TestTLSWrongEchoIsCaught(t *testing.T) {
	addr := fakeTLSEcho(t, func(n int, b []byte) {
		if n == 20 {
			b[len(b)/2] ^= 0xff
		}
	})
	_, err := run(tlsConfig(addr))
	if err == nil || !strings.Contains(err.Error(), "came back with other bytes") {
		t.Fatalf("a wrong echo over TLS: error %v, want one about other bytes", err)
	}
}

// TestTLSAgainstPlainServer: -tls does speak TLS: a plain echo server
// sends the ClientHello back, which is no handshake.
func TestTLSAgainstPlainServer(t *testing.T) {
	_, err := run(tlsConfig(fakesrv.Listen(t, fakesrv.Echo(nil))))
	if err == nil || !strings.Contains(err.Error(), "handshake") {
		t.Fatalf("-tls against a plain echo server: error %v, want a failed handshake", err)
	}
}
