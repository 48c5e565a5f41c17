package main

import (
	"context"
	"errors"
	"net"
	"os"
	"time"

	"github.com/evloop/evloop"
	"github.com/evloop/evloop/examples/internal/cli"
)

// stopTimeout bounds a graceful stop: how long connections may take to
// flush their output before everything is closed.
const stopTimeout = 5 * time.Second

// config is what the command line sets. Its zero value turns both
// timeouts off; the command's defaults turn them on (see parseFlags).
type config struct {
	addr      string
	loops     int
	reusePort bool
	blocking  bool // answer each request from a pool job, in order (Conn.Execute)

	// readHeaderTimeout bounds how long a request's header may take to
	// arrive, from its first byte; 0 turns the limit off.
	readHeaderTimeout time.Duration
	// idleTimeout closes a connection that has neither received nor sent a
	// byte for this long; 0 turns it off.
	idleTimeout time.Duration
	// statsAddr, when set, is where /debug/vars serves the engine's
	// statistics (stats.go).
	statsAddr string
	// tls, when set, serves HTTPS.
	tls cli.TLSFlags
}

// serve runs the HTTP server until ctx is done, then stops it gracefully
// within stopTimeout. ready is called once with the bound address before
// any connection is served. It returns nil after a clean stop, or why the
// server could not start or stopped on its own.
func serve(ctx context.Context, cfg config, ready func(net.Addr)) error {
	return serveStats(ctx, cfg, ready, nil)
}

// serveStats is serve that also tells statsReady, when not nil, the
// address of the -stats-addr endpoint once it listens.
func serveStats(ctx context.Context, cfg config, ready, statsReady func(net.Addr)) (err error) {
	h := newHandler()
	h.ready = ready
	h.blocking = cfg.blocking
	h.readHeaderTimeout = cfg.readHeaderTimeout
	if cfg.statsAddr != "" {
		stats, err := startStats(cfg.statsAddr)
		if err != nil {
			return err
		}
		if statsReady != nil {
			statsReady(stats.addr)
		}
		h.booted = publishStats
		defer func() { err = errors.Join(err, stats.stop()) }()
	}
	tlsCfg, err := cfg.tls.Config(os.Stdout, "http/1.1")
	if err != nil {
		return err
	}
	return evloop.RunContext(ctx, h, cfg.addr,
		evloop.WithTLS(tlsCfg), // nil: plain text
		evloop.WithLoops(cfg.loops),
		evloop.WithReusePort(cfg.reusePort),
		evloop.WithStopTimeout(stopTimeout),
		evloop.WithTicker(true), // OnTick keeps the Date field current
		evloop.WithIdleTimeout(cfg.idleTimeout),
		// -blocking: a full pool pauses the connection instead of failing.
		evloop.WithExecutePause(cfg.blocking))
}
