package evloop

import (
	"errors"
	"fmt"
	"io"
	"testing"
	"time"
)

// ocReport is what the loop-only methods returned inside OnClose.
type ocReport struct {
	buffered int
	steps    []string // each call and its result
	err      error    // the first result that broke the contract
}

// ocHandler leaves everything it receives unread (or consumes it, when
// consume), closes by returning Close on "close", and in OnClose calls
// every loop-only method and reports what they returned.
type ocHandler struct {
	BaseHandler
	consume bool
	opened  chan Conn
	reports chan ocReport
}

func (h *ocHandler) OnOpen(c Conn) ([]byte, Action) {
	c.SetContext("from OnOpen")
	h.opened <- c
	return nil, None
}

func (h *ocHandler) OnTraffic(c Conn) Action {
	b, _ := c.Peek(-1)
	if h.consume {
		_, _ = c.Discard(len(b))
	}
	if string(b) == "close" || string(b) == "unread then close" {
		return Close
	}
	return None
}

// OnClose checks, with what is left unread, that Peek, Next, Discard and
// Read return it and then nothing, that Write, Writev and Flush fail with
// ErrClosed, and that the context works.
func (h *ocHandler) OnClose(c Conn, _ error) Action {
	r := ocReport{buffered: c.InboundBuffered()}
	check := func(step string, ok bool) {
		r.steps = append(r.steps, step)
		if !ok && r.err == nil {
			r.err = fmt.Errorf("in OnClose: %s", step)
		}
	}
	left, err := c.Peek(-1)
	want := string(left) // copied: the checks below consume it
	check(fmt.Sprintf("Peek(-1) = %q, %v", want, err), err == nil && len(want) == r.buffered)
	if len(want) > 0 {
		b, err := c.Next(1)
		check(fmt.Sprintf("Next(1) = %q, %v", b, err), err == nil && string(b) == want[:1])
		if len(want) > 1 {
			n, err := c.Discard(1)
			check(fmt.Sprintf("Discard(1) = %d, %v", n, err), err == nil && n == 1)
		}
		if len(want) > 2 {
			buf := make([]byte, 64)
			n, err := c.Read(buf)
			check(fmt.Sprintf("Read = %q, %v", buf[:n], err), err == nil && string(buf[:n]) == want[2:])
		}
	}
	n, err := c.Read(make([]byte, 8))
	check(fmt.Sprintf("Read when empty = %d, %v", n, err), n == 0 && errors.Is(err, io.EOF))
	b, err := c.Peek(1)
	check(fmt.Sprintf("Peek(1) when empty = %q, %v", b, err), len(b) == 0 && errors.Is(err, ErrShortBuffer))
	check(fmt.Sprintf("InboundBuffered when empty = %d", c.InboundBuffered()), c.InboundBuffered() == 0)
	n, err = c.Write([]byte("late"))
	check(fmt.Sprintf("Write = %d, %v", n, err), n == 0 && errors.Is(err, ErrClosed))
	n, err = c.Writev([][]byte{[]byte("la"), []byte("te")})
	check(fmt.Sprintf("Writev = %d, %v", n, err), n == 0 && errors.Is(err, ErrClosed))
	err = c.Flush()
	check(fmt.Sprintf("Flush = %v", err), errors.Is(err, ErrClosed))
	check(fmt.Sprintf("OutboundBuffered = %d", c.OutboundBuffered()), c.OutboundBuffered() == 0)
	ctx := c.Context()
	c.SetContext("from OnClose")
	check(fmt.Sprintf("Context = %v, then %v", ctx, c.Context()), ctx == "from OnOpen" && c.Context() == "from OnClose")
	h.reports <- r
	return None
}

// TestLoopMethodsInOnClose: inside OnClose, Peek, Next, Discard and Read
// return the bytes the handler left unread and then nothing, Write,
// Writev and Flush fail with ErrClosed, and Context and SetContext work,
// however the connection closed.
func TestLoopMethodsInOnClose(t *testing.T) {
	tests := []struct {
		name    string
		consume bool
		send    string
		close   func(t *testing.T, c Conn, s *testServer)
		want    int // bytes left unread at OnClose
	}{
		{name: "peer FIN, input left unread", send: "hello world", want: len("hello world")},
		{name: "peer FIN, input consumed", consume: true, send: "hello world"},
		{name: "Close action, input left unread", send: "unread then close", want: len("unread then close")},
		{name: "Close action, input consumed", consume: true, send: "close"},
		{name: "Conn.Close, input left unread", send: "left for OnClose", want: len("left for OnClose"),
			close: func(t *testing.T, c Conn, _ *testServer) {
				if err := c.Close(); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "Stop, input left unread", send: "left for the stop", want: len("left for the stop"),
			close: func(t *testing.T, _ Conn, s *testServer) { s.stop(t) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &ocHandler{consume: tt.consume, opened: make(chan Conn, 1), reports: make(chan ocReport, 1)}
			s := startEngine(t, h, "tcp://127.0.0.1:0", WithLoops(1))
			nc := s.dial(t)
			c := tbRecv(t, h.opened, 5*time.Second, "OnOpen")
			if _, err := io.WriteString(nc, tt.send); err != nil {
				t.Fatal(err)
			}
			// Once the bytes were shown to OnTraffic, a Wake's callback
			// sees them buffered (or consumed).
			if tt.close != nil {
				if !itEventually(5*time.Second, func() bool {
					_, in, err := fcLoopBuffers(c, 5*time.Second)
					return err == nil && in == tt.want
				}) {
					t.Fatalf("the server did not buffer the %d bytes sent", tt.want)
				}
				tt.close(t, c, s)
			} else if tt.send != "close" && tt.send != "unread then close" {
				if err := itCloseWrite(nc); err != nil {
					t.Fatal(err)
				}
			}
			r := tbRecv(t, h.reports, 5*time.Second, "OnClose")
			if r.buffered != tt.want {
				t.Errorf("InboundBuffered in OnClose = %d, want %d", r.buffered, tt.want)
			}
			if r.err != nil {
				t.Errorf("%v; all calls:\n%v", r.err, r.steps)
			}
		})
	}
}
