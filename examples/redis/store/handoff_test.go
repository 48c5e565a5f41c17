package store

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/evloop/evloop"
)

// BenchmarkHandoffRoundTrip measures what a store owned by the loops
// would add to each command whose key another loop owns: the command goes
// to the owner's task queue and wakes it (an eventfd write), the owner
// runs it, and the reply comes back the same way. Here an op is one such
// round trip between two loops, done with Conn.Wake callbacks, which cost
// what a dedicated hand-off task would. Compare with BenchmarkGet and
// BenchmarkGetParallel: a shard lock costs tens of nanoseconds, the round
// trip microseconds.
func BenchmarkHandoffRoundTrip(b *testing.B) {
	h := &handoffHandler{ready: make(chan net.Addr, 1), opened: make(chan evloop.Conn, 2)}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		errc <- evloop.RunContext(ctx, h, "tcp://127.0.0.1:0", evloop.WithLoops(2), evloop.WithLogger(nil))
	}()
	defer func() {
		cancel()
		if err := <-errc; err != nil {
			b.Error(err)
		}
	}()
	addr := <-h.ready
	// Round-robin: the first connection goes to loop 0, the second to 1.
	var conns [2]evloop.Conn
	for i := range conns {
		nc, err := net.DialTimeout("tcp", addr.String(), 5*time.Second)
		if err != nil {
			b.Fatal(err)
		}
		defer nc.Close()
		conns[i] = <-h.opened
	}
	if conns[0].Loop() == conns[1].Loop() {
		b.Fatal("both connections on one loop")
	}
	done := make(chan struct{})
	var left int
	var there, back evloop.AsyncCallback
	// there runs on the owner's loop, back on the first loop again.
	there = func(evloop.Conn, error) { _ = conns[0].Wake(back) }
	back = func(evloop.Conn, error) {
		if left--; left > 0 {
			_ = conns[1].Wake(there)
			return
		}
		close(done)
	}
	b.ResetTimer()
	left = b.N
	if err := conns[1].Wake(there); err != nil {
		b.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(time.Minute):
		b.Fatal("the round trips did not finish within a minute")
	}
}

type handoffHandler struct {
	evloop.BaseHandler
	ready  chan net.Addr
	opened chan evloop.Conn
}

func (h *handoffHandler) OnBoot(eng evloop.Engine) evloop.Action {
	h.ready <- eng.Addrs()[0]
	return evloop.None
}

func (h *handoffHandler) OnOpen(c evloop.Conn) ([]byte, evloop.Action) {
	h.opened <- c
	return nil, evloop.None
}
