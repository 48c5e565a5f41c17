package main

import (
	"strings"
	"testing"
	"time"

	"github.com/evloop/evloop"
)

// fakeConn is the part of evloop.Conn that OnTraffic uses, over a plain
// byte slice, so that the handler can be driven without a network. Calling
// any other method panics on the nil embedded interface, which would fail
// the test loudly.
type fakeConn struct {
	evloop.Conn
	in      []byte // buffered inbound bytes
	out     []byte // everything written
	writes  int
	discard int
	ctx     any
	timers  int // AfterFunc calls
}

func (f *fakeConn) Context() any       { return f.ctx }
func (f *fakeConn) SetContext(ctx any) { f.ctx = ctx }

// AfterFunc counts the call and returns the nil *Timer, whose Stop and
// Reset do nothing: the fake has no loop to run a timer on.
func (f *fakeConn) AfterFunc(time.Duration, func(evloop.Conn)) *evloop.Timer {
	f.timers++
	return nil
}

func (f *fakeConn) Peek(n int) ([]byte, error) {
	if n < 0 || n > len(f.in) {
		n = len(f.in)
	}
	return f.in[:n:n], nil
}

func (f *fakeConn) Discard(n int) (int, error) {
	n = min(n, len(f.in))
	f.in = f.in[n:]
	f.discard += n
	return n, nil
}

func (f *fakeConn) Write(p []byte) (int, error) {
	f.writes++
	f.out = append(f.out, p...)
	return len(p), nil
}

// newTestHandler returns a handler with its Date set, as after boot.
func newTestHandler(tb testing.TB) *handler {
	tb.Helper()
	h := newHandler()
	h.dates.Refresh(time.Now())
	return h
}

func TestOnTraffic(t *testing.T) {
	req := get("GET", "")
	tests := []struct {
		name        string
		in          string
		wantAction  evloop.Action
		wantWrites  int // every batch goes out in at most one write
		wantAnswers int // "200 OK" responses
		wantStatus  string
		wantLeft    string // left buffered for the next call
	}{
		{name: "nothing yet", in: "", wantWrites: 0},
		{name: "partial request", in: req[:10], wantLeft: req[:10]},
		{name: "one request", in: req, wantWrites: 1, wantAnswers: 1},
		{name: "sixteen pipelined", in: strings.Repeat(req, 16), wantWrites: 1, wantAnswers: 16},
		{name: "two and a partial", in: req + req + req[:20], wantWrites: 1, wantAnswers: 2, wantLeft: req[:20]},
		{name: "body not complete", in: get("POST", "Content-Length: 5\r\n") + "abc", wantLeft: get("POST", "Content-Length: 5\r\n") + "abc"},
		{name: "close", in: get("GET", "Connection: close\r\n") + req, wantAction: evloop.Close, wantWrites: 1, wantAnswers: 1},
		{name: "garbage", in: "NOT HTTP\r\n\r\n", wantAction: evloop.Close, wantWrites: 1, wantStatus: "HTTP/1.1 400 "},
		{name: "one then garbage", in: req + "\r\n", wantAction: evloop.Close, wantWrites: 1, wantAnswers: 1, wantStatus: "HTTP/1.1 400 "},
		{name: "chunked", in: get("POST", "Transfer-Encoding: chunked\r\n"), wantAction: evloop.Close, wantWrites: 1, wantStatus: "HTTP/1.1 501 "},
		{name: "header too large", in: get("GET", "X: "+strings.Repeat("y", 8<<10)), wantAction: evloop.Close, wantWrites: 1, wantStatus: "HTTP/1.1 431 "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newTestHandler(t)
			c := &fakeConn{in: []byte(tt.in)}
			if got := h.OnTraffic(c); got != tt.wantAction {
				t.Fatalf("action %v, want %v", got, tt.wantAction)
			}
			out := string(c.out)
			if c.writes != tt.wantWrites {
				t.Errorf("%d writes, want %d", c.writes, tt.wantWrites)
			}
			if got := strings.Count(out, "HTTP/1.1 200 OK\r\n"); got != tt.wantAnswers {
				t.Errorf("%d answers, want %d in %q", got, tt.wantAnswers, out)
			}
			if tt.wantStatus != "" && !strings.Contains(out, tt.wantStatus) {
				t.Errorf("no %q in %q", tt.wantStatus, out)
			}
			if tt.wantStatus != "" && !strings.HasSuffix(out, "Connection: close\r\n\r\n") {
				t.Errorf("error response does not end with Connection: close: %q", out)
			}
			if tt.wantAction == evloop.None && string(c.in) != tt.wantLeft {
				t.Errorf("left buffered %q, want %q", c.in, tt.wantLeft)
			}
		})
	}
}

func TestAppendHelloHTTP10KeepAlive(t *testing.T) {
	h := newTestHandler(t)
	out, used, keepAlive := h.answer(nil, []byte("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"))
	want := "Content-Length: 13\r\nConnection: keep-alive\r\n\r\nHello, World!"
	if used == 0 || !keepAlive || !strings.HasSuffix(string(out), want) {
		t.Fatalf("answer = %q, %d, %v; want a kept-alive response ending %q", out, used, keepAlive, want)
	}
}

func TestInsert(t *testing.T) {
	tests := []struct {
		name string
		b    string
		at   int
		s    string
		want string
	}{
		{name: "middle", b: "abcdef", at: 3, s: "XY", want: "abcXYdef"},
		{name: "start", b: "abc", at: 0, s: "X", want: "Xabc"},
		{name: "end", b: "abc", at: 3, s: "XY", want: "abcXY"},
		{name: "longer than tail", b: "ab", at: 1, s: "WXYZ", want: "aWXYZb"},
		{name: "empty", b: "ab", at: 1, s: "", want: "ab"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(insert([]byte(tt.b), tt.at, []byte(tt.s))); got != tt.want {
				t.Fatalf("insert(%q, %d, %q) = %q, want %q", tt.b, tt.at, tt.s, got, tt.want)
			}
		})
	}
}

func TestOnTickRefreshesDate(t *testing.T) {
	h := newHandler()
	if h.dates.Get() != nil {
		t.Fatal("Date set before the first tick")
	}
	delay, action := h.OnTick()
	if delay != time.Second || action != evloop.None {
		t.Fatalf("OnTick = %v, %v; want 1s, None", delay, action)
	}
	if _, err := time.Parse(time.RFC1123, string(h.dates.Get())); err != nil {
		t.Fatalf("Date after a tick: %v", err)
	}
}
