package main

import (
	"context"
	"errors"
	"net"
	"time"

	"github.com/evloop/evloop"
)

// stopTimeout bounds a graceful stop: how long connections may take to
// flush their output and pool jobs to finish before everything is closed.
const stopTimeout = 5 * time.Second

// config is what the command line sets.
type config struct {
	addr      string
	loops     int
	reusePort bool
	blocking  bool
	poolSize  int // 0: the engine's default
}

func (cfg config) options() []evloop.Option {
	opts := []evloop.Option{evloop.WithLoops(cfg.loops), evloop.WithReusePort(cfg.reusePort)}
	if cfg.poolSize > 0 {
		opts = append(opts, evloop.WithPoolSize(cfg.poolSize))
	}
	return opts
}

// serve runs the echo server until ctx is done, then stops it gracefully
// within stopTimeout. ready is called once with the bound address before
// any connection is served. It returns nil after a clean stop, or why the
// server could not start or stopped on its own.
func serve(ctx context.Context, cfg config, ready func(net.Addr)) error {
	h := &echoHandler{blocking: cfg.blocking, booted: make(chan evloop.Engine, 1)}
	errc := make(chan error, 1)
	go func() { errc <- evloop.Run(h, cfg.addr, cfg.options()...) }()
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

// echoHandler sends back what it receives, from the loop or, when
// blocking, from the engine's goroutine pool.
type echoHandler struct {
	evloop.BaseHandler
	blocking bool
	booted   chan evloop.Engine
}

// OnBoot hands the engine to serve, which needs it to stop the server.
func (h *echoHandler) OnBoot(eng evloop.Engine) evloop.Action {
	h.booted <- eng
	return evloop.None
}

// OnOpen gives each connection its relay in blocking mode.
func (h *echoHandler) OnOpen(c evloop.Conn) ([]byte, evloop.Action) {
	if h.blocking {
		c.SetContext(&relay{})
	}
	return nil, evloop.None
}

// OnTraffic echoes everything received.
func (h *echoHandler) OnTraffic(c evloop.Conn) evloop.Action {
	in, _ := c.Next(-1)
	if h.blocking {
		r, ok := c.Context().(*relay)
		if !ok {
			return evloop.Close
		}
		if err := r.receive(c, in); err != nil {
			return evloop.Close
		}
		return evloop.None
	}
	// Write copies what the socket does not take at once, so in may die
	// when OnTraffic returns.
	if _, err := c.Write(in); err != nil {
		return evloop.Close
	}
	return evloop.None
}
