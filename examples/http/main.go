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
//	go run ./examples/http -addr tcp://127.0.0.1:9000 -loops 2
//	curl -v http://127.0.0.1:9000/
//	wrk -t1 -c50 -d10s -s examples/http/testdata/pipeline.lua http://127.0.0.1:9000/ -- 16
//
// SIGINT or SIGTERM stops it gracefully; a second signal kills it.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"runtime"
	"syscall"
)

func main() {
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if err != nil {
		os.Exit(2) // the flag package has already printed the problem and the usage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// After the first signal, restore the default handling so that a second
	// one kills a server whose graceful stop hangs.
	context.AfterFunc(ctx, stop)
	err = serve(ctx, cfg, func(addr net.Addr) {
		fmt.Printf("http listening on %s://%s\n", addr.Network(), addr)
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "http:", err)
		stop()
		os.Exit(1)
	}
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
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		err := fmt.Errorf("unexpected arguments: %q", fs.Args())
		fmt.Fprintln(output, err)
		fs.Usage()
		return config{}, err
	}
	return cfg, nil
}
