// Command proxy is an evloop TCP proxy: every client connection gets a
// connection of its own to the backend, and bytes flow both ways.
//
//	go run ./examples/echo -addr tcp://127.0.0.1:9000 &
//	go run ./examples/proxy -addr tcp://127.0.0.1:9001 -backend tcp://127.0.0.1:9000 -loops 2
//	go run ./examples/proxy -backend unix:///tmp/backend.sock
//
// Each client's backend connection is dialed with Loop.Dial onto the
// client's own loop, so the two ends of a pair talk with plain loop-local
// calls, with no lock and no copy through a queue. What a client sends
// before its backend is connected waits and is forwarded once it is.
// Backpressure crosses the proxy: when one end's pending output passes the
// high watermark, the proxy stops reading the other end until the output
// drains, so a client that reads slowly slows the backend down through TCP
// flow control instead of growing the proxy's memory. A FIN from either
// side is passed on as a FIN (half-close); a backend that refuses the
// connection closes its client at once, and one that resets closes it with
// a reset. SIGINT or SIGTERM stops it gracefully; a second signal kills it.
package main

import (
	"flag"
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/evloop/evloop/examples/internal/cli"
)

func main() { cli.Main("proxy", parseFlags, serve) }

// parseFlags reads the command line into a config; usage and errors go to
// output.
func parseFlags(args []string, output io.Writer) (config, error) {
	fs := flag.NewFlagSet("proxy", flag.ContinueOnError)
	fs.SetOutput(output)
	var cfg config
	var backend string
	fs.StringVar(&cfg.addr, "addr", "tcp://127.0.0.1:9001", "address to listen on for clients: tcp://host:port, host:port or unix:///path")
	fs.StringVar(&backend, "backend", "tcp://127.0.0.1:9000", "the server behind the proxy: tcp://host:port, host:port or unix:///path")
	fs.IntVar(&cfg.loops, "loops", runtime.GOMAXPROCS(0), "number of event loops")
	fs.BoolVar(&cfg.reusePort, "reuseport", false, "give every loop its own SO_REUSEPORT listener instead of one acceptor")
	fs.DurationVar(&cfg.dialTimeout, "dial-timeout", 5*time.Second, "how long a backend connection may take to connect")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	var err error
	switch {
	case fs.NArg() > 0:
		err = fmt.Errorf("unexpected arguments: %q", fs.Args())
	case cfg.dialTimeout <= 0:
		err = fmt.Errorf("-dial-timeout %v: must be positive", cfg.dialTimeout)
	default:
		cfg.backendNet, cfg.backendAddr, err = parseBackend(backend)
	}
	if err != nil {
		fmt.Fprintln(output, err)
		fs.Usage()
		return config{}, err
	}
	return cfg, nil
}
