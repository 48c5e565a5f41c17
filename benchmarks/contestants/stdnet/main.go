// Command stdnet is the contestant users would write with package net: a
// goroutine per connection reading through a bufio.Reader, one Write per
// batch of replies; for udp, one socket read by -loops goroutines, each
// sending every datagram back to its sender. With -tls, echo and http are
// served over crypto/tls (tls.NewListener over net.Listen, a self-signed
// ECDSA certificate, crypto/tls's defaults), the same goroutine and work
// per connection; the handshake runs on the connection's first Read.
package main

import (
	"bufio"
	"crypto/tls"
	"errors"
	"net"
	"sync"

	"github.com/evloop/evloop/benchmarks/internal/plaintext"
	"github.com/evloop/evloop/benchmarks/internal/server"
	"github.com/evloop/evloop/benchmarks/internal/tlscert"
)

// readSize is each connection's bufio.Reader size (bufio's default).
const readSize = 4 << 10

const (
	// udpRecvBuffer is the udp socket's SO_RCVBUF, as the evloop
	// contestant's (the kernel caps it at net.core.rmem_max).
	udpRecvBuffer = 4 << 20
	// datagramSize holds any UDP datagram.
	datagramSize = 64 << 10
)

func main() {
	cfg := server.SetupTLS("stdnet", []string{"echo", "http"}, "echo", "http", "udp")
	if cfg.Proto == "udp" {
		server.Fatal("stdnet", serveUDP(cfg.Addr, cfg.Loops))
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		server.Fatal("stdnet", err)
	}
	if cfg.TLS {
		tc, err := tlscert.Config()
		if err != nil {
			server.Fatal("stdnet", err)
		}
		ln = tls.NewListener(ln, tc)
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

// serveUDP listens on one UDP socket and reads it with loops goroutines,
// each with its own buffer, each writing every datagram back to its sender.
// It returns when the socket fails.
func serveUDP(addr string, loops int) error {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return err
	}
	c, err := net.ListenUDP("udp", ua)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.SetReadBuffer(udpRecvBuffer); err != nil {
		return err
	}
	errc := make(chan error, loops)
	var wg sync.WaitGroup
	for range loops {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errc <- udpEcho(c)
		}()
	}
	err = <-errc
	c.Close() // the other goroutines return too
	wg.Wait()
	return err
}

// udpEcho sends every datagram c receives back to its sender, until c
// fails. A reply that cannot be sent is lost, as a datagram may be.
func udpEcho(c *net.UDPConn) error {
	buf := make([]byte, datagramSize)
	for {
		n, peer, err := c.ReadFromUDPAddrPort(buf)
		if err != nil {
			return err
		}
		_, _ = c.WriteToUDPAddrPort(buf[:n], peer)
	}
}
