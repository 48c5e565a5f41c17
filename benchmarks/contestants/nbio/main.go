// Command nbio is the lesismal/nbio contestant on its bare engine
// (nbio.Engine, not nbhttp): -loops pollers (NPoller; nbio's default would
// be one here), the reply written on the poller inside OnData, nbio's
// default 64 KiB read buffer. nbio accepts through a net.Listener, so
// accepted connections get Go's TCP_NODELAY. Its info lines are dropped,
// its errors kept.
package main

import (
	"sync"

	"github.com/lesismal/nbio"
	"github.com/lesismal/nbio/logging"

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
	cfg := server.Setup("nbio", "echo", "http")
	logging.SetLevel(logging.LevelError)
	engine := nbio.NewEngine(nbio.Config{
		Network: "tcp",
		Addrs:   []string{cfg.Addr},
		NPoller: cfg.Loops,
	})
	if cfg.Proto == "http" {
		dates := plaintext.StartDates()
		engine.OnData(func(c *nbio.Conn, data []byte) { http(c, data, dates) })
	} else {
		engine.OnData(echo)
	}
	if err := engine.Start(); err != nil {
		server.Fatal("nbio", err)
	}
	select {}
}

// echo writes back what arrived. data is a view of the poller's read
// buffer; Write copies only what the socket does not take now.
func echo(c *nbio.Conn, data []byte) {
	_, _ = c.Write(data) // on error nbio closes the connection
}

// partial is a connection's unanswered partial request. nbio hands over
// each read as it came and keeps nothing, so the handler keeps the rest
// itself; a connection that never leaves one has none.
type partial struct{ buf []byte }

// http answers every complete request with one write and keeps a partial
// request for the next read.
func http(c *nbio.Conn, data []byte, dates *plaintext.Dates) {
	in := data
	p, _ := c.Session().(*partial)
	if p != nil && len(p.buf) > 0 {
		p.buf = append(p.buf, data...)
		in = p.buf
	}
	bp := batches.Get().(*[]byte)
	out, used, keepAlive := plaintext.Answer((*bp)[:0], in, dates.Get())
	var err error
	if len(out) > 0 {
		_, err = c.Write(out) // copies what the socket does not take now
	}
	if cap(out) <= maxBatch {
		*bp = out[:0]
		batches.Put(bp)
	}
	if err != nil {
		return // nbio has closed the connection
	}
	if !keepAlive {
		_ = c.Close()
		return
	}
	rest := in[used:]
	switch {
	case p != nil:
		p.buf = append(p.buf[:0], rest...) // rest may lie in p.buf: append moves it like copy
	case len(rest) > 0:
		c.SetSession(&partial{buf: append([]byte(nil), rest...)})
	}
}
