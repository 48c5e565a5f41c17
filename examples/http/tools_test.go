package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// toolTimeout bounds every external client run.
const toolTimeout = 60 * time.Second

// needTool returns the path of an external client, skipping the test when
// it is not installed, except in CI (CI=true), where a missing tool fails.
func needTool(tb testing.TB, name string) string {
	tb.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	msg := name + " is not installed (on Debian/Ubuntu: apt-get install -y curl wrk apache2-utils)"
	if os.Getenv("CI") == "true" {
		tb.Fatal(msg)
	}
	tb.Skip(msg)
	return ""
}

// runTool runs a client with a timeout and returns its stdout and stderr,
// failing the test if it does not exit 0.
func runTool(tb testing.TB, path string, args ...string) (stdout, stderr string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), toolTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.WaitDelay = 5 * time.Second
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		tb.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", filepath.Base(path), strings.Join(args, " "), err, out.String(), errOut.String())
	}
	return out.String(), errOut.String()
}

func TestCurl(t *testing.T) {
	curl := needTool(t, "curl")
	s := startServer(t)
	stdout, stderr := runTool(t, curl, "-sv", "--max-time", "10", s.url())
	if stdout != "Hello, World!" {
		t.Errorf("body %q, want %q", stdout, "Hello, World!")
	}
	if !strings.Contains(stderr, "HTTP/1.1 200") {
		t.Errorf("no HTTP/1.1 200 in curl's trace:\n%s", stderr)
	}
}

// wrkSummary is what TestWrk reads from wrk's report.
type wrkSummary struct {
	requests     int64
	perSecond    float64
	socketErrors string // the "Socket errors" line, when present
	non2xx       string // the "Non-2xx or 3xx responses" line, when present
}

var (
	wrkRequests  = regexp.MustCompile(`(?m)^\s*(\d+) requests in `)
	wrkPerSecond = regexp.MustCompile(`(?m)^Requests/sec:\s*([0-9.]+)`)
	wrkSocket    = regexp.MustCompile(`(?m)^\s*Socket errors:.*$`)
	wrkNon2xx    = regexp.MustCompile(`(?m)^\s*Non-2xx or 3xx responses:.*$`)
	wrkNonZero   = regexp.MustCompile(`[1-9]`)
)

func parseWrk(out string) wrkSummary {
	var s wrkSummary
	if m := wrkRequests.FindStringSubmatch(out); m != nil {
		s.requests, _ = strconv.ParseInt(m[1], 10, 64)
	}
	if m := wrkPerSecond.FindStringSubmatch(out); m != nil {
		s.perSecond, _ = strconv.ParseFloat(m[1], 64)
	}
	s.socketErrors = strings.TrimSpace(wrkSocket.FindString(out))
	s.non2xx = strings.TrimSpace(wrkNon2xx.FindString(out))
	return s
}

func TestParseWrk(t *testing.T) {
	tests := []struct {
		name string
		out  string
		want wrkSummary
	}{
		{
			name: "clean run",
			out:  "  1 threads and 50 connections\n  3500432 requests in 2.00s, 437.31MB read\nRequests/sec: 1747604.21\nTransfer/sec:    218.33MB\n",
			want: wrkSummary{requests: 3500432, perSecond: 1747604.21},
		},
		{
			name: "errors",
			out:  "  12 requests in 2.00s, 1KB read\n  Socket errors: connect 0, read 3, write 0, timeout 0\n  Non-2xx or 3xx responses: 12\nRequests/sec: 6.00\n",
			want: wrkSummary{requests: 12, perSecond: 6, socketErrors: "Socket errors: connect 0, read 3, write 0, timeout 0", non2xx: "Non-2xx or 3xx responses: 12"},
		},
		{name: "no report", out: "unable to connect to 127.0.0.1:1 Connection refused\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseWrk(tt.out); got != tt.want {
				t.Fatalf("parseWrk = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestWrk loads the server with wrk, 16 pipelined requests per write, in
// both modes: a lost, extra or malformed response shows up as a socket
// error or a stalled connection. (wrk cannot tell identical responses
// apart; TestBlockingPipelined checks their order.)
func TestWrk(t *testing.T) {
	wrk := needTool(t, "wrk")
	script, err := filepath.Abs(filepath.Join("testdata", "pipeline.lua"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		blocking bool
	}{
		{name: "on the loop"},
		{name: "blocking, through the pool", blocking: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startServerWith(t, config{addr: "tcp://127.0.0.1:0", loops: 2, blocking: tt.blocking})
			out, _ := runTool(t, wrk, "-t1", "-c50", "-d2s", "-s", script, s.url(), "--", "16")
			sum := parseWrk(out)
			t.Logf("wrk, 16 pipelined, 2 loops, %s: %d requests, %.0f requests/sec", tt.name, sum.requests, sum.perSecond)
			if sum.requests <= 0 {
				t.Errorf("wrk reports no requests:\n%s", out)
			}
			if sum.socketErrors != "" && wrkNonZero.MatchString(sum.socketErrors) {
				t.Errorf("wrk: %s\n%s", sum.socketErrors, out)
			}
			if sum.non2xx != "" {
				t.Errorf("wrk: %s\n%s", sum.non2xx, out)
			}
		})
	}
}

// TestApacheBench runs ab with keep-alive; ab speaks HTTP/1.0, so this also
// checks that HTTP/1.0 keep-alive is announced (ab waits for a close
// otherwise, and times out).
func TestApacheBench(t *testing.T) {
	ab := needTool(t, "ab")
	s := startServer(t)
	out, _ := runTool(t, ab, "-k", "-s", "20", "-n", "2000", "-c", "20", s.url())
	field := func(name string) (string, bool) {
		m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `:\s*(\d+)`).FindStringSubmatch(out)
		if m == nil {
			return "", false
		}
		return m[1], true
	}
	if n, ok := field("Complete requests"); !ok || n != "2000" {
		t.Errorf("Complete requests %q, want 2000:\n%s", n, out)
	}
	if n, ok := field("Failed requests"); !ok || n != "0" {
		t.Errorf("Failed requests %q, want 0:\n%s", n, out)
	}
	if n, ok := field("Non-2xx responses"); ok && n != "0" {
		t.Errorf("Non-2xx responses %s:\n%s", n, out)
	}
	if n, ok := field("Keep-Alive requests"); !ok || n != "2000" {
		t.Errorf("Keep-Alive requests %q, want 2000:\n%s", n, out)
	}
}
