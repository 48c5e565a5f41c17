package main

import (
	"context"
	"net"
	"os"
	"time"

	"github.com/evloop/evloop"
	"github.com/evloop/evloop/examples/internal/cli"
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
	// idleTimeout closes a connection that has neither received nor sent a
	// byte for this long; 0 (the default) never does.
	idleTimeout time.Duration
	// graceful restarts on SIGHUP (graceful.go), draining for up to
	// drainTimeout; inherit is the number of listening sockets handed over
	// by a predecessor; args are the flags set, for a successor.
	graceful     bool
	drainTimeout time.Duration
	inherit      int
	args         []string
	// tls, when set, serves the stream listeners with TLS.
	tls cli.TLSFlags
}

func (cfg config) options() []evloop.Option {
	opts := []evloop.Option{
		evloop.WithLoops(cfg.loops),
		evloop.WithReusePort(cfg.reusePort),
		evloop.WithStopTimeout(stopTimeout),
		evloop.WithIdleTimeout(cfg.idleTimeout),
	}
	if cfg.poolSize > 0 {
		opts = append(opts, evloop.WithPoolSize(cfg.poolSize))
	}
	if cfg.blocking {
		opts = append(opts,
			// A full pool pauses the connection instead of failing.
			evloop.WithExecutePause(true),
			// A client that sends and then shuts down its side (nc -N,
			// a shell's here-document) still gets the replies the pool
			// produces after its FIN; OnReadClosed closes once they are out.
			evloop.WithHalfClose(true))
	}
	return opts
}

// serve runs the echo server until ctx is done, then stops it gracefully
// within stopTimeout. ready is called once with the bound address before
// any connection is served. It returns nil after a clean stop, or why the
// server could not start or stopped on its own.
func serve(ctx context.Context, cfg config, ready func(net.Addr)) error {
	h := &echoHandler{blocking: cfg.blocking, ready: ready, booted: make(chan evloop.Engine, 1)}
	addrs, opts := []string{cfg.addr}, cfg.options()
	tlsCfg, err := cfg.tls.Config(os.Stdout)
	if err != nil {
		return err
	}
	if tlsCfg != nil {
		opts = append(opts, evloop.WithTLS(tlsCfg))
	}
	if cfg.inherit > 0 {
		// A restart's successor serves its predecessor's sockets only.
		files, readyPipe := inherited(cfg.inherit)
		addrs, opts = nil, append(opts, evloop.WithListeners(files...))
		h.readyPipe = readyPipe
		defer func() {
			for _, f := range files {
				f.Close()
			}
		}()
	}
	if cfg.graceful {
		var stop context.CancelFunc
		ctx, stop = context.WithCancel(ctx)
		defer stop()
		go watchRestarts(ctx, cfg, h.booted, stop)
	}
	return evloop.RunAddrsContext(ctx, h, addrs, opts...)
}

// echoHandler sends back what it receives, from the loop or, when
// blocking, from the engine's goroutine pool.
type echoHandler struct {
	evloop.BaseHandler
	blocking  bool
	ready     func(net.Addr)
	booted    chan evloop.Engine // given the engine at boot (-graceful)
	readyPipe *os.File           // a restart's successor reports "ready" here
}

// OnBoot reports the bound address, and to a predecessor that this
// process serves.
func (h *echoHandler) OnBoot(eng evloop.Engine) evloop.Action {
	h.ready(eng.Addrs()[0])
	h.booted <- eng
	if h.readyPipe != nil {
		_, _ = h.readyPipe.WriteString("ready\n")
		_ = h.readyPipe.Close()
	}
	return evloop.None
}

// OnOpen gives each connection its relay in blocking mode.
func (h *echoHandler) OnOpen(c evloop.Conn) ([]byte, evloop.Action) {
	if h.blocking {
		c.SetContext(&relay{})
	}
	return nil, evloop.None
}

// OnReadClosed runs in blocking mode (WithHalfClose) once the client has
// shut down its side: the connection closes as soon as the relay has sent
// everything the client sent.
func (h *echoHandler) OnReadClosed(c evloop.Conn) evloop.Action {
	r, ok := c.Context().(*relay)
	if !ok {
		return evloop.Close
	}
	r.eof = true
	if r.finish() {
		return evloop.Close
	}
	return evloop.None
}

// OnTraffic echoes everything received: on a stream, the bytes; on a
// udp:// socket, each datagram as one reply datagram to its sender.
func (h *echoHandler) OnTraffic(c evloop.Conn) evloop.Action {
	in, _ := c.Next(-1)
	if peer, ok := evloop.DatagramPeerOf(c); ok && h.blocking {
		// A datagram has no connection, hence no relay: each one is its
		// own job, and replies may leave in any order, as UDP allows.
		// The copy: in is a view of the loop's buffer, dead after
		// OnTraffic; peer stays valid.
		msg := append([]byte(nil), in...)
		_ = c.Submit(func() { _ = peer.AsyncWrite(msg, nil) })
		return evloop.None
	}
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
