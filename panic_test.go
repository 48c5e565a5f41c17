package evloop

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"
)

// itBoom is the value itPanicHandler panics with.
type itBoom struct{ code int }

// itPanicHandler echoes, except that it panics on a message containing
// "boom". It reports the OnClose error of the connection that panicked.
type itPanicHandler struct {
	BaseHandler
	boomClosed chan error
}

const itBoomMark = "boomed"

func (h *itPanicHandler) OnTraffic(c Conn) Action {
	b, _ := c.Peek(-1)
	if bytes.Contains(b, []byte("boom")) {
		c.SetContext(itBoomMark)
		panic(itBoom{code: 42})
	}
	b, _ = c.Next(-1)
	if _, err := c.Write(b); err != nil {
		return Close
	}
	return None
}

func (h *itPanicHandler) OnClose(c Conn, err error) Action {
	if c.Context() == itBoomMark {
		select {
		case h.boomClosed <- err:
		default:
		}
	}
	return None
}

// itPing sends msg and expects it echoed within 5 s.
func itPing(nc net.Conn, msg string) error {
	if err := nc.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
		return err
	}
	if _, err := io.WriteString(nc, msg); err != nil {
		return fmt.Errorf("write %q: %w", msg, err)
	}
	buf := make([]byte, len(msg))
	if _, err := io.ReadFull(nc, buf); err != nil {
		return fmt.Errorf("read echo of %q: %w", msg, err)
	}
	if string(buf) != msg {
		return fmt.Errorf("echo of %q came back as %q", msg, buf)
	}
	return nil
}

// TestIntegrationPanicInTraffic makes one connection's OnTraffic panic: that
// connection is closed with a *PanicError carrying the panic value, the
// panic is counted and logged with its stack, and ten other clients keep
// being served before and after.
func TestIntegrationPanicInTraffic(t *testing.T) {
	logger, logs := itQuietLogger()
	h := &itPanicHandler{boomClosed: make(chan error, 1)}
	s := startEngine(t, h, "tcp://127.0.0.1:0", WithLoops(2), WithLogger(logger))

	others := make([]net.Conn, 10)
	for i := range others {
		others[i] = s.dial(t)
		if err := itPing(others[i], fmt.Sprintf("before-%d", i)); err != nil {
			t.Fatalf("client %d before the panic: %v", i, err)
		}
	}

	boom := s.dial(t)
	if _, err := io.WriteString(boom, "boom"); err != nil {
		t.Fatalf("write boom: %v", err)
	}
	if err := boom.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	k, err := boom.Read(make([]byte, 16))
	if k != 0 || !(errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)) {
		t.Errorf("read on the panicking connection = %d, %v; want 0 and EOF or a reset within 5s", k, err)
	}

	select {
	case err := <-h.boomClosed:
		var perr *PanicError
		switch {
		case !errors.As(err, &perr):
			t.Errorf("OnClose error = %v (%T), want a *PanicError", err, err)
		case perr.Value != (itBoom{code: 42}):
			t.Errorf("PanicError.Value = %#v, want %#v", perr.Value, itBoom{code: 42})
		case !bytes.Contains(perr.Stack, []byte("itPanicHandler")):
			t.Errorf("PanicError.Stack does not show the panicking handler:\n%s", perr.Stack)
		}
	case <-time.After(5 * time.Second):
		t.Error("OnClose did not run for the panicking connection within 5s")
	}
	if got := s.eng.Stats().Panics; got != 1 {
		t.Errorf("Stats().Panics = %d, want 1", got)
	}
	if !strings.Contains(logs.String(), "itPanicHandler") {
		t.Errorf("the recovered panic was not logged with its stack; log:\n%s", logs.String())
	}

	for i, nc := range others {
		if err := itPing(nc, fmt.Sprintf("after-%d", i)); err != nil {
			t.Errorf("client %d after the panic: %v", i, err)
		}
	}
	if err := itPing(s.dial(t), "new-after"); err != nil {
		t.Errorf("new client after the panic: %v", err)
	}
	if got := s.eng.CountConnections(); got != len(others)+1 {
		t.Errorf("CountConnections() = %d, want %d", got, len(others)+1)
	}
}
