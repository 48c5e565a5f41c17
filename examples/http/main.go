// Command http is an HTTP/1.1 server in the shape of the TechEmpower
// "plaintext" test: every request gets "200 OK" and "Hello, World!".
// Pipelined requests are answered in one write per batch, and in steady
// state a request costs no allocation.
//
// With -blocking, each request is answered by a job on the engine's
// goroutine pool instead, as a server whose handlers block would be, with
// pipelined requests still answered in order (Conn.Execute); responses
// then carry the request's target in an X-Path field.
//
// Two timeouts protect the server from clients that hold connections
// without using them, and both are on by default, unlike net/http's
// Server, whose zero values mean no limit:
//
//   - -read-header-timeout (default 10s): a request's header must arrive
//     whole within this long of its first byte, or the client gets
//     "408 Request Timeout" and the connection closes. Sending a byte at
//     a time (slowloris) does not extend it. A body is not covered: once
//     the header is complete the limit is off until the next request.
//   - -idle-timeout (default 60s): a connection that has neither received
//     nor sent a byte for this long is closed, among them keep-alive
//     connections between requests and connections that never send.
//
// A value of 0 turns either off.
//
// With -stats-addr host:port, the engine's statistics (Engine.Stats: every
// loop's connections, bytes, calls, blocked writes, busy-time histogram...)
// are served as JSON by expvar at http://host:port/debug/vars.
//
//	go run ./examples/http -addr tcp://127.0.0.1:9000 -loops 2
//	curl -v http://127.0.0.1:9000/
//	wrk -t1 -c50 -d10s -s examples/http/testdata/pipeline.lua http://127.0.0.1:9000/ -- 16
//	go run ./examples/http -stats-addr 127.0.0.1:9001 & curl -s http://127.0.0.1:9001/debug/vars
//
// With -tls-cert FILE -tls-key FILE, or -tls-self-signed (a certificate for
// 127.0.0.1, ::1 and localhost made at startup, its SHA-256 fingerprint
// printed), it serves HTTPS (evloop.WithTLS, ALPN http/1.1):
//
//	go run ./examples/http -tls-self-signed
//	curl --insecure https://127.0.0.1:9000/
//	wrk -t1 -c50 -d10s https://127.0.0.1:9000/
//
// SIGINT or SIGTERM stops it gracefully; a second signal kills it.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"runtime"
	"time"

	"github.com/evloop/evloop/examples/internal/cli"
)

func main() {
	cli.Main("http", parseFlags, func(ctx context.Context, cfg config, ready func(net.Addr)) error {
		return serveStats(ctx, cfg, ready, func(addr net.Addr) {
			fmt.Printf("statistics at http://%s/debug/vars\n", addr)
		})
	})
}

// parseFlags reads the command line into a config; usage and errors go to
// output.
func parseFlags(args []string, output io.Writer) (config, error) {
	fs := flag.NewFlagSet("http", flag.ContinueOnError)
	fs.SetOutput(output)
	var cfg config
	fs.StringVar(&cfg.addr, "addr", "tcp://127.0.0.1:9000", "address to listen on: tcp://host:port, host:port or unix:///path")
	fs.IntVar(&cfg.loops, "loops", runtime.GOMAXPROCS(0), "number of event loops")
	fs.BoolVar(&cfg.reusePort, "reuseport", false, "give every loop its own SO_REUSEPORT listener instead of one acceptor")
	fs.BoolVar(&cfg.blocking, "blocking", false, "answer each request from the goroutine pool, in order, with an X-Path field")
	fs.DurationVar(&cfg.readHeaderTimeout, "read-header-timeout", 10*time.Second,
		"answer 408 and close when a request's header is not complete this long after its first byte (0: no limit)")
	fs.DurationVar(&cfg.idleTimeout, "idle-timeout", 60*time.Second,
		"close a connection that has neither received nor sent a byte for this long (0: never)")
	fs.StringVar(&cfg.statsAddr, "stats-addr", "",
		"serve the engine's statistics as JSON at http://ADDR/debug/vars (host:port; empty: off)")
	cfg.tls.Register(fs)
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	var err error
	switch {
	case fs.NArg() > 0:
		err = fmt.Errorf("unexpected arguments: %q", fs.Args())
	case cfg.readHeaderTimeout < 0:
		err = fmt.Errorf("-read-header-timeout %v: must not be negative", cfg.readHeaderTimeout)
	case cfg.idleTimeout < 0:
		err = fmt.Errorf("-idle-timeout %v: must not be negative", cfg.idleTimeout)
	default:
		err = cfg.tls.Check()
	}
	if err != nil {
		fmt.Fprintln(output, err)
		fs.Usage()
		return config{}, err
	}
	return cfg, nil
}
