// Command fasthttp is the fasthttp contestant (http only). fasthttp parses
// requests itself, so its per-request work is its own, not package
// plaintext's.
package main

import (
	"net"

	"github.com/valyala/fasthttp"

	"github.com/evloop/evloop/benchmarks/internal/plaintext"
	"github.com/evloop/evloop/benchmarks/internal/server"
)

func main() {
	cfg := server.Setup("fasthttp", "http")
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		server.Fatal("fasthttp", err)
	}
	s := &fasthttp.Server{
		Name: "fasthttp",
		Handler: func(ctx *fasthttp.RequestCtx) {
			ctx.SetContentType("text/plain")
			_, _ = ctx.Write(plaintext.Body)
		},
		Concurrency: 256 << 10, // the default; above it fasthttp refuses connections
	}
	server.Fatal("fasthttp", s.Serve(ln))
}
