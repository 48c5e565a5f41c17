package main

import (
	"fmt"
	"net"
	"strings"
	"testing"
)

// TestBlockingScript plays the whole script with commands run on the
// goroutine pool: the same replies, in the same order.
func TestBlockingScript(t *testing.T) {
	s := startServerWith(t, config{addr: "tcp://127.0.0.1:0", loops: 2, blocking: true})
	c := s.dial(t)
	c.run(t, script(), nil)
	c.expectClosed(t)
}

// TestBlockingPipelinedOrder sends many pipelined commands in small writes,
// so that they reach the pool in many jobs: the replies keep the order.
func TestBlockingPipelinedOrder(t *testing.T) {
	s := startServerWith(t, config{addr: "tcp://127.0.0.1:0", loops: 2, blocking: true})
	c := s.dial(t)
	const n = 500
	var batch strings.Builder
	for i := range n {
		batch.WriteString(multibulk("ECHO", fmt.Sprint(i)))
	}
	sent := c.sendAsync(batch.String())
	for i := range n {
		if got, want := c.reply(t), bulk(fmt.Sprint(i)); got != want {
			t.Fatalf("reply %d: %q, want %q", i, got, want)
		}
	}
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
}

// TestBlockingHalfClose: a client that sends its commands and shuts down
// its side still gets every reply, then the server closes.
func TestBlockingHalfClose(t *testing.T) {
	s := startServerWith(t, config{addr: "tcp://127.0.0.1:0", loops: 1, blocking: true})
	c := s.dial(t)
	c.send(t, strings.Repeat("INCR hc\r\n", 100))
	if err := c.Conn.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		c.expect(t, integer(int64(i+1)))
	}
	c.expectClosed(t)
}

// TestBlockingProtocolError: the commands before the bad bytes are
// answered from the pool, then the error, then the connection closes.
func TestBlockingProtocolError(t *testing.T) {
	s := startServerWith(t, config{addr: "tcp://127.0.0.1:0", loops: 1, blocking: true})
	c := s.dial(t)
	c.send(t, "PING\r\nECHO a\r\n*-5\r\nPING\r\n")
	c.expect(t, "+PONG\r\n")
	c.expect(t, bulk("a"))
	c.expect(t, "-ERR Protocol error: invalid multibulk length\r\n")
	c.expectClosed(t)
}
