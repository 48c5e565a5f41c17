package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/evloop/evloop"
	"github.com/evloop/evloop/examples/internal/exampletest"
)

func TestGetWithNetHTTP(t *testing.T) {
	s := startServer(t)
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	cl := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	for i := range 3 { // the second and third reuse the connection
		resp, err := cl.Get(s.url())
		if err != nil {
			t.Fatalf("GET %d: %v", i, err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("GET %d body: %v", i, err)
		}
		if err := checkHello(resp, string(body), http.MethodGet); err != nil {
			t.Fatalf("GET %d: %v", i, err)
		}
		if got := resp.Header.Get("Server"); got != "evloop" {
			t.Fatalf("Server %q, want evloop", got)
		}
	}
}

// TestPipelined writes 16 requests at once and reads 16 responses. Every
// fourth is a HEAD, whose response has no body: answers out of order would
// break the framing of those that follow.
func TestPipelined(t *testing.T) {
	s := startServer(t)
	c := s.dial(t)
	methods := make([]string, 16)
	var batch strings.Builder
	for i := range methods {
		methods[i] = http.MethodGet
		if i%4 == 3 {
			methods[i] = http.MethodHead
		}
		batch.WriteString(get(methods[i], ""))
	}
	c.send(t, batch.String())
	for _, m := range methods {
		c.expectHello(t, m)
	}
	c.expectOpen(t)
}

// TestSplitRequest sends one request in two writes, split at every byte
// boundary, on one connection: the first part stays buffered until the
// rest arrives.
func TestSplitRequest(t *testing.T) {
	s := startServer(t)
	c := s.dial(t)
	req := get(http.MethodGet, "User-Agent: split\r\n")
	for i := 1; i < len(req); i++ {
		c.send(t, req[:i])
		time.Sleep(time.Millisecond) // let the server see the first part alone
		c.send(t, req[i:])
		c.expectHello(t, http.MethodGet)
	}
	c.expectOpen(t)
}

func TestKeepAlive(t *testing.T) {
	s := startServer(t)
	c := s.dial(t)
	for range 100 {
		c.send(t, get(http.MethodGet, ""))
		resp := c.expectHello(t, http.MethodGet)
		if resp.Close {
			t.Fatal("response announces a close on a keep-alive connection")
		}
	}
	c.expectOpen(t)
}

func TestConnectionClose(t *testing.T) {
	tests := []struct {
		name          string
		request       string
		wantClose     bool
		wantKeepAlive bool // "Connection: keep-alive" in the response
	}{
		{name: "HTTP/1.1", request: get("GET", "")},
		{name: "HTTP/1.1 Connection: close", request: get("GET", "Connection: close\r\n"), wantClose: true},
		{name: "HTTP/1.1 close among tokens", request: get("GET", "Connection: upgrade, close\r\n"), wantClose: true},
		{name: "HTTP/1.0", request: "GET / HTTP/1.0\r\n\r\n", wantClose: true},
		{name: "HTTP/1.0 keep-alive", request: "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", wantKeepAlive: true},
		{name: "HTTP/1.0 HEAD keep-alive", request: "HEAD / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", wantKeepAlive: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startServer(t)
			c := s.dial(t)
			method, _, _ := strings.Cut(tt.request, " ")
			c.send(t, tt.request)
			resp := c.expectHello(t, method)
			if resp.Close != tt.wantClose {
				t.Fatalf("response Close = %v, want %v", resp.Close, tt.wantClose)
			}
			if got := resp.Header.Get("Connection") == "keep-alive"; got != tt.wantKeepAlive {
				t.Fatalf("Connection %q, want keep-alive: %v", resp.Header.Get("Connection"), tt.wantKeepAlive)
			}
			if tt.wantClose {
				c.expectClosed(t)
				return
			}
			c.expectOpen(t)
		})
	}
}

// TestCloseIgnoresLaterRequests: bytes pipelined after a request that
// closes the connection get no answer.
func TestCloseIgnoresLaterRequests(t *testing.T) {
	s := startServer(t)
	c := s.dial(t)
	c.send(t, get("GET", "")+get("GET", "Connection: close\r\n")+get("GET", ""))
	c.expectHello(t, http.MethodGet)
	if resp := c.expectHello(t, http.MethodGet); !resp.Close {
		t.Fatal("second response does not announce the close")
	}
	c.expectClosed(t)
}

// TestPost checks that a body is consumed with its request, whether it
// arrives with the header or later, so that the next request is framed
// right.
func TestPost(t *testing.T) {
	tests := []struct {
		name  string
		parts []string
	}{
		{name: "one write", parts: []string{get("POST", "Content-Length: 11\r\n") + "hello=world" + get("GET", "")}},
		{name: "body later", parts: []string{get("POST", "Content-Length: 11\r\n"), "hello", "=world" + get("GET", "")}},
		{name: "empty body", parts: []string{get("POST", "Content-Length: 0\r\n") + get("GET", "")}},
		{name: "body of 1 MiB", parts: []string{get("POST", "Content-Length: 1048576\r\n"), strings.Repeat("x", 1<<20), get("GET", "")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startServer(t)
			c := s.dial(t)
			for _, p := range tt.parts {
				c.send(t, p)
				time.Sleep(time.Millisecond)
			}
			c.expectHello(t, http.MethodPost)
			c.expectHello(t, http.MethodGet)
			c.expectOpen(t)
		})
	}
}

// TestBadRequests: bytes that cannot be framed get an error status, then
// the connection closes.
func TestBadRequests(t *testing.T) {
	tests := []struct {
		name       string
		request    string
		wantStatus int
	}{
		{name: "malformed request line", request: "GET /\r\nHost: test\r\n\r\n", wantStatus: http.StatusBadRequest},
		{name: "not HTTP at all", request: "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", wantStatus: http.StatusBadRequest},
		{name: "bare LF", request: "GET / HTTP/1.1\nHost: test\n\n", wantStatus: http.StatusBadRequest},
		{name: "HTTP/1.1 without Host", request: "GET / HTTP/1.1\r\n\r\n", wantStatus: http.StatusBadRequest},
		{
			name:       "headers over 8 KiB",
			request:    get("GET", "X-Big: "+strings.Repeat("a", 9<<10)+"\r\n"),
			wantStatus: http.StatusRequestHeaderFieldsTooLarge,
		},
		{
			name:       "chunked body",
			request:    get("POST", "Transfer-Encoding: chunked\r\n") + "5\r\nhello\r\n0\r\n\r\n",
			wantStatus: http.StatusNotImplemented,
		},
		{name: "body over 1 MiB", request: get("POST", "Content-Length: 1048577\r\n"), wantStatus: http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startServer(t)
			c := s.dial(t)
			c.send(t, tt.request)
			resp, _ := c.response(t, http.MethodGet)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if !resp.Close {
				t.Fatal("error response does not announce the close")
			}
			c.expectClosed(t)
		})
	}
}

// TestGoodThenBad: requests before a malformed one in the same batch are
// answered normally, in order, before the error.
func TestGoodThenBad(t *testing.T) {
	s := startServer(t)
	c := s.dial(t)
	c.send(t, get("GET", "")+get("GET", "")+"BROKEN\r\n\r\n")
	c.expectHello(t, http.MethodGet)
	c.expectHello(t, http.MethodGet)
	resp, _ := c.response(t, http.MethodGet)
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("status %d, want 400", resp.StatusCode)
	}
	c.expectClosed(t)
}

// TestLargePipelineThenClose sends more pipelined requests than the socket
// buffers hold, the last asking to close, and reads only once everything is
// sent: all the answers must arrive before the connection closes, which
// requires the engine to flush pending output before a Close action takes
// effect.
func TestLargePipelineThenClose(t *testing.T) {
	s := startServer(t)
	c := s.dial(t)
	// A fixed receive buffer turns off autotuning, which could otherwise
	// grow it to hold every answer and hide a loss.
	if err := c.Conn.(*net.TCPConn).SetReadBuffer(64 << 10); err != nil {
		t.Fatal(err)
	}
	const n = 150000
	batch := strings.Repeat(get("GET", ""), n-1) + get("GET", "Connection: close\r\n")
	werr := make(chan error, 1)
	go func() {
		_, err := io.WriteString(c, batch)
		werr <- err
	}()
	// Read while writing, as a real client does: the server stops reading
	// while its output to us is above the high watermark, so a client that
	// only reads after writing everything would wait forever. The server
	// still meets the close with answers pending, which it must flush.
	all, err := io.ReadAll(c.r)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if err := <-werr; err != nil {
		t.Fatalf("write: %v", err)
	}
	got := bytes.Count(all, []byte("Hello, World!"))
	if got != n {
		t.Fatalf("got %d answers before the close, want %d (%d bytes)", got, n, len(all))
	}
}

func TestStopWithOpenConnection(t *testing.T) {
	s := startServer(t)
	c := s.dial(t)
	c.send(t, get("GET", ""))
	c.expectHello(t, http.MethodGet)
	s.stop(t)
	c.expectClosed(t)
}

func TestServeOtherConfigs(t *testing.T) {
	tests := []struct {
		name string
		cfg  config
	}{
		{name: "reuseport", cfg: config{addr: "tcp://127.0.0.1:0", loops: 2, reusePort: true}},
		{name: "one loop, address without scheme", cfg: config{addr: "127.0.0.1:0", loops: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startServerWith(t, tt.cfg)
			for range 8 { // fresh connections, spread over the loops
				c := s.dial(t)
				c.send(t, get("GET", ""))
				c.expectHello(t, http.MethodGet)
				c.Close()
			}
			s.stop(t)
		})
	}
}

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    config
		wantErr bool
	}{
		{
			name: "defaults: both timeouts on",
			want: config{addr: "tcp://127.0.0.1:9000", loops: runtime.GOMAXPROCS(0),
				readHeaderTimeout: 10 * time.Second, idleTimeout: 60 * time.Second},
		},
		{
			name: "all set",
			args: []string{"-addr", "tcp://127.0.0.1:1234", "-loops", "3", "-reuseport", "-blocking",
				"-read-header-timeout", "2.5s", "-idle-timeout", "1m30s"},
			want: config{addr: "tcp://127.0.0.1:1234", loops: 3, reusePort: true, blocking: true,
				readHeaderTimeout: 2500 * time.Millisecond, idleTimeout: 90 * time.Second},
		},
		{
			name: "timeouts off",
			args: []string{"-read-header-timeout", "0", "-idle-timeout", "0"},
			want: config{addr: "tcp://127.0.0.1:9000", loops: runtime.GOMAXPROCS(0)},
		},
		{
			name: "statistics endpoint",
			args: []string{"-stats-addr", "127.0.0.1:9001"},
			want: config{addr: "tcp://127.0.0.1:9000", loops: runtime.GOMAXPROCS(0),
				readHeaderTimeout: 10 * time.Second, idleTimeout: 60 * time.Second, statsAddr: "127.0.0.1:9001"},
		},
		{name: "unknown flag", args: []string{"-no-such-flag"}, wantErr: true},
		{name: "stray argument", args: []string{"extra"}, wantErr: true},
		{name: "duration without unit", args: []string{"-idle-timeout", "30"}, wantErr: true},
		{name: "negative read-header timeout", args: []string{"-read-header-timeout", "-1s"}, wantErr: true},
		{name: "negative idle timeout", args: []string{"-idle-timeout", "-1s"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			got, err := parseFlags(tt.args, &out)
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseFlags(%q) error = %v, want error: %v", tt.args, err, tt.wantErr)
			}
			if !tt.wantErr && got != tt.want {
				t.Fatalf("parseFlags(%q) = %+v, want %+v", tt.args, got, tt.want)
			}
			if tt.wantErr && out.Len() == 0 {
				t.Fatal("an error left no message for the user")
			}
		})
	}
}

// TestStatsEndpoint: with -stats-addr, /debug/vars serves the engine's
// statistics as JSON, every loop's counters among them, and they count
// the requests served.
func TestStatsEndpoint(t *testing.T) {
	statsAt := make(chan net.Addr, 1)
	srv := exampletest.StartServer(t, func(ctx context.Context, ready func(net.Addr)) error {
		cfg := config{addr: "tcp://127.0.0.1:0", loops: 2, statsAddr: "127.0.0.1:0"}
		return serveStats(ctx, cfg, ready, func(a net.Addr) { statsAt <- a })
	})
	stats := <-statsAt
	const requests = 5
	for range requests {
		resp, err := http.Get("http://" + srv.Addr.String() + "/")
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	var vars struct {
		Evloop evloop.Stats `json:"evloop"`
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err := http.Get("http://" + stats.String() + "/debug/vars")
		if err != nil {
			t.Fatal(err)
		}
		err = json.NewDecoder(resp.Body).Decode(&vars)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("decoding /debug/vars: %v", err)
		}
		var reads, out uint64
		for _, l := range vars.Evloop.Loops {
			reads += l.Reads
			out += l.BytesOut
		}
		// net/http keeps the connection alive: one connection, five
		// requests, each read with (at least) one read(2).
		if len(vars.Evloop.Loops) == 2 && vars.Evloop.Accepted >= 1 && reads >= requests && out > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/debug/vars never showed %d requests on 2 loops: %+v", requests, vars.Evloop)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
