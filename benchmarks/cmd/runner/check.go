package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/evloop/evloop/benchmarks/internal/plaintext"
)

// check verifies that the server at addr answers proto correctly before it
// is measured.
func check(proto, addr string) error {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		return err
	}
	if proto == "echo" {
		return checkEcho(c)
	}
	return checkHTTP(c)
}

// checkEcho sends messages from one byte to more than a socket buffer
// holds, and compares what comes back.
func checkEcho(c net.Conn) error {
	for _, size := range []int{1, 64, 4 << 10, 1 << 20} {
		msg := make([]byte, size)
		for i := range msg {
			msg[i] = byte(i*7 + size)
		}
		errc := make(chan error, 1)
		go func() { // the server echoes while this sends: read concurrently
			_, err := c.Write(msg)
			errc <- err
		}()
		got := make([]byte, size)
		_, rerr := io.ReadFull(c, got)
		if err := <-errc; err != nil {
			return fmt.Errorf("echo of %d bytes: write: %w", size, err)
		}
		if rerr != nil {
			return fmt.Errorf("echo of %d bytes: read: %w", size, rerr)
		}
		if !bytes.Equal(got, msg) {
			return fmt.Errorf("echo of %d bytes came back different", size)
		}
	}
	return nil
}

// checkHTTP sends three pipelined requests in one write and a fourth split
// over two writes, and expects four "200 OK" responses with the body.
func checkHTTP(c net.Conn) error {
	const req = "GET / HTTP/1.1\r\nHost: bench\r\n\r\n"
	if _, err := io.WriteString(c, req+req+req+req[:10]); err != nil {
		return err
	}
	r := bufio.NewReader(c)
	for i := 0; i < 4; i++ {
		if i == 3 {
			time.Sleep(20 * time.Millisecond) // the server has seen the partial request
			if _, err := io.WriteString(c, req[10:]); err != nil {
				return err
			}
		}
		resp, err := http.ReadResponse(r, nil)
		if err != nil {
			return fmt.Errorf("response %d: %w", i+1, err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("response %d body: %w", i+1, err)
		}
		if resp.StatusCode != http.StatusOK || !bytes.Equal(body, plaintext.Body) {
			return fmt.Errorf("response %d: %s with body %q, want 200 OK with %q", i+1, resp.Status, body, plaintext.Body)
		}
	}
	return nil
}
