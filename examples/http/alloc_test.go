//go:build !race

package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"
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
		for _, timeout := range []time.Duration{0, 10 * time.Second} {
			t.Run(fmt.Sprintf("%s/read-header-timeout=%v", tt.name, timeout), func(t *testing.T) {
				h := newTestHandler(t)
				h.readHeaderTimeout = timeout
				in := []byte(tt.in)
				c := &fakeConn{out: make([]byte, 0, 64<<10)}
				run := func() {
					c.in, c.out = in, c.out[:0]
					h.OnTraffic(c)
				}
				run() // warm the pooled response buffer, make the connection's state
				if c.writes != 1 {
					t.Fatalf("%d writes for one batch, want 1", c.writes)
				}
				if allocs := testing.AllocsPerRun(1000, run); allocs != 0 {
					t.Fatalf("%v allocations per batch, want 0", allocs)
				}
			})
		}
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

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// TestServeAllocsOverSocket runs the server (one loop) and sends batches
// of 16 pipelined requests over a real connection, reading each batch's
// 16 responses whole into a preallocated buffer: once warm, the process
// allocates nothing per request. The client's Write and Read on
// preallocated buffers do not allocate, so what is counted is the
// engine's and the handler's; the Date refresh once a second is the only
// allocation expected, far below one per hundred requests.
//
// In the split variant every write ends half way through a request, which
// the next write completes, with the read-header timeout on: each batch
// leaves an incomplete request buffered and re-arms the connection's
// timer, which must not allocate either.
func TestServeAllocsOverSocket(t *testing.T) {
	tests := []struct {
		name  string
		cfg   config
		split bool
	}{
		{name: "whole batches", cfg: config{addr: "tcp://127.0.0.1:0", loops: 1}},
		{
			name:  "split batches, read-header timeout on",
			cfg:   config{addr: "tcp://127.0.0.1:0", loops: 1, readHeaderTimeout: 10 * time.Second, idleTimeout: time.Minute},
			split: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			serveAllocs(t, tt.cfg, tt.split)
		})
	}
}

func serveAllocs(t *testing.T, cfg config, split bool) {
	const pipelined = 16
	const batches = 1000
	s := startServerWith(t, cfg)
	nc := s.Dial(t)
	if err := nc.SetDeadline(time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	// One request, parsed, gives the length of a response: the Date
	// field has a fixed width, so every response has the same length.
	req := get("GET", "User-Agent: wrk\r\n")
	cr := &countingReader{r: nc}
	br := bufio.NewReader(cr)
	if _, err := io.WriteString(nc, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(br, &http.Request{Method: "GET"})
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || string(body) != "Hello, World!" || br.Buffered() != 0 {
		t.Fatalf("response %q, %v, %d bytes more buffered; want Hello, World! alone", body, err, br.Buffered())
	}
	respLen := cr.n

	// Split: the first write is 16 requests and half of the 17th; every
	// later one the rest of that request, 15 more and half of the next.
	// Each is answered with 16 responses.
	batch := []byte(strings.Repeat(req, pipelined))
	first := batch
	if split {
		half := len(req) / 2
		stream := []byte(strings.Repeat(req, pipelined+1))
		first, batch = stream[:len(batch)+half], stream[half:len(batch)+half]
	}
	got := make([]byte, pipelined*respLen)
	turn := func(b []byte) error {
		if _, err := nc.Write(b); err != nil {
			return err
		}
		if _, err := io.ReadFull(nc, got); err != nil {
			return err
		}
		if !bytes.HasSuffix(got, body) || !bytes.HasPrefix(got, []byte("HTTP/1.1 200 ")) {
			return errors.New("the batch's responses are not the expected ones")
		}
		return nil
	}
	if err := turn(first); err != nil {
		t.Fatalf("first batch: %v", err)
	}
	for i := 0; i < 100; i++ { // warm up: the response buffer, the rings
		if err := turn(batch); err != nil {
			t.Fatalf("warm-up batch %d: %v", i, err)
		}
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := 0; i < batches; i++ {
		if err := turn(batch); err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
	}
	runtime.ReadMemStats(&after)
	mallocs, requests := after.Mallocs-before.Mallocs, batches*pipelined
	per := float64(mallocs) / float64(requests)
	t.Logf("%d allocations for %d requests over the socket (%.5f per request)", mallocs, requests, per)
	if mallocs > 0 {
		t.Logf("%.0f requests per allocation", float64(requests)/float64(mallocs))
	}
	if per >= 0.01 {
		t.Errorf("%.4f allocations per request served, want 0 (< 0.01)", per)
	}
}
