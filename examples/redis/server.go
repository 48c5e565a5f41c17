package main

import (
	"context"
	"net"
	"time"

	"github.com/evloop/evloop"
	"github.com/evloop/evloop/examples/redis/resp"
	"github.com/evloop/evloop/examples/redis/store"
)

const (
	// stopTimeout bounds a graceful stop: how long connections may take to
	// flush their replies, and pool jobs to finish, before everything is
	// closed.
	stopTimeout = 5 * time.Second
	// defaultMaxValue is -max-value's default and its largest value:
	// Redis's proto-max-bulk-len. The buffers it implies stay within
	// evloop's 1 GiB cap on a connection's buffers.
	defaultMaxValue = resp.DefaultMaxBulk
	// commandSlack is what a command may hold besides one value at the
	// limit: its name, its key, other arguments and their headers.
	commandSlack = 1 << 20
	// replySlack is what a connection's pending replies may hold besides
	// one value at the limit: the high watermark serving stops at, plus
	// the replies written with it (flushAt).
	replySlack = 2 << 20
	// sweepEvery is how often each loop sweeps its part of the store for
	// expired keys (Redis's default hz is 10: every 100 ms).
	sweepEvery = 100 * time.Millisecond
	// sweepBudget bounds one loop's sweep, which delays that loop's
	// connections meanwhile.
	sweepBudget = time.Millisecond
)

// config is what the command line sets.
type config struct {
	addr      string
	loops     int
	reusePort bool
	blocking  bool // run commands on the goroutine pool, in order (Conn.Execute)
	// maxValue is the largest bulk string a command may carry (a value, a
	// key); 0: defaultMaxValue.
	maxValue int
}

// maxCommand is the largest command accepted with values up to maxValue
// bytes.
func maxCommand(maxValue int) int { return maxValue + commandSlack }

// options returns the engine's options. The inbound limit lets a command
// at maxCommand be buffered whole, plus the longest line the parser reads
// before refusing one (twice resp.MaxInline, for the headers on both sides
// of the limit): so a connection either completes a command or gets a
// protocol error, and the engine never has to close it for a full buffer.
// The outbound limit lets a reply carry one value at the limit.
func (cfg config) options() []evloop.Option {
	opts := []evloop.Option{
		evloop.WithLoops(cfg.loops),
		evloop.WithReusePort(cfg.reusePort),
		evloop.WithStopTimeout(stopTimeout),
		evloop.WithInboundLimit(maxCommand(cfg.maxValue) + 2*resp.MaxInline),
		evloop.WithOutboundLimit(cfg.maxValue + replySlack),
	}
	if cfg.blocking {
		opts = append(opts,
			// A full pool pauses the connection instead of failing.
			evloop.WithExecutePause(true),
			// A client that sends its commands and shuts down its side
			// (nc -N, redis-cli reading a file) still gets the replies the
			// pool produces after its FIN; OnReadClosed closes after them.
			evloop.WithHalfClose(true))
	}
	return opts
}

// serve runs the server until ctx is done, then stops it gracefully within
// stopTimeout. ready is called once with the bound address before any
// connection is served. It returns nil after a clean stop, or why the
// server could not start or stopped on its own.
func serve(ctx context.Context, cfg config, ready func(net.Addr)) error {
	if cfg.maxValue == 0 {
		cfg.maxValue = defaultMaxValue
	}
	h := newHandler(cfg, store.New())
	h.ready = ready
	return evloop.RunContext(ctx, h, cfg.addr, cfg.options()...)
}
