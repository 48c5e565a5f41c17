package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/evloop/evloop/benchmarks/internal/fakesrv"
	"github.com/evloop/evloop/benchmarks/internal/loadgen"
)

// fakeRedis serves SET and GET on a loopback port, the replies of each
// connection in order, until the test ends. wrong, when set, may replace
// the n-th reply of the server (counting from 0) with other bytes.
func fakeRedis(t *testing.T, wrong func(n int, reply string) string) string {
	t.Helper()
	var replies atomic.Int64
	return fakesrv.Listen(t, func(c net.Conn) {
		r, w := bufio.NewReader(c), bufio.NewWriter(c)
		store := map[string]string{}
		for {
			args, err := readCommand(r)
			if err != nil {
				return
			}
			var reply string
			switch {
			case len(args) == 3 && args[0] == "SET":
				store[args[1]] = args[2]
				reply = "+OK\r\n"
			case len(args) == 2 && args[0] == "GET":
				v := store[args[1]]
				reply = "$" + strconv.Itoa(len(v)) + "\r\n" + v + "\r\n"
			default:
				reply = "-ERR unknown command\r\n"
			}
			if wrong != nil {
				reply = wrong(int(replies.Add(1)-1), reply)
			}
			w.WriteString(reply)
			if r.Buffered() == 0 { // one write per batch, as servers do
				if w.Flush() != nil {
					return
				}
			}
		}
	})
}

// readCommand reads one multibulk command.
func readCommand(r *bufio.Reader) ([]string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(line, "*"), "\r\n"))
	if err != nil || line[0] != '*' {
		return nil, fmt.Errorf("not a multibulk command: %q", line)
	}
	args := make([]string, n)
	for i := range args {
		if line, err = r.ReadString('\n'); err != nil {
			return nil, err
		}
		size, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(line, "$"), "\r\n"))
		if err != nil || line[0] != '$' {
			return nil, fmt.Errorf("not a bulk string: %q", line)
		}
		b := make([]byte, size+2)
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, err
		}
		args[i] = string(b[:size])
	}
	return args, nil
}

// loadRESP runs one respWorker against addr for a short window and returns
// what it measured; it fails the test if the worker does not stop within
// a few seconds.
func loadRESP(t *testing.T, addr string, pipeline int) *outcome {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	var phase atomic.Int32
	phase.Store(loadgen.Measuring)
	w := newRESPWorker(c, 7, 64, pipeline, &phase)
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.run(time.Now())
	}()
	select {
	case <-done:
	case <-time.After(200 * time.Millisecond):
		phase.Store(loadgen.Stopping)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("the worker did not stop")
		}
	}
	return w.measured()
}

func TestRESPRepliesAreChecked(t *testing.T) {
	for _, pipeline := range []int{1, 16} {
		t.Run(fmt.Sprintf("pipeline %d", pipeline), func(t *testing.T) {
			// Enough commands to pass the last key and start again.
			if o := loadRESP(t, fakeRedis(t, nil), pipeline); o.err != nil || o.msgs < 2 {
				t.Fatalf("a correct server: %d replies, error %v", o.msgs, o.err)
			}
			wrongValue := func(n int, reply string) string {
				if n == 11 { // a GET's: one byte of the value differs
					return reply[:8] + "?" + reply[9:]
				}
				return reply
			}
			o := loadRESP(t, fakeRedis(t, wrongValue), pipeline)
			if o.err == nil || !strings.Contains(o.err.Error(), "command 11 ") || !strings.Contains(o.err.Error(), "GET") {
				t.Fatalf("a wrong value: error %v, want one about command 11, a GET", o.err)
			}
			// A reply shorter than the one expected fails at once, and
			// does not wait for bytes that will not come.
			shortError := func(n int, reply string) string {
				if n == 5 {
					return "-ERR no\r\n"
				}
				return reply
			}
			o = loadRESP(t, fakeRedis(t, shortError), pipeline)
			if o.err == nil || !strings.Contains(o.err.Error(), "-ERR no") {
				t.Fatalf("an error reply: error %v", o.err)
			}
			// Replies to commands never sent.
			extra := func(n int, reply string) string {
				if n == 2 {
					return reply + "+OK\r\n"
				}
				return reply
			}
			if o = loadRESP(t, fakeRedis(t, extra), pipeline); o.err == nil {
				t.Fatal("an extra reply went unnoticed")
			}
		})
	}
}

func TestRESPCommands(t *testing.T) {
	var phase atomic.Int32
	w := newRESPWorker(nil, 3, 4, 1, &phase)
	set, get := string(w.appendCommand(nil, 2*(respKeys+5))), string(w.appendCommand(nil, 2*5+1))
	v := string(w.value(5))
	if want := "*3\r\n$3\r\nSET\r\n$7\r\nkey:3:5\r\n$4\r\n" + v + "\r\n"; set != want {
		t.Errorf("SET = %q, want %q", set, want)
	}
	if want := "*2\r\n$3\r\nGET\r\n$7\r\nkey:3:5\r\n"; get != want {
		t.Errorf("GET = %q, want %q", get, want)
	}
	if got, want := string(w.appendReply(nil, 11)), "$4\r\n"+v+"\r\n"; got != want {
		t.Errorf("GET's reply = %q, want %q", got, want)
	}
	if string(w.value(5)) == string(w.value(6)) || string(newRESPWorker(nil, 4, 4, 1, &phase).value(5)) == v {
		t.Error("two keys, or two connections, have the same value")
	}
}
