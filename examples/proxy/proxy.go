package main

import (
	"net"
	"time"

	"github.com/evloop/evloop"
)

// end is one connection of a proxied pair, the client's or the backend's,
// and its Context. Both ends of a pair live on the same loop (the backend
// is dialed with the client's Loop().Dial), so every field is touched only
// by that loop's callbacks and needs no lock.
type end struct {
	conn evloop.Conn // nil for the backend until it is connected
	peer *end        // the other end of the pair

	eof     bool // the connection's peer sent FIN
	finSent bool // and it was passed on to the other end
	held    bool // the other end's output is above the high watermark
	waiting bool // a client whose backend is not connected yet
	paused  bool // PauseReading is in effect
	closed  bool // OnClose has run
}

// proxy is the handler: it pairs every accepted client with a backend
// connection and copies bytes between the two.
type proxy struct {
	evloop.BaseHandler
	network, address string // the backend, as Loop.Dial takes it
	timeout          time.Duration
	ready            func(net.Addr)
}

// OnBoot reports the bound address.
func (p *proxy) OnBoot(eng evloop.Engine) evloop.Action {
	p.ready(eng.Addrs()[0])
	return evloop.None
}

// OnOpen pairs a new client with a backend connection, dialed on the
// client's own loop. The client is not read until the backend is
// connected: what it sends meanwhile waits (in the kernel, or in its
// inbound buffer) and is forwarded then. A backend connection arrives here
// too, with its end as Context (Loop.Dial set it).
func (p *proxy) OnOpen(c evloop.Conn) ([]byte, evloop.Action) {
	if e, ok := c.Context().(*end); ok {
		e.conn = c // a backend: the dial callback links it up next
		return nil, evloop.None
	}
	client := &end{conn: c, waiting: true}
	client.peer = &end{peer: client}
	c.SetContext(client)
	client.sync()
	err := c.Loop().Dial(p.network, p.address, p.timeout, client.peer, func(b evloop.Conn, err error) {
		p.connected(client, err)
	})
	if err != nil {
		return nil, evloop.Close
	}
	return nil, evloop.None
}

// connected runs on the loop once the backend dial is settled. A failed
// dial (refused, timed out) closes the client; a client that left
// meanwhile closes the backend. Otherwise the client is read again, and a
// Wake forwards what it sent while waiting (OnTraffic), then a FIN it sent
// meanwhile.
func (p *proxy) connected(client *end, err error) {
	backend := client.peer
	switch {
	case err != nil:
		if !client.closed {
			_ = client.conn.Close()
		}
		return
	case client.closed:
		_ = backend.conn.Close()
		return
	}
	client.waiting = false
	client.sync()
	_ = client.conn.Wake(func(c evloop.Conn, err error) {
		if err == nil && client.eof && passFIN(client) == evloop.Close {
			_ = c.Close()
		}
	})
}

// OnTraffic forwards what one end received to the other, and stops
// reading this end while the other's output is above the high watermark
// (OnWritable resumes it). A client's bytes stay buffered until its
// backend is connected.
func (p *proxy) OnTraffic(c evloop.Conn) evloop.Action {
	e := c.Context().(*end)
	if e.waiting {
		return evloop.None
	}
	in, _ := c.Next(-1)
	if len(in) == 0 {
		return evloop.None
	}
	out := e.peer.conn
	// The same loop owns both: a plain Write, which copies what the
	// socket does not take at once.
	if _, err := out.Write(in); err != nil {
		return evloop.Close
	}
	if out.OutboundBuffered() > outboundHigh {
		e.held = true
		e.sync()
	}
	return evloop.None
}

// OnWritable runs once c's output, having passed the high watermark, has
// drained to the low one: the end that fills it may be read again.
func (p *proxy) OnWritable(c evloop.Conn) evloop.Action {
	if src := c.Context().(*end).peer; src.held {
		src.held = false
		src.sync()
	}
	return evloop.None
}

// OnReadClosed passes a FIN on (see passFIN).
func (p *proxy) OnReadClosed(c evloop.Conn) evloop.Action {
	e := c.Context().(*end)
	e.eof = true
	return passFIN(e)
}

// passFIN passes e's FIN on to the other end once everything e received
// before it was forwarded: the other end's peer reads EOF after the last
// byte. A client still waiting for its backend keeps its FIN, and
// connected passes it on. When both FINs have passed, the pair is done and
// both ends close, after flushing; the returned action closes e.
func passFIN(e *end) evloop.Action {
	if e.waiting || e.finSent || e.conn.InboundBuffered() > 0 {
		return evloop.None
	}
	e.finSent = true
	_ = e.peer.conn.CloseWrite()
	if e.peer.finSent {
		_ = e.peer.conn.Close()
		return evloop.Close
	}
	return evloop.None
}

// OnClose closes the other end: with a reset when this one failed (a
// peer that reset, a write that failed), so the other side cannot mistake
// the cut stream for a complete one; orderly otherwise.
func (p *proxy) OnClose(c evloop.Conn, err error) evloop.Action {
	e, ok := c.Context().(*end)
	if !ok {
		return evloop.None
	}
	e.closed = true
	other := e.peer
	if other.conn == nil || other.closed {
		return evloop.None // a backend still connecting is closed by connected
	}
	if err != nil {
		_ = other.conn.Abort()
	} else {
		_ = other.conn.Close()
	}
	return evloop.None
}

// sync pauses or resumes reading e so that it reads exactly when nothing
// holds it: neither a full peer nor a backend still connecting.
func (e *end) sync() {
	want := e.held || e.waiting
	if want == e.paused {
		return
	}
	e.paused = want
	if want {
		_ = e.conn.PauseReading()
	} else {
		_ = e.conn.ResumeReading()
	}
}
