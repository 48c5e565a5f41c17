package main

import (
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/evloop/evloop"
	"github.com/evloop/evloop/examples/redis/resp"
	"github.com/evloop/evloop/examples/redis/store"
)

const (
	// batchSize is the initial capacity of a reply batch: sixteen
	// pipelined replies of small values fit without growing it.
	batchSize = 4 << 10
	// maxBatch is the largest reply buffer kept for reuse; one grown past
	// it (a large value, a long pipeline) is left to the garbage collector.
	maxBatch = 1 << 20
	// maxPooledArgs is the most arguments a pooled command keeps room for;
	// one grown past it (an MSET of many keys) is left to the collector.
	maxPooledArgs = 4096
	// flushAt is when a batch's replies are written before the batch ends,
	// so that a long pipeline of large replies is not held whole.
	flushAt = 256 << 10
)

// handler serves the Redis protocol on evloop.
type handler struct {
	evloop.BaseHandler
	ready    func(net.Addr) // told the bound address at boot, when not nil
	blocking bool           // run commands on the pool (blocking.go)
	parser   resp.Parser
	commands *commandTable
	store    *store.Store
	maxValue int
	// outHigh is the engine's outbound high watermark: serving pauses when
	// a connection's pending replies pass it.
	outHigh int

	eng     evloop.Engine
	addr    net.Addr
	started time.Time

	// INFO's counters, added once per batch, not once per command.
	connections  atomic.Uint64
	commandsRun  atomic.Uint64
	errorReplies atomic.Uint64

	// batches holds *batch: a callback takes one and puts it back before
	// returning, and a loop runs one callback at a time, so in steady state
	// each loop reuses the one cached for its P: a per-loop buffer without
	// the handler knowing which loop it is on.
	batches sync.Pool
}

// batch is one callback's scratch: the parsed command and the request,
// whose out collects the replies.
type batch struct {
	cmd resp.Command
	req request
}

func newHandler(cfg config, s *store.Store) *handler {
	h := &handler{
		blocking: cfg.blocking,
		parser:   resp.Parser{MaxBulk: cfg.maxValue, MaxCommand: maxCommand(cfg.maxValue)},
		commands: newCommandTable(commandList()),
		store:    s,
		maxValue: cfg.maxValue,
		outHigh:  evloop.DefaultOutboundHigh,
	}
	h.batches.New = func() any {
		return &batch{req: request{h: h, out: make([]byte, 0, batchSize)}}
	}
	return h
}

// getBatch returns a batch ready for a callback on cl.
func (h *handler) getBatch(cl *client, now int64) *batch {
	b := h.batches.Get().(*batch)
	b.req = request{h: h, cl: cl, out: b.req.out[:0], now: now}
	return b
}

// putBatch adds the batch's counts to INFO's and keeps it for reuse, unless
// a burst grew it too much.
func (h *handler) putBatch(b *batch) {
	if n := b.req.commands; n > 0 {
		h.commandsRun.Add(n)
	}
	if n := b.req.errors; n > 0 {
		h.errorReplies.Add(n)
	}
	if cap(b.req.out) > maxBatch || cap(b.cmd.Args) > maxPooledArgs {
		return
	}
	b.req.cl, b.req.args = nil, nil
	h.batches.Put(b)
}

// OnBoot records the engine, reports the bound address and starts the
// expiry sweep on every loop.
func (h *handler) OnBoot(eng evloop.Engine) evloop.Action {
	h.eng, h.addr, h.started = eng, eng.Addrs()[0], time.Now()
	loops := len(eng.Loops())
	eng.Every(sweepEvery, func(lp evloop.Loop) {
		h.store.Sweep(lp.Index(), loops, time.Now().UnixMilli(), sweepBudget)
	})
	if h.ready != nil {
		h.ready(h.addr)
	}
	return evloop.None
}

// OnOpen gives the connection its state.
func (h *handler) OnOpen(c evloop.Conn) ([]byte, evloop.Action) {
	h.connections.Add(1)
	c.SetContext(&client{})
	return nil, evloop.None
}

// OnTraffic answers every complete command buffered on c with one write,
// and leaves an incomplete one buffered for the next call. In blocking
// mode it hands the commands to the pool instead.
func (h *handler) OnTraffic(c evloop.Conn) evloop.Action {
	cl := clientOf(c)
	switch {
	case cl == nil:
		return evloop.Close
	case cl.closing:
		_, _ = c.Discard(c.InboundBuffered())
		return evloop.None
	case cl.need > c.InboundBuffered():
		return evloop.None // the rest of a large command is still coming
	case h.blocking:
		return h.onTrafficBlocking(c, cl)
	}
	return h.serve(c, cl)
}

// OnWritable resumes serving commands left buffered when the replies
// pending for the socket passed the high watermark.
func (h *handler) OnWritable(c evloop.Conn) evloop.Action {
	cl := clientOf(c)
	if cl == nil || !cl.backlogged {
		return evloop.None
	}
	cl.backlogged = false
	return h.OnTraffic(c)
}

// serve runs the complete commands at the front of c's inbound bytes and
// writes their replies: once at the end, or every flushAt bytes of
// replies, stopping when the socket falls behind (OnWritable resumes).
func (h *handler) serve(c evloop.Conn, cl *client) evloop.Action {
	in, _ := c.Peek(-1)
	b := h.getBatch(cl, time.Now().UnixMilli())
	r := &b.req
	used, writeFailed := 0, false
	cl.need, cl.backlogged = 0, false
	// Bounded: every pass consumes n > 0 bytes of in, or ends the loop.
	for used < len(in) {
		n, err := h.parser.Parse(in[used:], &b.cmd)
		if err != nil {
			// The framing is lost: answer, then close, as Redis does.
			r.fail("ERR " + err.Error())
			cl.closing = true
			break
		}
		if n == 0 {
			cl.need = b.cmd.Need
			break
		}
		used += n
		if len(b.cmd.Args) == 0 {
			continue // an empty line or array: nothing to run, no reply
		}
		r.args = b.cmd.Args
		h.commands.dispatch(r)
		if r.quit {
			cl.closing = true
			break
		}
		if len(r.out) >= flushAt {
			if _, err := c.Write(r.out); err != nil {
				writeFailed = true
				break
			}
			r.out = r.out[:0]
			if c.OutboundBuffered() > h.outHigh {
				cl.backlogged = true
				break
			}
		}
	}
	if len(r.out) > 0 && !writeFailed {
		// Write copies what the socket does not take now.
		_, err := c.Write(r.out)
		writeFailed = err != nil
	}
	h.putBatch(b)
	if cl.closing || writeFailed {
		// Close flushes the replies first; what else arrived is dropped.
		_, _ = c.Discard(len(in))
		return evloop.Close
	}
	_, _ = c.Discard(used) // cannot fail: used is not negative
	return evloop.None
}
