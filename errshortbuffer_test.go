package evloop

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

// TestErrShortBufferIsIOErrShortBuffer: handlers written against gnet
// check errors.Is(err, io.ErrShortBuffer) after a Peek or Next that asked
// for more than is buffered; evloop's error satisfies that and keeps its
// own identity.
func TestErrShortBufferIsIOErrShortBuffer(t *testing.T) {
	if !errors.Is(ErrShortBuffer, io.ErrShortBuffer) {
		t.Error("errors.Is(ErrShortBuffer, io.ErrShortBuffer) = false")
	}
	if errors.Is(io.ErrShortBuffer, ErrShortBuffer) {
		t.Error("errors.Is(io.ErrShortBuffer, ErrShortBuffer) = true: io's error is not evloop's")
	}
	if !strings.HasPrefix(ErrShortBuffer.Error(), "evloop: ") {
		t.Errorf("ErrShortBuffer = %q, want the evloop: prefix", ErrShortBuffer)
	}

	type result struct{ peekErr, nextErr error }
	got := make(chan result, 1)
	h := &tbHandler{traffic: func(c Conn) Action {
		n := c.InboundBuffered()
		_, peekErr := c.Peek(n + 1)
		_, nextErr := c.Next(n + 1)
		got <- result{peekErr, nextErr}
		return None
	}}
	s := startEngine(t, h, "tcp://127.0.0.1:0", WithLoops(1))
	if _, err := s.dial(t).Write([]byte("abc")); err != nil {
		t.Fatal(err)
	}
	r := tbRecv(t, got, 10*time.Second, "OnTraffic")
	for name, err := range map[string]error{"Peek": r.peekErr, "Next": r.nextErr} {
		if !errors.Is(err, io.ErrShortBuffer) || !errors.Is(err, ErrShortBuffer) {
			t.Errorf("%s past the buffered bytes: %v, want both ErrShortBuffer and io.ErrShortBuffer", name, err)
		}
	}
}
