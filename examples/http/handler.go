package main

import (
	"net"
	"sync"
	"time"

	"github.com/evloop/evloop"
	"github.com/evloop/evloop/examples/http/h1"
)

var (
	textPlain  = []byte("text/plain")
	helloWorld = []byte("Hello, World!")
	// keepAliveField is what an HTTP/1.0 client needs to see before it
	// reuses a connection (RFC 9112 appendix C.2.2); HTTP/1.1 assumes it.
	keepAliveField = []byte("Connection: keep-alive\r\n")
)

const (
	// batchSize is the initial capacity of a response batch: sixteen
	// pipelined responses fit without growing it.
	batchSize = 4 << 10
	// maxBatch is the largest batch buffer kept for reuse; one grown past
	// it by a burst of pipelined requests is left to the garbage collector.
	maxBatch = 1 << 20
)

// handler answers every request with "Hello, World!".
type handler struct {
	evloop.BaseHandler
	ready    func(net.Addr)      // told the bound address at boot, when not nil
	booted   func(evloop.Engine) // told the engine at boot, when not nil (-stats-addr)
	blocking bool                // answer from the pool (blocking.go)
	dates    h1.DateCache

	// readHeaderTimeout bounds the time from a request's first byte to the
	// end of its header; 0: no limit (headertimeout.go).
	readHeaderTimeout time.Duration
	// headerTimedOut is onHeaderTimeout, made once: a method value
	// passed to each connection's timer would be allocated per connection.
	headerTimedOut func(evloop.Conn)

	// batches holds *[]byte response buffers. A callback takes one and puts
	// it back before returning, and a loop runs one callback at a time, so
	// in steady state each loop keeps reusing the buffer cached for its P:
	// a per-loop buffer without the handler knowing which loop it is on,
	// and no memory held by idle connections.
	batches sync.Pool
}

func newHandler() *handler {
	h := &handler{}
	h.headerTimedOut = h.onHeaderTimeout
	h.batches.New = func() any {
		b := make([]byte, 0, batchSize)
		return &b
	}
	return h
}

// OnBoot sets the first Date value, since a request may reach another loop
// before loop 0's first tick, and reports the bound address.
func (h *handler) OnBoot(eng evloop.Engine) evloop.Action {
	h.dates.Refresh(time.Now())
	if h.booted != nil {
		h.booted(eng)
	}
	if h.ready != nil {
		h.ready(eng.Addrs()[0])
	}
	return evloop.None
}

// OnTick refreshes the Date value once a second, so responses never format
// the time themselves.
func (h *handler) OnTick() (time.Duration, evloop.Action) {
	h.dates.Refresh(time.Now())
	return time.Second, evloop.None
}

// OnTraffic answers every complete request buffered on c with one write,
// and leaves an incomplete one buffered for the next call, under the
// read-header timeout. In blocking mode it hands the requests to the pool
// instead.
func (h *handler) OnTraffic(c evloop.Conn) evloop.Action {
	if h.blocking {
		return h.onTrafficBlocking(c)
	}
	in, _ := c.Peek(-1)
	if st := stateOf(c); st != nil && st.closing {
		// Timed out: the 408 is on its way and the close queued.
		_, _ = c.Discard(len(in))
		return evloop.None
	}
	bp := h.batches.Get().(*[]byte)
	out, used, keepAlive := h.answer((*bp)[:0], in)
	var err error
	if len(out) > 0 {
		_, err = c.Write(out) // copies what the socket does not take now
	}
	if cap(out) <= maxBatch {
		*bp = out[:0]
		h.batches.Put(bp)
	}
	if err != nil || !keepAlive {
		return evloop.Close
	}
	h.watchHeader(c, in[used:], used > 0)
	_, _ = c.Discard(used) // cannot fail: used is not negative
	return evloop.None
}

// answer appends a response for each complete request at the start of in
// and returns the batch, how many bytes of in those requests used, and
// whether the connection stays open. It stops at an incomplete request, at
// a request that closes the connection (bytes after it are ignored), and
// at bytes that are not a request, which get an error response and close
// the connection: their framing is lost.
func (h *handler) answer(out, in []byte) (batch []byte, used int, keepAlive bool) {
	date := h.dates.Get()
	keepAlive = true
	// Bounded: every pass consumes n > 0 bytes of in, or ends the loop.
	for keepAlive && used < len(in) {
		var req h1.Request
		n, err := h1.Parse(in[used:], &req)
		if err != nil {
			out = h1.AppendResponse(out, h1.StatusFor(err), date, nil, nil, false)
			return out, used, false
		}
		if n == 0 {
			break
		}
		used += n
		keepAlive = req.KeepAlive
		out = appendHello(out, &req, date)
	}
	return out, used, keepAlive
}

// appendHello appends the response to req.
func appendHello(out []byte, req *h1.Request, date []byte) []byte {
	out = h1.AppendResponse(out, 200, date, textPlain, helloWorld, req.KeepAlive)
	if req.Minor == 0 && req.KeepAlive {
		// The header section ends with CRLF right before the body.
		out = insert(out, len(out)-len(helloWorld)-len("\r\n"), keepAliveField)
	}
	if string(req.Method) == "HEAD" {
		// Same header fields as GET, Content-Length included, but no body.
		out = out[:len(out)-len(helloWorld)]
	}
	return out
}

// insert inserts s into b at index at, in place when b has room.
func insert(b []byte, at int, s []byte) []byte {
	n := len(b)
	b = append(b, s...)
	copy(b[at+len(s):], b[at:n])
	copy(b[at:], s)
	return b
}
