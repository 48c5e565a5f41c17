package main

import (
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// headerTimeout is the read-header timeout of the tests below: short, so
// that they run in a second or two, with windows around it wide enough for
// a loaded machine.
const headerTimeout = 300 * time.Millisecond

// expectTimeout reads the 408 answer to a header that did not complete,
// then the close, and checks they came no sooner than headerTimeout after
// start (before the request's first byte was sent) and within a second
// after that.
func (c *client) expectTimeout(tb testing.TB, start time.Time) {
	tb.Helper()
	resp, body := c.response(tb, http.MethodGet)
	answered := time.Since(start)
	if resp.StatusCode != http.StatusRequestTimeout || !resp.Close || body != "" {
		tb.Fatalf("answer to a stalled header: status %d, Close %v, body %q; want 408, a close and no body",
			resp.StatusCode, resp.Close, body)
	}
	c.expectClosed(tb)
	closed := time.Since(start)
	tb.Logf("408 after %v, closed after %v (read-header timeout %v)", answered.Round(time.Millisecond),
		closed.Round(time.Millisecond), headerTimeout)
	if answered < headerTimeout {
		tb.Fatalf("408 after %v, before the %v the header had", answered, headerTimeout)
	}
	if closed > headerTimeout+time.Second {
		tb.Fatalf("closed %v after the first byte, want within %v", closed, headerTimeout+time.Second)
	}
}

// trickle sends s one byte every interval on c until it is all sent, a
// write fails (the server closed) or stop is closed; it closes done when
// it returns.
func trickle(c *client, s string, interval time.Duration, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for i := range len(s) {
		if _, err := c.Write([]byte{s[i]}); err != nil {
			return
		}
		select {
		case <-tick.C:
		case <-stop:
			return
		}
	}
}

// TestReadHeaderTimeout: a header that is not complete headerTimeout after
// its first byte gets 408 and a close, whether it stalls or trickles in;
// one completed in time is served and leaves no timer behind, however the
// requests before and after it are split or pipelined, and a slow body is
// not the header's business. In both modes: blocking mode sends its 408
// through the pool, behind the replies still being made.
func TestReadHeaderTimeout(t *testing.T) {
	req := get(http.MethodGet, "User-Agent: timeout-test\r\n")
	half := len(req) / 2
	tests := []struct {
		name string
		run  func(t *testing.T, c *client)
	}{
		{
			name: "half a header, then nothing",
			run: func(t *testing.T, c *client) {
				start := time.Now()
				c.send(t, req[:half])
				c.expectTimeout(t, start)
			},
		},
		{
			name: "two requests answered, then half a header",
			run: func(t *testing.T, c *client) {
				start := time.Now()
				c.send(t, req+req+req[:half])
				c.expectHello(t, http.MethodGet)
				c.expectHello(t, http.MethodGet)
				c.expectTimeout(t, start)
			},
		},
		{
			name: "a byte every 50ms",
			run: func(t *testing.T, c *client) {
				stop, done := make(chan struct{}), make(chan struct{})
				defer func() { close(stop); <-done }()
				start := time.Now()
				go trickle(c, req, 50*time.Millisecond, stop, done) // 2.5 s for the whole header
				c.expectTimeout(t, start)
			},
		},
		{
			name: "completed in time, then quiet",
			run: func(t *testing.T, c *client) {
				c.send(t, req[:half])
				time.Sleep(headerTimeout / 2)
				c.send(t, req[half:])
				c.expectHello(t, http.MethodGet)
				c.expectQuiet(t, 2*headerTimeout) // the timer was stopped
				c.send(t, req)
				c.expectHello(t, http.MethodGet)
			},
		},
		{
			name: "every request split, kept alive",
			run: func(t *testing.T, c *client) {
				// 2.5 timeouts in all: each request re-arms the one timer.
				for range 5 {
					c.send(t, req[:half])
					time.Sleep(headerTimeout / 2)
					c.send(t, req[half:])
					c.expectHello(t, http.MethodGet)
				}
				c.expectQuiet(t, 2*headerTimeout)
			},
		},
		{
			name: "pipelined, a partial request left each time",
			run: func(t *testing.T, c *client) {
				// Each write completes the last one's partial request
				// and leaves the start of a new one: a new request's time
				// starts when its first byte arrives.
				batch := strings.Repeat(req, 16)
				c.send(t, batch+req[:half])
				for range 6 {
					for range 16 {
						c.expectHello(t, http.MethodGet)
					}
					time.Sleep(headerTimeout / 2)
					c.send(t, req[half:]+batch[len(req):]+req[:half])
				}
				for range 16 {
					c.expectHello(t, http.MethodGet)
				}
				c.send(t, req[half:])
				c.expectHello(t, http.MethodGet)
				c.expectQuiet(t, 2*headerTimeout)
			},
		},
		{
			name: "a slow body",
			run: func(t *testing.T, c *client) {
				c.send(t, get(http.MethodPost, "Content-Length: 5\r\n")+"he")
				time.Sleep(2 * headerTimeout)
				c.send(t, "llo")
				c.expectHello(t, http.MethodPost)
				c.expectOpen(t)
			},
		},
	}
	for _, blocking := range []bool{false, true} {
		mode := "loop"
		if blocking {
			mode = "blocking"
		}
		for _, tt := range tests {
			t.Run(mode+"/"+tt.name, func(t *testing.T) {
				s := startServerWith(t, config{
					addr:              "tcp://127.0.0.1:0",
					loops:             2,
					blocking:          blocking,
					readHeaderTimeout: headerTimeout,
				})
				tt.run(t, s.dial(t))
			})
		}
	}
}

// closeResult is when and how a connection's first read after its last
// response ended.
type closeResult struct {
	at  time.Time
	b   byte // what was read, if err is nil
	err error
}

// watchClose reads from c on a goroutine until the connection ends (or
// 10 s pass) and reports it on the returned channel.
func (c *client) watchClose(tb testing.TB) <-chan closeResult {
	tb.Helper()
	if err := c.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		tb.Fatal(err)
	}
	res := make(chan closeResult, 1)
	go func() {
		b, err := c.r.ReadByte()
		res <- closeResult{at: time.Now(), b: b, err: err}
	}()
	return res
}

// TestIdleTimeout: a keep-alive connection that goes quiet closes after the
// idle timeout, with no answer (it owes none); one that keeps asking stays.
func TestIdleTimeout(t *testing.T) {
	const idle = 300 * time.Millisecond
	s := startServerWith(t, config{addr: "tcp://127.0.0.1:0", loops: 2, idleTimeout: idle, readHeaderTimeout: time.Second})
	dialed := time.Now() // the server cannot count quiet idle from before this
	quiet, busy := s.dial(t), s.dial(t)
	quiet.send(t, get(http.MethodGet, ""))
	quiet.expectHello(t, http.MethodGet)
	answered := time.Now() // the server's last byte to quiet went before this
	closed := quiet.watchClose(t)
	// busy asks every idle/3 for 4 idle timeouts; meanwhile quiet closes.
	for range 12 {
		time.Sleep(idle / 3)
		busy.send(t, get(http.MethodGet, ""))
		busy.expectHello(t, http.MethodGet)
	}
	r := <-closed
	if r.err == nil || isTimeout(r.err) {
		t.Fatalf("quiet connection: read (%q, %v), want it closed", r.b, r.err)
	}
	sinceDial, sinceAnswer := r.at.Sub(dialed), r.at.Sub(answered)
	t.Logf("quiet connection closed %v after its answer (idle timeout %v)", sinceAnswer.Round(time.Millisecond), idle)
	if sinceDial < idle || sinceAnswer > idle+time.Second {
		t.Fatalf("quiet connection closed %v after its dial and %v after its answer, want at least %v and at most %v",
			sinceDial, sinceAnswer, idle, idle+time.Second)
	}
	busy.expectOpen(t)
}

// TestTimeoutsOff: with both timeouts 0, a connection that stalls half way
// through a header, and one that never sends, are both still served a
// second later (far beyond the 300 ms the other tests use).
func TestTimeoutsOff(t *testing.T) {
	s := startServerWith(t, config{addr: "tcp://127.0.0.1:0", loops: 2})
	req := get(http.MethodGet, "")
	half, silent := s.dial(t), s.dial(t)
	half.send(t, req[:len(req)/2])
	time.Sleep(time.Second)
	half.send(t, req[len(req)/2:])
	half.expectHello(t, http.MethodGet)
	silent.send(t, req)
	silent.expectHello(t, http.MethodGet)
	half.expectOpen(t)
	silent.expectOpen(t)
}

// isTimeout reports whether err is a client-side deadline.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
