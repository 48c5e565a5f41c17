// Command nethttp is the net/http contestant (http only): the server most Go
// users start with. net/http parses requests itself, so its per-request work
// is its own, not package plaintext's.
package main

import (
	"net"
	"net/http"

	"github.com/evloop/evloop/benchmarks/internal/plaintext"
	"github.com/evloop/evloop/benchmarks/internal/server"
)

func main() {
	cfg := server.Setup("nethttp", "http")
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		server.Fatal("nethttp", err)
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hdr := w.Header()
		hdr["Content-Type"] = []string{"text/plain"}
		hdr["Server"] = []string{"nethttp"}
		_, _ = w.Write(plaintext.Body)
	})
	server.Fatal("nethttp", http.Serve(ln, h))
}
