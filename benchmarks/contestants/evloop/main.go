// Command evloop is the evloop contestant that replies on the loop: echo
// writes back what arrived, http answers every complete request in one
// write per batch, udp sends every datagram back to its sender. With -tls,
// echo and http are served over TLS (evloop.WithTLS, a self-signed ECDSA
// certificate, crypto/tls's defaults), the handlers unchanged.
package main

import (
	"sync"

	"github.com/evloop/evloop"
	"github.com/evloop/evloop/benchmarks/internal/plaintext"
	"github.com/evloop/evloop/benchmarks/internal/server"
	"github.com/evloop/evloop/benchmarks/internal/tlscert"
)

const (
	batchSize = 4 << 10 // sixteen pipelined responses fit without growing
	maxBatch  = 1 << 20 // a batch grown past this is left to the GC
)

type echo struct{ evloop.BaseHandler }

func (echo) OnTraffic(c evloop.Conn) evloop.Action {
	in, _ := c.Next(-1)
	if _, err := c.Write(in); err != nil {
		return evloop.Close
	}
	return evloop.None
}

// udpRecvBuffer is SO_RCVBUF for the udp sockets: room for the datagrams
// that arrive while the loop is busy (the kernel caps it at
// net.core.rmem_max).
const udpRecvBuffer = 4 << 20

// udpEcho sends every datagram back to its sender: Next(-1) is the whole
// datagram, and Write queues one reply datagram, which leaves with the
// batch's other replies in one sendmmsg. A reply the socket cannot queue
// is lost, as a datagram may be; there is no connection to close.
type udpEcho struct{ evloop.BaseHandler }

func (udpEcho) OnTraffic(c evloop.Conn) evloop.Action {
	in, _ := c.Next(-1)
	_, _ = c.Write(in)
	return evloop.None
}

type http struct {
	evloop.BaseHandler
	dates *plaintext.Dates
	// batches holds *[]byte response buffers. A loop runs one callback at
	// a time, so in steady state each loop reuses the buffer cached for its
	// P, and idle connections hold none.
	batches sync.Pool
}

func (h *http) OnTraffic(c evloop.Conn) evloop.Action {
	in, _ := c.Peek(-1)
	bp := h.batches.Get().(*[]byte)
	out, used, keepAlive := plaintext.Answer((*bp)[:0], in, h.dates.Get())
	_, err := c.Write(out) // copies what the socket does not take now
	if cap(out) <= maxBatch {
		*bp = out[:0]
		h.batches.Put(bp)
	}
	if err != nil || !keepAlive {
		return evloop.Close
	}
	_, _ = c.Discard(used)
	return evloop.None
}

func main() {
	cfg := server.SetupTLS("evloop", []string{"echo", "http"}, "echo", "http", "udp")
	if cfg.Proto == "udp" {
		err := evloop.Run(udpEcho{}, "udp://"+cfg.Addr, evloop.WithLoops(cfg.Loops),
			evloop.WithSocketRecvBuffer(udpRecvBuffer))
		server.Fatal("evloop", err)
	}
	var h evloop.EventHandler = echo{}
	if cfg.Proto == "http" {
		hh := &http{dates: plaintext.StartDates()}
		hh.batches.New = func() any {
			b := make([]byte, 0, batchSize)
			return &b
		}
		h = hh
	}
	opts := []evloop.Option{evloop.WithLoops(cfg.Loops)}
	if cfg.TLS {
		tc, err := tlscert.Config()
		if err != nil {
			server.Fatal("evloop", err)
		}
		opts = append(opts, evloop.WithTLS(tc))
	}
	err := evloop.Run(h, "tcp://"+cfg.Addr, opts...)
	server.Fatal("evloop", err)
}
