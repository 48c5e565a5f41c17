package evloop_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"time"

	"github.com/evloop/evloop"
)

// echo writes back whatever it receives, from the loop.
type echo struct {
	evloop.BaseHandler
	addr chan net.Addr
}

func (h *echo) OnBoot(eng evloop.Engine) evloop.Action {
	h.addr <- eng.Addrs()[0] // where a client can reach us
	return evloop.None
}

func (h *echo) OnTraffic(c evloop.Conn) evloop.Action {
	b, _ := c.Next(-1) // what arrived, without a copy
	c.Write(b)         // to the socket now; the rest as it drains
	return evloop.None
}

// A server until its context ends: RunContext returns nil after the
// graceful stop.
func Example() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h := &echo{addr: make(chan net.Addr, 1)}
	done := make(chan error, 1)
	go func() { done <- evloop.RunContext(ctx, h, "tcp://127.0.0.1:0", evloop.WithLoops(1)) }()

	nc, err := net.Dial("tcp", (<-h.addr).String())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer nc.Close()
	fmt.Fprint(nc, "hello, evloop\n")
	line, _ := bufio.NewReader(nc).ReadString('\n')
	fmt.Print(line)

	cancel() // as a SIGTERM would with signal.NotifyContext
	fmt.Println("stopped:", <-done)
	// Output:
	// hello, evloop
	// stopped: <nil>
}

// upper answers each line from the goroutine pool, as a handler whose work
// blocks (a database, another service) must. Execute keeps each
// connection's replies in request order.
type upper struct {
	evloop.BaseHandler
	addr chan net.Addr
}

func (h *upper) OnBoot(eng evloop.Engine) evloop.Action {
	h.addr <- eng.Addrs()[0]
	return evloop.None
}

func (h *upper) OnTraffic(c evloop.Conn) evloop.Action {
	for {
		buf, _ := c.Peek(-1)
		i := bytes.IndexByte(buf, '\n')
		if i < 0 {
			return evloop.None // the rest of the line is still to come
		}
		line := bytes.Clone(buf[:i+1]) // the view dies with OnTraffic
		c.Discard(i + 1)
		err := c.Execute(func() {
			time.Sleep(time.Millisecond)           // the blocking work
			c.AsyncWrite(bytes.ToUpper(line), nil) // back through the loop
		})
		if err != nil {
			return evloop.Close
		}
	}
}

// Blocking work on the pool, replies with AsyncWrite, in order.
func ExampleConn_Execute() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h := &upper{addr: make(chan net.Addr, 1)}
	done := make(chan error, 1)
	go func() { done <- evloop.RunContext(ctx, h, "tcp://127.0.0.1:0", evloop.WithLoops(1)) }()

	nc, err := net.Dial("tcp", (<-h.addr).String())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer nc.Close()
	fmt.Fprint(nc, "first\nsecond\nthird\n") // pipelined
	r := bufio.NewReader(nc)
	for i := 0; i < 3; i++ {
		line, _ := r.ReadString('\n')
		fmt.Print(line)
	}
	cancel()
	<-done
	// Output:
	// FIRST
	// SECOND
	// THIRD
}

// stopper keeps the Engine OnBoot hands it, to stop it later.
type stopper struct {
	evloop.BaseHandler
	eng chan evloop.Engine
}

func (h *stopper) OnBoot(eng evloop.Engine) evloop.Action {
	h.eng <- eng
	return evloop.None
}

func (h *stopper) OnShutdown(evloop.Engine) { fmt.Println("OnShutdown") }

// Stop from another goroutine: it waits for the drain and the close of every
// connection, bounded by its context, and then Run returns nil.
func ExampleEngine_Stop() {
	h := &stopper{eng: make(chan evloop.Engine, 1)}
	done := make(chan error, 1)
	go func() { done <- evloop.Run(h, "tcp://127.0.0.1:0", evloop.WithLoops(1)) }()
	eng := <-h.eng

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	fmt.Println("Stop:", eng.Stop(ctx))
	fmt.Println("Run:", <-done)
	// Output:
	// OnShutdown
	// Stop: <nil>
	// Run: <nil>
}
