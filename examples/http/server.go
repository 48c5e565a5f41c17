package main

import (
	"context"
	"errors"
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
	h.booted = make(chan evloop.Engine, 1)
	h.blocking = cfg.blocking
	errc := make(chan error, 1)
	go func() {
		errc <- evloop.Run(h, cfg.addr,
			evloop.WithLoops(cfg.loops),
			evloop.WithReusePort(cfg.reusePort),
			evloop.WithTicker(true)) // OnTick keeps the Date field current
	}()
	var eng evloop.Engine
	select {
	case eng = <-h.booted:
	case err := <-errc:
		return err
	}
	ready(eng.Addrs()[0])
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	stopCtx, cancel := context.WithTimeout(context.Background(), stopTimeout)
	defer cancel()
	stopErr := eng.Stop(stopCtx)
	return errors.Join(stopErr, <-errc)
}
