package main

import (
	"bytes"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestPipelined writes many commands at once and reads the replies, in
// order.
func TestPipelined(t *testing.T) {
	s := startServer(t)
	c := s.dial(t)
	var batch, want strings.Builder
	for i := range 200 {
		key := fmt.Sprint("k", i%7)
		batch.WriteString(multibulk("INCR", key))
		want.WriteString(integer(int64(i/7 + 1)))
	}
	c.send(t, batch.String())
	for i, line := range strings.SplitAfter(want.String(), "\r\n")[:200] {
		if got := c.reply(t); got != line {
			t.Fatalf("reply %d: %q, want %q", i, got, line)
		}
	}
}

// TestSplitCommand sends one command in two writes, split at every byte,
// on one connection: the first part stays buffered until the rest comes.
func TestSplitCommand(t *testing.T) {
	s := startServer(t)
	c := s.dial(t)
	for _, cmd := range []string{multibulk("SET", "split", "value"), "SET split \"value\"\r\n"} {
		for i := 1; i < len(cmd); i++ {
			c.send(t, cmd[:i])
			time.Sleep(time.Millisecond) // let the server see the first part alone
			c.send(t, cmd[i:])
			c.expect(t, ok)
		}
	}
}

// TestQuit: QUIT is answered, then the connection closes; what was
// pipelined after it is not run.
func TestQuit(t *testing.T) {
	s := startServer(t)
	c := s.dial(t)
	c.send(t, "PING\r\nQUIT\r\nSET after quit\r\n")
	c.expect(t, "+PONG\r\n")
	c.expect(t, ok)
	c.expectClosed(t)
	if got := s.dial(t).do(t, "EXISTS", "after"); got != integer(0) {
		t.Fatalf("a command after QUIT ran: EXISTS after = %q", got)
	}
}

// TestSharedStore: every loop serves the same keys.
func TestSharedStore(t *testing.T) {
	s := startServer(t)
	conns := make([]*testConn, 4) // round-robin over two loops
	for i := range conns {
		conns[i] = s.dial(t)
	}
	for i, c := range conns {
		c.do(t, "SET", fmt.Sprint("from", i), fmt.Sprint(i))
	}
	for _, c := range conns {
		for i := range conns {
			if got := c.do(t, "GET", fmt.Sprint("from", i)); got != bulk(fmt.Sprint(i)) {
				t.Fatalf("GET from%d = %q", i, got)
			}
		}
	}
}

// TestClientNamePerConnection: CLIENT SETNAME names one connection.
func TestClientNamePerConnection(t *testing.T) {
	s := startServer(t)
	a, b := s.dial(t), s.dial(t)
	a.do(t, "CLIENT", "SETNAME", "alice")
	if got := b.do(t, "CLIENT", "GETNAME"); got != null {
		t.Fatalf("the other connection's name: %q", got)
	}
	if got := a.do(t, "CLIENT", "GETNAME"); got != bulk("alice") {
		t.Fatalf("name %q", got)
	}
}

// TestActiveExpiry: keys that expire and that no command touches are
// deleted by the loops' sweep.
func TestActiveExpiry(t *testing.T) {
	s := startServer(t)
	c := s.dial(t)
	var batch strings.Builder
	for i := range 300 {
		batch.WriteString(multibulk("SET", fmt.Sprint("e", i), "v", "PX", "50"))
	}
	batch.WriteString(multibulk("SET", "keep", "v"))
	c.send(t, batch.String())
	for range 301 {
		c.expect(t, ok)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if got := c.do(t, "DBSIZE"); got == integer(1) {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("DBSIZE %q 5s after the keys expired, want 1: the sweep did not delete them", got)
		}
		time.Sleep(50 * time.Millisecond)
	}
	info := c.do(t, "INFO", "stats")
	if !strings.Contains(info, "expired_keys:300\r\n") {
		t.Fatalf("INFO stats does not count 300 expired keys:\n%s", info)
	}
}

// TestBigValue stores and reads back a 10 MiB value, then reads it three
// times in one pipeline.
func TestBigValue(t *testing.T) {
	s := startServer(t)
	c := s.dial(t)
	value := bytes.Repeat([]byte("0123456789abcdef"), 10<<20/16)
	// Written while the test reads, so that neither side waits on a full
	// socket buffer.
	sent := c.sendAsync(multibulk("SET", "big", string(value)) + strings.Repeat(multibulk("GET", "big"), 4))
	c.expect(t, ok)
	for i := range 4 {
		v, _, err := readReply(c.r)
		if err != nil || v.kind != '$' || v.str != string(value) {
			t.Fatalf("GET %d: %v, kind %q, %d bytes; want the 10 MiB value", i, err, v.kind, len(v.str))
		}
	}
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
}

// TestValueAboveLimit: a bulk longer than -max-value is refused as soon as
// its length line arrives, before any of its bytes are sent, and the
// connection closes.
func TestValueAboveLimit(t *testing.T) {
	tests := []struct {
		name     string
		maxValue int
		length   int
	}{
		{name: "1 KiB limit", maxValue: 1 << 10, length: 1<<10 + 1},
		{name: "default limit, 512 MiB", length: 512<<20 + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startServerWith(t, config{addr: "tcp://127.0.0.1:0", loops: 1, maxValue: tt.maxValue})
			c := s.dial(t)
			c.send(t, fmt.Sprintf("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$%d\r\n", tt.length))
			c.expect(t, "-ERR Protocol error: invalid bulk length\r\n")
			c.expectClosed(t)
		})
	}
	t.Run("at the limit", func(t *testing.T) {
		s := startServerWith(t, config{addr: "tcp://127.0.0.1:0", loops: 1, maxValue: 1 << 10})
		c := s.dial(t)
		value := strings.Repeat("v", 1<<10)
		c.send(t, multibulk("SET", "k", value))
		c.expect(t, ok)
		if got := c.do(t, "GET", "k"); got != bulk(value) {
			t.Fatalf("GET returned %d bytes, want the %d-byte value", len(got), len(value))
		}
	})
}

// TestCommandAboveLimit: a command whose arguments add up to more than
// -max-value plus 1 MiB is refused as soon as the length line that passes
// the limit arrives.
func TestCommandAboveLimit(t *testing.T) {
	s := startServerWith(t, config{addr: "tcp://127.0.0.1:0", loops: 1, maxValue: 64 << 10})
	c := s.dial(t)
	value := strings.Repeat("v", 64<<10)
	args := []string{"MSET"}
	for i := range 20 { // 20 values of 64 KiB: 1.25 MiB, above 1 MiB + 64 KiB
		args = append(args, fmt.Sprint("k", i), value)
	}
	// The server closes before the whole command is sent: the write may
	// fail, which is the point.
	sent := c.sendAsync(multibulk(args...))
	c.expect(t, "-ERR Protocol error: too big multibulk request\r\n")
	c.expectClosed(t)
	<-sent
}

// TestBackpressure pipelines GETs whose replies add up to many times the
// outbound limit (-max-value plus 2 MiB), and reads them only afterwards:
// the server stops running commands while the replies wait, and goes on
// as they drain, instead of closing the connection for a full buffer.
func TestBackpressure(t *testing.T) {
	s := startServerWith(t, config{addr: "tcp://127.0.0.1:0", loops: 1, maxValue: 1 << 20})
	c := s.dial(t)
	value := strings.Repeat("x", 512<<10)
	c.send(t, multibulk("SET", "v", value))
	c.expect(t, ok)
	const gets = 64 // 32 MiB of replies
	sent := c.sendAsync(strings.Repeat(multibulk("GET", "v"), gets))
	time.Sleep(200 * time.Millisecond) // let the replies pile up
	for i := range gets {
		v, _, err := readReply(c.r)
		if err != nil || v.str != value {
			t.Fatalf("GET %d: %v, %d bytes", i, err, len(v.str))
		}
	}
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	if got := c.do(t, "PING"); got != "+PONG\r\n" {
		t.Fatalf("PING after the pipeline: %q", got)
	}
}

// TestUnixSocket serves on a Unix socket.
func TestUnixSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "redis.sock")
	s := startServerWith(t, config{addr: "unix://" + path, loops: 1})
	nc, err := net.DialTimeout("unix", path, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	c := newClient(t, nc)
	c.send(t, "PING\r\n")
	c.expect(t, "+PONG\r\n")
	if got := c.do(t, "CONFIG", "GET", "port"); got != "*2\r\n"+bulk("port")+bulk("0") {
		t.Fatalf("CONFIG GET port on a Unix socket: %q", got)
	}
	_ = s
}
