//go:build !race

package main

import (
	"strings"
	"testing"
)

// TestOnTrafficAllocs drives the handler with 16 pipelined requests, the
// plaintext benchmark's shape, and requires that a batch allocates nothing
// once the response buffer has warmed up. Not under -race, which allocates
// on its own.
func TestOnTrafficAllocs(t *testing.T) {
	tests := []struct {
		name string
		in   string
	}{
		{name: "one request", in: get("GET", "")},
		{name: "sixteen pipelined", in: strings.Repeat(get("GET", "User-Agent: wrk\r\nAccept: */*\r\n"), 16)},
		{name: "a partial one left", in: get("GET", "") + "GET / HT"},
		{name: "HTTP/1.0 keep-alive", in: "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"},
		{name: "with a body", in: get("POST", "Content-Length: 5\r\n") + "hello"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newTestHandler(t)
			in := []byte(tt.in)
			c := &fakeConn{out: make([]byte, 0, 64<<10)}
			run := func() {
				c.in, c.out = in, c.out[:0]
				h.OnTraffic(c)
			}
			run() // warm the pooled response buffer
			if c.writes != 1 {
				t.Fatalf("%d writes for one batch, want 1", c.writes)
			}
			if allocs := testing.AllocsPerRun(1000, run); allocs != 0 {
				t.Fatalf("%v allocations per batch, want 0", allocs)
			}
		})
	}
}

func BenchmarkOnTrafficPipelined(b *testing.B) {
	h := newTestHandler(b)
	in := []byte(strings.Repeat(get("GET", "User-Agent: bench\r\n"), 16))
	c := &fakeConn{out: make([]byte, 0, 64<<10)}
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		c.in, c.out = in, c.out[:0]
		h.OnTraffic(c)
	}
}
