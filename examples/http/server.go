package main

import (
	"context"
	"net"
	"time"

	"github.com/evloop/evloop"
)

// stopTimeout bounds a graceful stop: how long connections may take to
// flush their output before everything is closed.
const stopTimeout = 5 * time.Second

// config is what the command line sets.
type config struct {
	addr      string
	loops     int
	reusePort bool
	blocking  bool // answer each request from a pool job, in order (Conn.Execute)
}

// serve runs the HTTP server until ctx is done, then stops it gracefully
// within stopTimeout. ready is called once with the bound address before
// any connection is served. It returns nil after a clean stop, or why the
// server could not start or stopped on its own.
func serve(ctx context.Context, cfg config, ready func(net.Addr)) error {
	h := newHandler()
	h.ready = ready
	h.blocking = cfg.blocking
	return evloop.RunContext(ctx, h, cfg.addr,
		evloop.WithLoops(cfg.loops),
		evloop.WithReusePort(cfg.reusePort),
		evloop.WithStopTimeout(stopTimeout),
		evloop.WithTicker(true), // OnTick keeps the Date field current
		// -blocking: a full pool pauses the connection instead of failing.
		evloop.WithExecutePause(cfg.blocking))
}
