//go:build !race

package main

import (
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/evloop/evloop/examples/redis/store"
)

// newTestHandler returns a handler as serve makes it, with the default
// value limit.
func newTestHandler() *handler {
	return newHandler(config{maxValue: defaultMaxValue}, store.New())
}

// TestOnTrafficAllocs drives the handler with batches of commands and
// requires that a batch allocates nothing once warm: parsing, running the
// command, reading or writing the store in place, and the replies. Not
// under -race, which allocates on its own.
func TestOnTrafficAllocs(t *testing.T) {
	keys := make([]string, 10)
	for i := range keys {
		keys[i] = fmt.Sprint("key:", i)
	}
	tests := []struct {
		name string
		in   string
		want string // a reply the batch must contain
	}{
		{name: "GET hit", in: multibulk("GET", "key:1"), want: bulk("xxx")},
		{name: "GET miss", in: multibulk("GET", "nope"), want: null},
		{name: "16 pipelined GETs", in: strings.Repeat(multibulk("GET", "key:2"), 16), want: bulk("xxx")},
		{name: "SET over a value of the same size", in: multibulk("SET", "key:3", "yyy"), want: ok},
		{name: "16 pipelined SETs", in: strings.Repeat(multibulk("SET", "key:4", "zzz"), 16), want: ok},
		{name: "SET with options", in: multibulk("SET", "key:5", "abc", "XX", "EX", "100", "GET"), want: bulk("xxx")},
		{name: "INCR", in: multibulk("INCR", "counter"), want: ":"},
		{name: "INCRBY", in: multibulk("INCRBY", "counter", "-3"), want: ":"},
		{name: "MGET of 10 keys", in: multibulk(append([]string{"MGET"}, keys...)...), want: "*10\r\n"},
		{name: "MSET of 2 keys", in: multibulk("MSET", "key:6", "xxx", "key:7", "xxx"), want: ok},
		{name: "EXISTS and DEL", in: multibulk("EXISTS", "key:8", "key:9") + multibulk("DEL", "nope"), want: integer(2)},
		{name: "EXPIRE and TTL", in: multibulk("EXPIRE", "key:1", "100") + multibulk("TTL", "key:1"), want: integer(100)},
		{name: "inline PING", in: "PING\r\n", want: "+PONG\r\n"},
		{name: "inline SET with quotes", in: "SET \"key:2\" 'xxx'\r\n", want: ok},
		{name: "ECHO", in: multibulk("ECHO", "hello"), want: bulk("hello")},
		{name: "a partial command left", in: multibulk("GET", "key:1") + "*2\r\n$3\r\nGET", want: bulk("xxx")},
		{name: "wrong number of arguments", in: multibulk("GET"), want: arity("get")},
		{name: "unknown command", in: multibulk("NOPE", "a"), want: "-ERR unknown command"},
		{name: "syntax error", in: multibulk("SET", "k", "v", "NOPE"), want: syntaxErr},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newTestHandler()
			for _, k := range keys {
				h.store.Set(nil, []byte(k), []byte("xxx"), store.SetArgs{}, 0, nil)
			}
			in := []byte(tt.in)
			c := newFakeConn(h)
			run := func() {
				c.in, c.out = in, c.out[:0]
				h.OnTraffic(c)
			}
			run() // warm the pooled batch
			if c.writes != 1 || !strings.Contains(string(c.out), tt.want) {
				t.Fatalf("%d writes of %q; want one, with %q", c.writes, c.out, tt.want)
			}
			if allocs := testing.AllocsPerRun(1000, run); allocs != 0 {
				t.Fatalf("%v allocations per batch, want 0", allocs)
			}
		})
	}
}

// TestSetAllocatesWhatItStores: a SET of a new key allocates the key, its
// entry and the value, nothing more. The store's maps were grown by
// earlier keys, as in steady state, so that their growth is not counted.
func TestSetAllocatesWhatItStores(t *testing.T) {
	const n = 5000
	h := newTestHandler()
	c := newFakeConn(h)
	sets := make([][]byte, n)
	for i := range sets {
		key := fmt.Sprintf("key:%012d", i)
		sets[i] = []byte(multibulk("SET", key, strings.Repeat("v", 100)))
		h.store.Set(nil, []byte(key), nil, store.SetArgs{}, 0, nil)
	}
	for i := range sets {
		h.store.Delete([][]byte{[]byte(fmt.Sprintf("key:%012d", i))}, 0)
	}
	i := 0
	allocs := testing.AllocsPerRun(n-1, func() {
		c.in, c.out = sets[i], c.out[:0]
		h.OnTraffic(c)
		i++
	})
	// AllocsPerRun rounds down; a map cleaning up after deletions now and
	// then is the only other allocation.
	if allocs != 3 {
		t.Fatalf("%v allocations per SET of a new key, want 3: key, entry, value", allocs)
	}
}

// TestServeAllocsOverSocket runs the server (one loop) and sends batches
// of 16 pipelined commands over a real connection, reading each batch's
// replies whole into a preallocated buffer: once warm, the process
// allocates nothing per command. The client's Write and Read on
// preallocated buffers do not allocate, so what is counted is the
// engine's, the handler's and the store's.
func TestServeAllocsOverSocket(t *testing.T) {
	tests := []struct {
		name    string
		command string
		reply   string
	}{
		{name: "GET hit", command: multibulk("GET", "key:000000000001"), reply: bulk("xxx")},
		{name: "SET over an existing key", command: multibulk("SET", "key:000000000001", "xxx"), reply: ok},
		{name: "INCR", command: multibulk("INCR", "counter"), reply: ""},
		{name: "MGET of 4 keys", command: multibulk("MGET", "key:000000000001", "a", "b", "c"),
			reply: "*4\r\n" + bulk("xxx") + null + null + null},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			serveAllocs(t, tt.command, tt.reply)
		})
	}
}

func serveAllocs(t *testing.T, cmd, reply string) {
	const pipelined, batches = 16, 1000
	s := startServerWith(t, config{addr: "tcp://127.0.0.1:0", loops: 1})
	c := s.dial(t)
	c.do(t, "SET", "key:000000000001", "xxx")
	// INCR's replies grow by a digit now and then: start where 17000
	// increments keep the same width.
	c.do(t, "SET", "counter", "1000000")
	batch := []byte(strings.Repeat(cmd, pipelined))
	nc := c.Conn
	var replyLen int
	if reply != "" {
		replyLen = len(reply)
	} else {
		replyLen = len(":1000001\r\n")
	}
	got := make([]byte, pipelined*replyLen)
	turn := func() error {
		if _, err := nc.Write(batch); err != nil {
			return err
		}
		if _, err := io.ReadFull(nc, got); err != nil {
			return err
		}
		if reply != "" && string(got[:replyLen]) != reply {
			return fmt.Errorf("reply %q, want %q", got[:replyLen], reply)
		}
		return nil
	}
	if err := nc.SetDeadline(time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	for i := range 100 { // warm up: the reply buffer, the rings
		if err := turn(); err != nil {
			t.Fatalf("warm-up batch %d: %v", i, err)
		}
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := range batches {
		if err := turn(); err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
	}
	runtime.ReadMemStats(&after)
	mallocs, commands := after.Mallocs-before.Mallocs, batches*pipelined
	per := float64(mallocs) / float64(commands)
	t.Logf("%d allocations for %d commands over the socket (%.5f per command)", mallocs, commands, per)
	if per >= 0.01 {
		t.Errorf("%.4f allocations per command, want 0 (< 0.01)", per)
	}
}
