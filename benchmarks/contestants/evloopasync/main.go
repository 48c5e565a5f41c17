// Command evloopasync is the evloop contestant that does its work on the
// engine's goroutine pool and replies with AsyncWrite: the path a handler
// with blocking work takes. Each connection keeps at most one job out, so
// replies stay in request order, and batches what arrives meanwhile.
package main

import (
	"errors"

	"github.com/evloop/evloop"
	"github.com/evloop/evloop/benchmarks/internal/plaintext"
	"github.com/evloop/evloop/benchmarks/internal/server"
)

// maxSpare is the largest buffer a connection keeps for reuse.
const maxSpare = 64 << 10

// handler serves both protocols; dates is nil for echo.
type handler struct {
	evloop.BaseHandler
	dates *plaintext.Dates
}

// session is one connection's state. pending, spare and busy are touched
// only on the connection's loop (OnTraffic, the AsyncWrite callback); out is
// touched only by the one job a connection has out at a time.
type session struct {
	pending []byte // received, not yet handed to a job
	spare   []byte // a finished batch, reused as the next pending
	busy    bool   // a job is out and its reply is not written yet
	out     []byte // the job's response buffer (http)
}

func (h *handler) OnOpen(c evloop.Conn) ([]byte, evloop.Action) {
	c.SetContext(&session{})
	return nil, evloop.None
}

func (h *handler) OnTraffic(c evloop.Conn) evloop.Action {
	s, ok := c.Context().(*session)
	if !ok {
		return evloop.Close
	}
	in, _ := c.Next(-1)
	// The copy: in is a view of the loop's read buffer, dead after OnTraffic.
	s.pending = append(s.pending, in...)
	if s.busy {
		return evloop.None // the running job's callback dispatches these
	}
	if err := h.dispatch(c, s); err != nil {
		return evloop.Close
	}
	return evloop.None
}

// dispatch hands the pending bytes to a pool job. Loop only.
func (h *handler) dispatch(c evloop.Conn, s *session) error {
	if len(s.pending) == 0 {
		return nil
	}
	batch := s.pending
	s.pending, s.spare = s.spare[:0], nil
	s.busy = true
	err := c.Submit(func() {
		reply, used, keepAlive := batch, len(batch), true
		if h.dates != nil {
			s.out, used, keepAlive = plaintext.Answer(s.out[:0], batch, h.dates.Get())
			reply = s.out
		}
		_ = c.AsyncWrite(reply, func(c evloop.Conn, err error) {
			h.replied(c, s, batch, used, keepAlive, err)
		})
	})
	if err != nil {
		s.busy = false
		if errors.Is(err, evloop.ErrPoolOverload) {
			// Keep the bytes; the next OnTraffic tries again.
			s.pending = append(batch, s.pending...)
			return nil
		}
	}
	return err
}

// replied runs on the loop once a job's reply is written (or the
// connection closed): it keeps an unanswered partial request in front of
// what arrived meanwhile and dispatches again when there is something new.
func (h *handler) replied(c evloop.Conn, s *session, batch []byte, used int, keepAlive bool, err error) {
	s.busy = false
	if err != nil {
		return
	}
	if !keepAlive {
		_ = c.Close()
		return
	}
	arrived := len(s.pending) > 0
	if used < len(batch) {
		n := copy(batch, batch[used:])
		s.pending, batch = append(batch[:n], s.pending...), s.pending
	}
	if cap(batch) <= maxSpare && s.spare == nil {
		s.spare = batch[:0]
	}
	if !arrived {
		return // only a partial request is pending: wait for its rest
	}
	if err := h.dispatch(c, s); err != nil {
		_ = c.Close()
	}
}

func main() {
	cfg := server.Setup("evloopasync", "echo", "http")
	h := &handler{}
	if cfg.Proto == "http" {
		h.dates = plaintext.StartDates()
	}
	err := evloop.Run(h, "tcp://"+cfg.Addr, evloop.WithLoops(cfg.Loops))
	server.Fatal("evloopasync", err)
}
