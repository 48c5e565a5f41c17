// Command nbhttp is lesismal/nbio's HTTP server (http only), run the way
// its users run it: an http.Handler writing the body, served by nbhttp's
// parser with the handler on nbhttp's goroutine pool (its default
// executor), -loops pollers. nbhttp parses requests itself, so its
// per-request work is its own, not package plaintext's. With -tls it
// serves https as nbhttp's users do: the address in AddrsTLS with a
// TLSConfig of github.com/lesismal/llib/std/crypto/tls (nbio's fork of
// crypto/tls) holding a self-signed ECDSA certificate, the fork's
// defaults otherwise.
package main

import (
	"net/http"

	"github.com/lesismal/llib/std/crypto/tls"
	"github.com/lesismal/nbio/logging"
	"github.com/lesismal/nbio/nbhttp"

	"github.com/evloop/evloop/benchmarks/internal/plaintext"
	"github.com/evloop/evloop/benchmarks/internal/server"
	"github.com/evloop/evloop/benchmarks/internal/tlscert"
)

func main() {
	cfg := server.SetupTLS("nbhttp", []string{"http"}, "http")
	logging.SetLevel(logging.LevelError)
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hdr := w.Header()
		hdr["Content-Type"] = []string{"text/plain"}
		hdr["Server"] = []string{"nbhttp"}
		_, _ = w.Write(plaintext.Body)
	})
	conf := nbhttp.Config{
		Network: "tcp",
		Addrs:   []string{cfg.Addr},
		NPoller: cfg.Loops,
		// nbhttp closes connections beyond MaxLoad (default 10,000); the
		// idle scenarios hold up to 100,000.
		MaxLoad: 1 << 20,
		Handler: h,
	}
	if cfg.TLS {
		certPEM, keyPEM, err := tlscert.PEM()
		if err != nil {
			server.Fatal("nbhttp", err)
		}
		cert, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			server.Fatal("nbhttp", err)
		}
		conf.Addrs, conf.AddrsTLS = nil, []string{cfg.Addr}
		conf.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	}
	engine := nbhttp.NewEngine(conf)
	if err := engine.Start(); err != nil {
		server.Fatal("nbhttp", err)
	}
	select {}
}
