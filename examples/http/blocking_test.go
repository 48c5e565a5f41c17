package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// getPath builds a minimal HTTP/1.1 request for target.
func getPath(method, target, extra string) string {
	return method + " " + target + " HTTP/1.1\r\nHost: test\r\n" + extra + "\r\n"
}

// startBlocking runs the server in blocking mode with two loops.
func startBlocking(tb testing.TB) *testServer {
	tb.Helper()
	return startServerWith(tb, config{addr: "tcp://127.0.0.1:0", loops: 2, blocking: true})
}

// expectPath reads one response and checks it is the hello answer to the
// request for target.
func (c *client) expectPath(tb testing.TB, method, target string) *http.Response {
	tb.Helper()
	resp, body := c.response(tb, method)
	if err := checkHello(resp, body, method); err != nil {
		tb.Fatalf("response for %s %s: %v", method, target, err)
	}
	if got := resp.Header.Get("X-Path"); got != target {
		tb.Fatalf("response with X-Path %q where the request for %q was due: out of order", got, target)
	}
	return resp
}

// TestBlockingPipelined sends rounds of 16 pipelined requests, each for its
// own target and every fourth a HEAD, to the blocking mode, where each is
// answered by its own pool job: the responses must come in request order,
// which each one's X-Path shows. Jobs run without Execute's order would
// answer out of turn.
func TestBlockingPipelined(t *testing.T) {
	s := startBlocking(t)
	c := s.dial(t)
	const depth, rounds = 16, 40
	for round := range rounds {
		methods, targets := make([]string, depth), make([]string, depth)
		var batch strings.Builder
		for i := range depth {
			methods[i], targets[i] = http.MethodGet, fmt.Sprintf("/r%d/%d?q=%d", round, i, i*7)
			if i%4 == 3 {
				methods[i] = http.MethodHead
			}
			batch.WriteString(getPath(methods[i], targets[i], "User-Agent: pipeline\r\n"))
		}
		c.send(t, batch.String())
		for i := range depth {
			if resp := c.expectPath(t, methods[i], targets[i]); resp.Close {
				t.Fatalf("response %d of round %d announces a close", i, round)
			}
		}
	}
	c.expectOpen(t)
}

// TestBlockingCloses: in blocking mode a request that ends the connection
// is answered after every request before it, then the connection closes,
// and requests after it get no answer.
func TestBlockingCloses(t *testing.T) {
	tests := []struct {
		name       string
		send       string
		wantPaths  []string // hello answers, in order
		wantStatus int      // a final error answer, when not 0
	}{
		{
			name:      "Connection: close",
			send:      getPath("GET", "/a", "") + getPath("GET", "/b", "Connection: close\r\n") + getPath("GET", "/c", ""),
			wantPaths: []string{"/a", "/b"},
		},
		{
			name:      "HTTP/1.0",
			send:      "GET /ten HTTP/1.0\r\n\r\n" + getPath("GET", "/late", ""),
			wantPaths: []string{"/ten"},
		},
		{
			name:       "bad request",
			send:       getPath("GET", "/a", "") + getPath("GET", "/b", "") + "BROKEN\r\n\r\n" + getPath("GET", "/c", ""),
			wantPaths:  []string{"/a", "/b"},
			wantStatus: http.StatusBadRequest,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startBlocking(t)
			c := s.dial(t)
			c.send(t, tt.send)
			for i, p := range tt.wantPaths {
				resp := c.expectPath(t, http.MethodGet, p)
				last := i == len(tt.wantPaths)-1 && tt.wantStatus == 0
				if resp.Close != last {
					t.Fatalf("response for %s: Close = %v, want %v", p, resp.Close, last)
				}
			}
			if tt.wantStatus != 0 {
				resp, _ := c.response(t, http.MethodGet)
				if resp.StatusCode != tt.wantStatus || !resp.Close {
					t.Fatalf("final response: status %d, Close %v; want %d and a close", resp.StatusCode, resp.Close, tt.wantStatus)
				}
			}
			c.expectClosed(t)
		})
	}
}
