package main

import (
	"crypto/tls"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/evloop/evloop/examples/internal/cli"
)

// startTLSServer serves HTTPS with a self-signed certificate.
func startTLSServer(tb testing.TB) (*testServer, string) {
	tb.Helper()
	s := startServerWith(tb, config{addr: "tcp://127.0.0.1:0", loops: 2, tls: cli.TLSFlags{SelfSigned: true}})
	return s, "https://" + s.Addr.String() + "/"
}

// TestTLSSelfSigned: net/http's client gets its answers over HTTPS, on one
// kept-alive connection, with http/1.1 negotiated by ALPN.
func TestTLSSelfSigned(t *testing.T) {
	_, url := startTLSServer(t)
	tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}}}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	for range 3 {
		resp, err := client.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || string(body) != "Hello, World!" || resp.StatusCode != 200 {
			t.Fatalf("%d %q, %v", resp.StatusCode, body, err)
		}
		if resp.TLS == nil || resp.TLS.NegotiatedProtocol != "http/1.1" {
			t.Fatalf("TLS state %+v", resp.TLS)
		}
	}
}

func TestCurlHTTPS(t *testing.T) {
	curl := needTool(t, "curl")
	_, url := startTLSServer(t)
	stdout, stderr := runTool(t, curl, "--insecure", "-sv", "--max-time", "10", url, url)
	if stdout != "Hello, World!Hello, World!" {
		t.Errorf("body %q", stdout)
	}
	if !strings.Contains(stderr, "HTTP/1.1 200") || !strings.Contains(stderr, "http/1.1") {
		t.Errorf("no HTTP/1.1 200 or ALPN http/1.1 in curl's trace:\n%s", stderr)
	}
}

// TestWrkHTTPS loads the server over HTTPS for a second: no socket error,
// no other answer than 200.
func TestWrkHTTPS(t *testing.T) {
	wrk := needTool(t, "wrk")
	_, url := startTLSServer(t)
	out, _ := runTool(t, wrk, "-t1", "-c20", "-d1s", url)
	sum := parseWrk(out)
	t.Logf("wrk over https, 2 loops: %d requests, %.0f requests/sec", sum.requests, sum.perSecond)
	if sum.requests <= 0 {
		t.Errorf("wrk reports no requests:\n%s", out)
	}
	if sum.socketErrors != "" && wrkNonZero.MatchString(sum.socketErrors) {
		t.Errorf("wrk: %s\n%s", sum.socketErrors, out)
	}
	if sum.non2xx != "" {
		t.Errorf("wrk: %s\n%s", sum.non2xx, out)
	}
}
