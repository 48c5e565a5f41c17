// Command stdnet is the contestant users would write with package net: a
// goroutine per connection reading through a bufio.Reader, one Write per
// batch of replies.
package main

import (
	"bufio"
	"errors"
	"net"

	"github.com/evloop/evloop/benchmarks/internal/plaintext"
	"github.com/evloop/evloop/benchmarks/internal/server"
)

// readSize is each connection's bufio.Reader size (bufio's default).
const readSize = 4 << 10

func main() {
	cfg := server.Setup("stdnet", "echo", "http")
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		server.Fatal("stdnet", err)
	}
	serve := echo
	if cfg.Proto == "http" {
		dates := plaintext.StartDates()
		serve = func(c net.Conn) { http(c, dates) }
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			server.Fatal("stdnet", err)
		}
		go serve(c)
	}
}

// echo writes back whatever arrives.
func echo(c net.Conn) {
	defer c.Close()
	r := bufio.NewReaderSize(c, readSize)
	for {
		if _, err := r.Peek(1); err != nil { // waits for bytes
			return
		}
		in, _ := r.Peek(r.Buffered())
		if _, err := c.Write(in); err != nil {
			return
		}
		_, _ = r.Discard(len(in))
	}
}

// http answers every complete request buffered with one Write.
func http(c net.Conn, dates *plaintext.Dates) {
	defer c.Close()
	r := bufio.NewReaderSize(c, readSize)
	var out []byte
	for {
		// Wait for at least one byte more than the partial request the
		// buffer already holds. A request larger than the buffer fails
		// with bufio.ErrBufferFull: not this benchmark's traffic.
		if _, err := r.Peek(r.Buffered() + 1); err != nil {
			return
		}
		in, _ := r.Peek(r.Buffered())
		var used int
		var keepAlive bool
		out, used, keepAlive = plaintext.Answer(out[:0], in, dates.Get())
		if len(out) > 0 {
			if _, err := c.Write(out); err != nil {
				return
			}
		}
		if !keepAlive {
			return
		}
		_, _ = r.Discard(used)
	}
}
