package main

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/evloop/evloop"
)

// stopTimeout bounds a graceful stop: how long connections may take to
// flush their output before everything is closed.
const stopTimeout = 5 * time.Second

// The watermarks of every connection's pending output. The proxy stops
// reading one end when the other's output passes high, and the engine
// reports (OnWritable) when it has drained to low, so the proxy holds at
// most about high bytes per direction of a pair, plus one read.
const (
	outboundHigh = 512 << 10
	outboundLow  = 128 << 10
)

// config is what the command line sets.
type config struct {
	addr        string
	backendNet  string // tcp, tcp4, tcp6 or unix
	backendAddr string // host:port, or a path
	loops       int
	reusePort   bool
	dialTimeout time.Duration
}

func (cfg config) options() []evloop.Option {
	return []evloop.Option{
		evloop.WithLoops(cfg.loops),
		evloop.WithReusePort(cfg.reusePort),
		evloop.WithStopTimeout(stopTimeout),
		evloop.WithOutboundWatermarks(outboundHigh, outboundLow),
		// A full end keeps reading: the proxy holds the end that feeds
		// it instead. Pausing the full end itself would deadlock with a
		// backend that answers as it reads (an echo): blocked writing its
		// answers, it would read no more, and nothing would drain.
		evloop.WithOutboundPause(false),
		// A FIN from one side must reach the other as a FIN while the
		// other direction goes on: the proxy closes a pair itself.
		evloop.WithHalfClose(true),
	}
}

// parseBackend splits a backend address as the -addr flags take them
// ("tcp://host:port", "host:port", "unix:///path") into what
// evloop.Loop.Dial takes.
func parseBackend(s string) (network, address string, err error) {
	network, address = "tcp", s
	if scheme, rest, ok := strings.Cut(s, "://"); ok {
		network, address = strings.ToLower(scheme), rest
	}
	switch network {
	case "tcp", "tcp4", "tcp6":
		if _, _, err := net.SplitHostPort(address); err != nil {
			return "", "", fmt.Errorf("-backend %q: %w", s, err)
		}
	case "unix":
		if address == "" {
			return "", "", fmt.Errorf("-backend %q: empty unix socket path", s)
		}
	default:
		return "", "", fmt.Errorf("-backend %q: unknown scheme %q (tcp, tcp4, tcp6 or unix)", s, network)
	}
	return network, address, nil
}

// serve runs the proxy until ctx is done, then stops it gracefully within
// stopTimeout. ready is called once with the bound address before any
// connection is served. It returns nil after a clean stop, or why the
// proxy could not start or stopped on its own.
func serve(ctx context.Context, cfg config, ready func(net.Addr)) error {
	p := &proxy{network: cfg.backendNet, address: cfg.backendAddr, timeout: cfg.dialTimeout, ready: ready}
	return evloop.RunContext(ctx, p, cfg.addr, cfg.options()...)
}
