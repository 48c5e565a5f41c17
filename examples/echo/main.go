// Command echo is an evloop echo server: every byte a client sends comes
// back to it, in order.
//
//	go run ./examples/echo -addr tcp://127.0.0.1:9000 -loops 2
//	go run ./examples/echo -reuseport
//	go run ./examples/echo -blocking
//	go run ./examples/echo -idle-timeout 30s
//	go run ./examples/echo -addr udp://127.0.0.1:9000
//	go run ./examples/echo -graceful & kill -HUP $!
//	go run ./examples/echo -tls-self-signed
//	openssl s_client -connect 127.0.0.1:9000 -quiet
//
// With -blocking, the echo is done by the engine's goroutine pool, the way a
// handler runs work that blocks (a database call, a file read) without
// stalling its loop. With -idle-timeout, a connection that has neither
// received nor sent a byte for that long is closed (by default none is).
// On a udp:// address every datagram comes back to its sender as one
// datagram (nc -u 127.0.0.1 9000 talks to it). With -graceful, SIGHUP
// restarts the server without refusing or cutting a connection: it hands
// its listening sockets to a new process of the same binary and drains
// (see graceful.go). With -tls-cert FILE -tls-key FILE, or
// -tls-self-signed (a certificate for 127.0.0.1, ::1 and localhost made at
// startup, its SHA-256 fingerprint printed), stream connections are TLS
// (evloop.WithTLS); datagrams stay plain. A -graceful restart loads the
// files again, or makes a new self-signed certificate.
// SIGINT or SIGTERM stops it gracefully; a second signal kills it.
package main

import (
	"flag"
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/evloop/evloop"
	"github.com/evloop/evloop/examples/internal/cli"
)

func main() { cli.Main("echo", parseFlags, serve) }

// parseFlags reads the command line into a config; usage and errors go to
// output.
func parseFlags(args []string, output io.Writer) (config, error) {
	fs := flag.NewFlagSet("echo", flag.ContinueOnError)
	fs.SetOutput(output)
	var cfg config
	fs.StringVar(&cfg.addr, "addr", "tcp://127.0.0.1:9000", "address to listen on: tcp://host:port, host:port, unix:///path or udp://host:port")
	fs.IntVar(&cfg.loops, "loops", runtime.GOMAXPROCS(0), "number of event loops")
	fs.BoolVar(&cfg.reusePort, "reuseport", false, "give every loop its own SO_REUSEPORT listener instead of one acceptor")
	fs.BoolVar(&cfg.blocking, "blocking", false, "echo from the engine's goroutine pool instead of the event loop")
	fs.IntVar(&cfg.poolSize, "pool", evloop.DefaultPoolSize, "goroutines in the engine's pool (with -blocking)")
	fs.DurationVar(&cfg.idleTimeout, "idle-timeout", 0, "close a connection that has neither received nor sent a byte for this long (0: never)")
	fs.BoolVar(&cfg.graceful, "graceful", false, "on SIGHUP, restart without dropping a connection: hand the listeners to a new process, drain, exit")
	fs.DurationVar(&cfg.drainTimeout, "drain-timeout", 30*time.Second, "with -graceful, how long the old process waits for its clients to finish")
	cfg.tls.Register(fs)
	fs.IntVar(&cfg.inherit, "inherit", 0, "serve the N listening sockets a predecessor passed as descriptors 3... (set by -graceful's restart)")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	var err error
	switch {
	case fs.NArg() > 0:
		err = fmt.Errorf("unexpected arguments: %q", fs.Args())
	case cfg.idleTimeout < 0:
		err = fmt.Errorf("-idle-timeout %v: must not be negative", cfg.idleTimeout)
	case cfg.drainTimeout <= 0:
		err = fmt.Errorf("-drain-timeout %v: must be positive", cfg.drainTimeout)
	case cfg.inherit < 0:
		err = fmt.Errorf("-inherit %d: must not be negative", cfg.inherit)
	default:
		err = cfg.tls.Check()
	}
	if err != nil {
		fmt.Fprintln(output, err)
		fs.Usage()
		return config{}, err
	}
	// A successor gets the same flags; -inherit is the restart's own.
	fs.Visit(func(f *flag.Flag) {
		if f.Name != "inherit" {
			cfg.args = append(cfg.args, "-"+f.Name+"="+f.Value.String())
		}
	})
	return cfg, nil
}
