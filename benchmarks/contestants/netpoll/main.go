// Command netpoll is the cloudwego/netpoll contestant. Its poller count is
// set from -loops: netpoll's default (GOMAXPROCS/20 + 1) would give it a
// single poller here. OnRequest runs on netpoll's goroutine pool, as in
// netpoll's own servers.
package main

import (
	"context"
	"sync"

	"github.com/cloudwego/netpoll"

	"github.com/evloop/evloop/benchmarks/internal/plaintext"
	"github.com/evloop/evloop/benchmarks/internal/server"
)

const (
	batchSize = 4 << 10
	maxBatch  = 1 << 20
)

var batches = sync.Pool{New: func() any {
	b := make([]byte, 0, batchSize)
	return &b
}}

func main() {
	cfg := server.Setup("netpoll", "echo", "http")
	if err := netpoll.Configure(netpoll.Config{PollerNum: cfg.Loops}); err != nil {
		server.Fatal("netpoll", err)
	}
	ln, err := netpoll.CreateListener("tcp", cfg.Addr)
	if err != nil {
		server.Fatal("netpoll", err)
	}
	onRequest := echo
	if cfg.Proto == "http" {
		dates := plaintext.StartDates()
		onRequest = func(ctx context.Context, c netpoll.Connection) error { return http(c, dates) }
	}
	loop, err := netpoll.NewEventLoop(onRequest)
	if err != nil {
		server.Fatal("netpoll", err)
	}
	server.Fatal("netpoll", loop.Serve(ln))
}

// echo writes back everything buffered, without a copy: netpoll's own echo.
func echo(_ context.Context, c netpoll.Connection) error {
	r, w := c.Reader(), c.Writer()
	defer r.Release()
	in, err := r.Next(r.Len())
	if err != nil {
		return err
	}
	if _, err := w.WriteBinary(in); err != nil {
		return err
	}
	return w.Flush()
}

// http answers every complete request buffered with one flush, and leaves a
// partial request in the reader for the next call.
func http(c netpoll.Connection, dates *plaintext.Dates) error {
	r, w := c.Reader(), c.Writer()
	defer r.Release()
	in, err := r.Peek(r.Len())
	if err != nil {
		return err
	}
	bp := batches.Get().(*[]byte)
	out, used, keepAlive := plaintext.Answer((*bp)[:0], in, dates.Get())
	if len(out) > 0 {
		if _, err = w.WriteBinary(out); err == nil {
			err = w.Flush() // returns once every byte is sent: out is free again
		}
	}
	if err != nil {
		return err // out may still be referenced: not reused
	}
	if cap(out) <= maxBatch {
		*bp = out[:0]
		batches.Put(bp)
	}
	if !keepAlive {
		return c.Close()
	}
	return r.Skip(used)
}
