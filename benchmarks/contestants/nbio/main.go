// Command nbio is the lesismal/nbio contestant on its bare engine
// (nbio.Engine, not nbhttp): -loops pollers (NPoller; nbio's default would
// be one here), the reply written on the poller inside OnData, nbio's
// default 64 KiB read buffer. nbio accepts through a net.Listener, so
// accepted connections get Go's TCP_NODELAY. Its info lines are dropped,
// its errors kept.
//
// With -tls (echo only), echo is served over nbio's TLS, the way its
// extension/tls package wires it: a github.com/lesismal/llib/std/crypto/tls
// (nbio's fork of crypto/tls) non-blocking Conn per connection, made in
// OnOpen, fed each read with AppendAndRead (decrypting in place, as nbhttp
// does), the plaintext written back through it; a self-signed ECDSA
// certificate, the fork's defaults otherwise.
package main

import (
	"sync"

	"github.com/lesismal/llib/std/crypto/tls"
	"github.com/lesismal/nbio"
	"github.com/lesismal/nbio/logging"
	"github.com/lesismal/nbio/mempool"

	"github.com/evloop/evloop/benchmarks/internal/plaintext"
	"github.com/evloop/evloop/benchmarks/internal/server"
	"github.com/evloop/evloop/benchmarks/internal/tlscert"
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
	cfg := server.SetupTLS("nbio", []string{"echo"}, "echo", "http")
	logging.SetLevel(logging.LevelError)
	engine := nbio.NewEngine(nbio.Config{
		Network: "tcp",
		Addrs:   []string{cfg.Addr},
		NPoller: cfg.Loops,
	})
	switch {
	case cfg.TLS:
		tc, err := tlsConfig()
		if err != nil {
			server.Fatal("nbio", err)
		}
		engine.OnOpen(func(c *nbio.Conn) {
			c.SetSession(tls.NewConn(c, tc, false, true, mempool.DefaultMemPool))
		})
		engine.OnData(tlsEcho)
	case cfg.Proto == "http":
		dates := plaintext.StartDates()
		engine.OnData(func(c *nbio.Conn, data []byte) { http(c, data, dates) })
	default:
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

// tlsConfig is nbio's TLS configuration: the fork's Config with a new
// self-signed certificate.
func tlsConfig() (*tls.Config, error) {
	certPEM, keyPEM, err := tlscert.PEM()
	if err != nil {
		return nil, err
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}}, nil
}

// tlsEcho feeds the ciphertext that arrived to the connection's TLS
// conn, decrypting into the same buffer, and writes each piece of
// plaintext back through it (encrypted; the Write copies what the socket
// does not take now). As nbhttp does, it reads until no plaintext is left
// and then lets the TLS conn free its buffers.
func tlsEcho(c *nbio.Conn, data []byte) {
	tc, ok := c.Session().(*tls.Conn)
	if !ok {
		_ = c.Close()
		return
	}
	defer tc.ResetOrFreeBuffer()
	in := data
	for {
		_, n, err := tc.AppendAndRead(in, data)
		in = nil
		if err != nil {
			_ = c.CloseWithError(err)
			return
		}
		if n == 0 {
			return
		}
		if _, err := tc.Write(data[:n]); err != nil {
			_ = c.CloseWithError(err)
			return
		}
	}
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
