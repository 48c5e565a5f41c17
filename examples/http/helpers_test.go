package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/evloop/evloop/examples/internal/exampletest"
)

// testServer is serve running on its own goroutine for one test.
type testServer struct {
	*exampletest.Server
}

// startServer runs serve with two loops on an ephemeral loopback port; see
// startServerWith.
func startServer(tb testing.TB) *testServer {
	tb.Helper()
	return startServerWith(tb, config{addr: "tcp://127.0.0.1:0", loops: 2})
}

// startServerWith runs serve with cfg and stops it when the test ends,
// failing the test unless it stops cleanly within 10 s.
func startServerWith(tb testing.TB, cfg config) *testServer {
	tb.Helper()
	return &testServer{exampletest.StartServer(tb, func(ctx context.Context, ready func(net.Addr)) error {
		return serve(ctx, cfg, ready)
	})}
}

// stop stops serve and checks it returns nil; it is idempotent.
func (s *testServer) stop(tb testing.TB) {
	tb.Helper()
	s.Stop(tb)
}

// url is the server's root URL.
func (s *testServer) url() string { return "http://" + s.Addr.String() + "/" }

// client is a raw connection with a deadline on everything it does.
type client struct {
	net.Conn
	r *bufio.Reader
}

func (s *testServer) dial(tb testing.TB) *client {
	tb.Helper()
	c := s.Dial(tb)
	if err := c.SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
		tb.Fatal(err)
	}
	return &client{Conn: c, r: bufio.NewReader(c)}
}

func (c *client) send(tb testing.TB, raw string) {
	tb.Helper()
	if _, err := io.WriteString(c, raw); err != nil {
		tb.Fatalf("write request: %v", err)
	}
}

// response reads one response to a request with the given method and
// returns it with its body read.
func (c *client) response(tb testing.TB, method string) (*http.Response, string) {
	tb.Helper()
	resp, err := http.ReadResponse(c.r, &http.Request{Method: method})
	if err != nil {
		tb.Fatalf("read response: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("read body: %v", err)
	}
	return resp, string(body)
}

// expectHello reads one response and checks it is the server's answer.
func (c *client) expectHello(tb testing.TB, method string) *http.Response {
	tb.Helper()
	resp, body := c.response(tb, method)
	if err := checkHello(resp, body, method); err != nil {
		tb.Fatal(err)
	}
	return resp
}

// checkHello checks a response for "Hello, World!" (no body for HEAD).
func checkHello(resp *http.Response, body, method string) error {
	wantBody := "Hello, World!"
	if method == http.MethodHead {
		wantBody = ""
	}
	switch {
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("status %d, want 200", resp.StatusCode)
	case body != wantBody:
		return fmt.Errorf("body %q, want %q", body, wantBody)
	case resp.ContentLength != int64(len("Hello, World!")):
		return fmt.Errorf("Content-Length %d, want 13", resp.ContentLength)
	case resp.Header.Get("Content-Type") != "text/plain":
		return fmt.Errorf("Content-Type %q, want text/plain", resp.Header.Get("Content-Type"))
	}
	date, err := http.ParseTime(resp.Header.Get("Date"))
	if err != nil {
		return fmt.Errorf("Date %q: %v", resp.Header.Get("Date"), err)
	}
	if d := time.Since(date); d < -2*time.Second || d > 3*time.Second {
		return fmt.Errorf("Date %v is %v away from now", date, d)
	}
	return nil
}

// expectClosed checks that the server closes the connection with nothing
// more to read.
func (c *client) expectClosed(tb testing.TB) {
	tb.Helper()
	if err := c.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		tb.Fatal(err)
	}
	b, err := c.r.ReadByte()
	if err == nil {
		tb.Fatalf("read %q after the last response, want the connection closed", b)
	}
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		tb.Fatal("connection still open 5s after the last response")
	}
}

// expectOpen checks that nothing arrives and the connection stays open for
// a moment.
func (c *client) expectOpen(tb testing.TB) {
	tb.Helper()
	c.expectQuiet(tb, 50*time.Millisecond)
}

// expectQuiet checks that nothing arrives and the connection stays open
// for d.
func (c *client) expectQuiet(tb testing.TB, d time.Duration) {
	tb.Helper()
	if err := c.SetReadDeadline(time.Now().Add(d)); err != nil {
		tb.Fatal(err)
	}
	b, err := c.r.ReadByte()
	if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
		tb.Fatalf("read (%q, %v) within %v where the connection was to stay open and quiet", b, err, d)
	}
	if err := c.SetReadDeadline(time.Now().Add(30 * time.Second)); err != nil {
		tb.Fatal(err)
	}
}

// get builds a minimal HTTP/1.1 request.
func get(method, extra string) string {
	return method + " / HTTP/1.1\r\nHost: test\r\n" + extra + "\r\n"
}
