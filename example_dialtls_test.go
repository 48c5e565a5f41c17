package evloop_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/evloop/evloop"
)

// A TLS client: Engine.DialTLS returns once the handshake has succeeded
// and OnOpen has run; the handler sees plaintext.
func ExampleEngine_DialTLS() {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello over %s", r.Proto)
	}))
	defer srv.Close()
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h := &printer{booted: make(chan evloop.Engine, 1), got: make(chan string, 8)}
	done := make(chan error, 1)
	go func() { done <- evloop.RunAddrsContext(ctx, h, nil, evloop.WithLoops(1)) }()
	eng := <-h.booted

	// ServerName defaults to the host dialed, here 127.0.0.1, which the
	// test server's certificate names.
	addr := strings.TrimPrefix(srv.URL, "https://")
	c, err := eng.DialTLS(ctx, "tcp", addr, &tls.Config{RootCAs: roots, NextProtos: []string{"http/1.1"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	st, _ := c.ConnectionState()
	fmt.Println("ALPN:", st.NegotiatedProtocol)
	c.AsyncWrite([]byte("GET / HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n"), nil)
	var resp string
	for !strings.HasSuffix(resp, "HTTP/1.1") {
		resp += <-h.got
	}
	fmt.Println(resp[:strings.Index(resp, "\r\n")])
	fmt.Println(resp[strings.LastIndex(resp, "\n")+1:])

	cancel()
	fmt.Println("stopped:", <-done)
	// Output:
	// ALPN: http/1.1
	// HTTP/1.1 200 OK
	// hello over HTTP/1.1
	// stopped: <nil>
}
