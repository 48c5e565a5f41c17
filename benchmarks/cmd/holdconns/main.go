// Command holdconns opens -conns idle connections and holds them, so that
// the memory a server spends per idle connection can be measured. Once all
// are open it prints {"event":"held","conns":N} on stdout; it then holds
// them until SIGINT, SIGTERM or -max passes, and exits 0 if the server
// closed none of them. With -exchange each connection first sends one HTTP
// request and reads its whole answer, so that what a server keeps after
// serving a connection is measured too. Beyond 20,000 connections it spreads
// them over the source addresses 127.0.0.2, 127.0.0.3 ...
//
// With -tls each connection completes a TLS handshake (crypto/tls, the
// certificate not verified, TLS 1.3, no resumption) and reads what the
// server sends right after it (session tickets) before it is held; the
// -exchange request then goes over TLS.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/evloop/evloop/benchmarks/internal/netx"
	"github.com/evloop/evloop/benchmarks/internal/server"
	"github.com/evloop/evloop/benchmarks/internal/tlscert"
)

type report struct {
	Event string `json:"event"`
	Conns int    `json:"conns"`
	Error string `json:"error,omitempty"`
}

func main() {
	addr := flag.String("addr", "127.0.0.1:9000", "server address")
	n := flag.Int("conns", 10000, "connections to open and hold")
	parallel := flag.Int("dial-parallel", 128, "dials in progress at once")
	timeout := flag.Duration("timeout", 10*time.Second, "how long one dial may take")
	maxHold := flag.Duration("max", 10*time.Minute, "the longest it holds the connections")
	exchange := flag.Bool("exchange", false, "make one HTTP request on each connection before holding it")
	useTLS := flag.Bool("tls", false, "complete a TLS handshake on each connection before holding it")
	flag.Parse()
	if *n < 1 || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "holdconns: -conns must be positive, and no arguments")
		os.Exit(2)
	}
	if err := run(*addr, *n, *parallel, *timeout, *maxHold, *exchange, *useTLS); err != nil {
		out, _ := json.Marshal(report{Event: "error", Error: err.Error()})
		fmt.Println(string(out))
		os.Exit(1)
	}
}

// ticketWait is how long a TLS connection reads, after its handshake, what
// the server sends then (TLS 1.3 session tickets, already on the socket).
const ticketWait = 200 * time.Millisecond

func run(addr string, n, parallel int, timeout, maxHold time.Duration, exchange, useTLS bool) error {
	if err := server.RaiseFileLimit(); err != nil {
		return err
	}
	conns, err := netx.DialAll(addr, n, parallel, netx.Sources(n), timeout)
	if err != nil {
		return err
	}
	defer func() {
		for _, c := range conns {
			_ = c.Close()
		}
	}()
	// talk is what the exchange goes over: the TLS connections with -tls.
	// stillOpen peeks at the sockets under them, conns.
	talk := conns
	if useTLS {
		if talk, err = netx.HandshakeAll(conns, tlscert.Client(), parallel, timeout, ticketWait); err != nil {
			return err
		}
	}
	if exchange {
		if err := exchangeAll(talk, parallel, timeout); err != nil {
			return err
		}
	}
	out, _ := json.Marshal(report{Event: "held", Conns: len(conns)})
	fmt.Println(string(out))

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	select {
	case <-stop:
	case <-time.After(maxHold):
	}
	return stillOpen(conns)
}

// stillOpen checks that the server closed none of the connections, with a
// non-blocking peek on each: EAGAIN means open and idle.
func stillOpen(conns []net.Conn) error {
	var buf [1]byte
	closed := 0
	for _, c := range conns {
		rc, err := c.(*net.TCPConn).SyscallConn()
		if err != nil {
			return err
		}
		var n int
		var rerr error
		if err := rc.Control(func(fd uintptr) {
			n, _, rerr = unix.Recvfrom(int(fd), buf[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
		}); err != nil {
			return err
		}
		if !errors.Is(rerr, unix.EAGAIN) || n > 0 {
			closed++
		}
	}
	if closed > 0 {
		return fmt.Errorf("the server closed or wrote to %d of %d idle connections", closed, len(conns))
	}
	return nil
}

// request is what -exchange sends; every HTTP contestant answers it with
// the plaintext body, with a Content-Length (the body ends the answer) or
// chunked (the last chunk does).
const request = "GET / HTTP/1.1\r\nHost: bench\r\n\r\n"

// answered reports whether b holds a whole plaintext answer.
func answered(b []byte) bool {
	s := string(b)
	return strings.HasSuffix(s, "Hello, World!") ||
		strings.Contains(s, "Transfer-Encoding: chunked") && strings.HasSuffix(s, "\r\n0\r\n\r\n")
}

// exchangeAll makes one request on every connection, parallel at a time,
// and reads each answer to its end.
func exchangeAll(conns []net.Conn, parallel int, timeout time.Duration) error {
	work := make(chan net.Conn)
	errs := make(chan error, parallel)
	for range parallel {
		go func() {
			var buf [4096]byte
			var err error
			for c := range work {
				if err == nil {
					err = exchangeOne(c, buf[:], timeout)
				}
			}
			errs <- err
		}()
	}
	for _, c := range conns {
		work <- c
	}
	close(work)
	var first error
	for range parallel {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

func exchangeOne(c net.Conn, buf []byte, timeout time.Duration) error {
	if err := c.SetDeadline(time.Now().Add(timeout)); err != nil {
		return err
	}
	if _, err := c.Write([]byte(request)); err != nil {
		return fmt.Errorf("exchange: %w", err)
	}
	got := 0
	for !answered(buf[:got]) {
		if got == len(buf) {
			return fmt.Errorf("exchange: no end of the answer in %d bytes", got)
		}
		n, err := c.Read(buf[got:])
		if err != nil {
			return fmt.Errorf("exchange: after %q: %w", buf[:got], err)
		}
		got += n
	}
	return c.SetDeadline(time.Time{})
}
