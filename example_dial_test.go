package evloop_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/evloop/evloop"
)

// printer prints what its connections receive.
type printer struct {
	evloop.BaseHandler
	booted chan evloop.Engine
	got    chan string
}

func (h *printer) OnBoot(eng evloop.Engine) evloop.Action {
	h.booted <- eng
	return evloop.None
}

func (h *printer) OnTraffic(c evloop.Conn) evloop.Action {
	b, _ := c.Next(-1)
	h.got <- string(b)
	return evloop.None
}

// A client engine: no listen address, connections from Engine.Dial,
// served by the handler like accepted ones.
func ExampleEngine_Dial() {
	ln, err := net.Listen("tcp", "127.0.0.1:0") // an echo server of package net
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ln.Close()
	go func() {
		if c, err := ln.Accept(); err == nil {
			io.Copy(c, c)
			c.Close()
		}
	}()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h := &printer{booted: make(chan evloop.Engine, 1), got: make(chan string, 1)}
	done := make(chan error, 1)
	go func() { done <- evloop.RunAddrsContext(ctx, h, nil, evloop.WithLoops(1)) }()
	eng := <-h.booted

	c, err := eng.Dial(ctx, "tcp", ln.Addr().String()) // returns once OnOpen ran
	if err != nil {
		fmt.Println(err)
		return
	}
	c.AsyncWrite([]byte("hello, server\n"), nil)
	fmt.Print(<-h.got)

	cancel()
	fmt.Println("stopped:", <-done)
	// Output:
	// hello, server
	// stopped: <nil>
}

// relay answers each client with what a backend says, over a connection
// it dials on the client's own loop: the two talk with plain calls.
type relay struct {
	evloop.BaseHandler
	backend string
	addr    chan net.Addr
}

func (h *relay) OnBoot(eng evloop.Engine) evloop.Action {
	h.addr <- eng.Addrs()[0]
	return evloop.None
}

func (h *relay) OnOpen(c evloop.Conn) ([]byte, evloop.Action) {
	if _, ok := c.Context().(evloop.Conn); ok {
		return nil, evloop.None // a backend: its Context is its client
	}
	err := c.Loop().Dial("tcp", h.backend, time.Second, c, func(b evloop.Conn, err error) {
		if err != nil {
			c.Close() // refused or timed out
		}
	})
	if err != nil {
		return nil, evloop.Close
	}
	return nil, evloop.None
}

func (h *relay) OnTraffic(c evloop.Conn) evloop.Action {
	client, ok := c.Context().(evloop.Conn)
	if !ok {
		return evloop.None // what clients send is not read here
	}
	b, _ := c.Next(-1)
	client.Write(b) // the same loop: a plain Write
	return evloop.None
}

func (h *relay) OnClose(c evloop.Conn, _ error) evloop.Action {
	if client, ok := c.Context().(evloop.Conn); ok {
		client.Close() // the backend is done, so is its client
	}
	return evloop.None
}

// A handler dials from a callback with Loop.Dial, which never blocks the
// loop; the result comes back on the loop.
func ExampleLoop_Dial() {
	backend, err := net.Listen("tcp", "127.0.0.1:0") // says one line, then closes
	if err != nil {
		fmt.Println(err)
		return
	}
	defer backend.Close()
	go func() {
		if c, err := backend.Accept(); err == nil {
			fmt.Fprint(c, "it is noon\n")
			c.Close()
		}
	}()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h := &relay{backend: backend.Addr().String(), addr: make(chan net.Addr, 1)}
	done := make(chan error, 1)
	go func() { done <- evloop.RunContext(ctx, h, "tcp://127.0.0.1:0", evloop.WithLoops(1)) }()

	nc, err := net.Dial("tcp", (<-h.addr).String())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer nc.Close()
	line, _ := bufio.NewReader(nc).ReadString('\n')
	fmt.Print(line)

	cancel()
	fmt.Println("stopped:", <-done)
	// Output:
	// it is noon
	// stopped: <nil>
}
