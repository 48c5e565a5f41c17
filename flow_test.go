package evloop

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/evloop/evloop/internal/cputime"
)

// itReadPattern reads n bytes from r and checks that they are the pattern
// from stream offset 0; it reports how many bytes arrived and the first
// offset that differs.
func itReadPattern(r io.Reader, n int) (int, error) {
	buf := make([]byte, 256<<10)
	got := 0
	for got < n {
		k, err := r.Read(buf[:min(len(buf), n-got)])
		for i, b := range buf[:k] {
			if want := itPatternByte(got + i); b != want {
				return got + i, fmt.Errorf("byte %d is %#x, want %#x", got+i, b, want)
			}
		}
		got += k
		if err != nil {
			return got, fmt.Errorf("after %d of %d bytes: %w", got, n, err)
		}
	}
	return got, nil
}

// itExpectNoMore checks that nothing more arrives within wait.
func itExpectNoMore(nc net.Conn, wait time.Duration) error {
	if err := nc.SetReadDeadline(time.Now().Add(wait)); err != nil {
		return err
	}
	var extra [64]byte
	k, err := nc.Read(extra[:])
	if k != 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
		return fmt.Errorf("read %d stray bytes %q (err %v), want nothing until the deadline", k, extra[:k], err)
	}
	return nil
}

// itFlowMode says how itFlowHandler sends its payload.
type itFlowMode int

const (
	itFlowOpenWrite    itFlowMode = iota // c.Write in OnOpen
	itFlowOpenOut                        // returned as out from OnOpen
	itFlowTrafficChunk                   // 1 MiB c.Writes from OnTraffic once the client says "go"
)

// itFlowHandler sends payload to every client in the way mode says.
type itFlowHandler struct {
	BaseHandler
	mode    itFlowMode
	payload []byte
	errc    chan error
}

func (h *itFlowHandler) report(err error) {
	select {
	case h.errc <- err:
	default:
	}
}

func (h *itFlowHandler) OnOpen(c Conn) ([]byte, Action) {
	switch h.mode {
	case itFlowOpenOut:
		return h.payload, None
	case itFlowOpenWrite:
		if n, err := c.Write(h.payload); err != nil || n != len(h.payload) {
			h.report(fmt.Errorf("Write in OnOpen = %d, %v; want %d, nil", n, err, len(h.payload)))
			return nil, Close
		}
	}
	return nil, None
}

func (h *itFlowHandler) OnTraffic(c Conn) Action {
	b, _ := c.Next(-1)
	if h.mode != itFlowTrafficChunk || !bytes.Contains(b, []byte("go")) {
		return None
	}
	const chunk = 1 << 20
	for off := 0; off < len(h.payload); off += chunk {
		p := h.payload[off:min(off+chunk, len(h.payload))]
		if n, err := c.Write(p); err != nil || n != len(p) {
			h.report(fmt.Errorf("Write at %d = %d, %v; want %d, nil", off, n, err, len(p)))
			return Close
		}
	}
	return None
}

// TestIntegrationSlowReader has the server write far more than the socket
// buffers hold to a client that waits a second before reading: every byte
// must arrive, in order, and the loop must not spin while it waits.
func TestIntegrationSlowReader(t *testing.T) {
	big := itScale(64<<20, 16<<20)
	tests := []struct {
		name string
		mode itFlowMode
		size int
	}{
		{name: "write-in-OnOpen", mode: itFlowOpenWrite, size: big},
		{name: "chunks-from-OnTraffic", mode: itFlowTrafficChunk, size: big},
		{name: "out-from-OnOpen", mode: itFlowOpenOut, size: 16 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &itFlowHandler{mode: tt.mode, payload: itPattern(0, tt.size), errc: make(chan error, 1)}
			// The server queues the whole 64 MiB at once: above the default
			// hard cap, which a server writing this much must raise.
			s := startEngine(t, h, "tcp://127.0.0.1:0", WithLoops(1), WithOutboundLimit(128<<20))
			nc := s.dial(t)
			if tt.mode == itFlowTrafficChunk {
				if _, err := nc.Write([]byte("go")); err != nil {
					t.Fatalf("write go: %v", err)
				}
			}
			// Let the server fill every buffer, then watch the process idle
			// while the client does not read.
			time.Sleep(200 * time.Millisecond)
			cpu0, wall0 := cputime.Process(t), time.Now()
			time.Sleep(800 * time.Millisecond)
			cpu, wall := cputime.Process(t)-cpu0, time.Since(wall0)
			t.Logf("CPU while the client did not read: %v in %v", cpu, wall.Round(time.Millisecond))
			if cpu > wall/2 {
				t.Errorf("process used %v CPU in %v while the only client was not reading: a loop spins", cpu, wall)
			}
			if err := nc.SetReadDeadline(time.Now().Add(60 * time.Second)); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			if n, err := itReadPattern(nc, tt.size); err != nil {
				t.Fatalf("read %d of %d bytes: %v", n, tt.size, err)
			}
			t.Logf("read %d bytes in %v", tt.size, time.Since(start).Round(time.Millisecond))
			if err := itExpectNoMore(nc, 100*time.Millisecond); err != nil {
				t.Error(err)
			}
			select {
			case err := <-h.errc:
				t.Errorf("handler: %v", err)
			default:
			}
		})
	}
}

// itFINReport is what itFINHandler saw of one connection when it closed.
type itFINReport struct {
	got      int   // bytes OnTraffic consumed
	mismatch int   // first offset that differed from the pattern, or -1
	err      error // OnClose's error
}

// itFINHandler counts and checks the bytes each connection sends, echoing
// them when echo is set, and reports at OnClose.
type itFINHandler struct {
	BaseHandler
	echo    bool
	reports chan itFINReport
	late    chan string // OnTraffic after OnClose
}

type itFINState struct {
	itFINReport
	closed bool
}

func (h *itFINHandler) OnOpen(c Conn) ([]byte, Action) {
	c.SetContext(&itFINState{itFINReport: itFINReport{mismatch: -1}})
	return nil, None
}

func (h *itFINHandler) OnTraffic(c Conn) Action {
	st := c.Context().(*itFINState)
	b, _ := c.Next(-1)
	if st.closed {
		select {
		case h.late <- fmt.Sprintf("OnTraffic with %d bytes after OnClose", len(b)):
		default:
		}
	}
	for i, x := range b {
		if st.mismatch < 0 && x != itPatternByte(st.got+i) {
			st.mismatch = st.got + i
		}
	}
	st.got += len(b)
	if h.echo {
		if _, err := c.Write(b); err != nil {
			return Close
		}
	}
	return None
}

func (h *itFINHandler) OnClose(c Conn, err error) Action {
	st := c.Context().(*itFINState)
	st.closed = true
	st.err = err
	select { // one connection per test: never block the loop on a second
	case h.reports <- st.itFINReport:
	default:
	}
	return None
}

// TestIntegrationDataThenFIN sends N bytes and the FIN right behind them:
// OnTraffic must see all N bytes before OnClose, which gets a nil error.
func TestIntegrationDataThenFIN(t *testing.T) {
	tests := []struct {
		name string
		n    int
	}{
		{name: "1B", n: 1},
		{name: "4KiB", n: 4 << 10},
		{name: "64KiB+1", n: 64<<10 + 1},
		{name: "1MiB", n: itScale(1<<20, 256<<10)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &itFINHandler{reports: make(chan itFINReport, 1), late: make(chan string, 1)}
			// The server queues the whole 64 MiB at once: above the default
			// hard cap, which a server writing this much must raise.
			s := startEngine(t, h, "tcp://127.0.0.1:0", WithLoops(1), WithOutboundLimit(128<<20))
			nc := s.dial(t)
			if _, err := nc.Write(itPattern(0, tt.n)); err != nil {
				t.Fatalf("write: %v", err)
			}
			if err := itCloseWrite(nc); err != nil {
				t.Fatal(err)
			}
			var rep itFINReport
			select {
			case rep = <-h.reports:
			case <-time.After(5 * time.Second):
				t.Fatal("OnClose did not run within 5s of the FIN")
			}
			if rep.got != tt.n {
				t.Errorf("OnTraffic saw %d bytes before OnClose, want %d", rep.got, tt.n)
			}
			if rep.mismatch >= 0 {
				t.Errorf("byte %d differs from what was sent", rep.mismatch)
			}
			if rep.err != nil {
				t.Errorf("OnClose error = %v, want nil for an orderly close", rep.err)
			}
			select {
			case msg := <-h.late:
				t.Error(msg)
			default:
			}
			if err := nc.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
				t.Fatal(err)
			}
			if k, err := nc.Read(make([]byte, 16)); k != 0 || !errors.Is(err, io.EOF) {
				t.Errorf("client read after the server closed = %d, %v; want 0, EOF", k, err)
			}
		})
	}
}

// TestIntegrationDataThenFINEchoWhole sends N bytes to an echo server
// without reading, then the FIN, and only then reads: the server holds most
// of the echo in its output buffer when it sees EOF, and must send all of it
// before it closes ("close after flushing pending output").
func TestIntegrationDataThenFINEchoWhole(t *testing.T) {
	n := itScale(16<<20, 8<<20)
	h := &itFINHandler{echo: true, reports: make(chan itFINReport, 1), late: make(chan string, 1)}
	// The whole echo must fit in the output buffer, with reading never
	// paused: this test is about flushing before the close, not about the
	// watermarks (flow control would rightly stop a client that writes
	// 16 MiB without reading).
	s := startEngine(t, h, "tcp://127.0.0.1:0", WithLoops(1),
		WithOutboundWatermarks(64<<20, 32<<20), WithOutboundLimit(64<<20))
	nc := s.dial(t)
	if err := nc.SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := nc.Write(itPattern(0, n)); err != nil {
		t.Fatalf("write: %v", err)
	}
	if err := itCloseWrite(nc); err != nil {
		t.Fatal(err)
	}
	// Give the server time to see the EOF while most of the echo is still
	// in its output buffer; a correct server keeps the connection open
	// until that buffer is sent, so the report comes after the reading.
	time.Sleep(200 * time.Millisecond)
	got, err := itReadPattern(nc, n)
	if err != nil {
		t.Errorf("echo: got %d of %d bytes: %v", got, n, err)
	}
	var rep itFINReport
	select {
	case rep = <-h.reports:
	case <-time.After(10 * time.Second):
		t.Fatal("OnClose did not run within 10s of the FIN")
	}
	if rep.got != n || rep.err != nil {
		t.Errorf("server saw %d bytes, OnClose(%v); want %d bytes, nil", rep.got, rep.err, n)
	}
	if err != nil {
		return
	}
	if k, err := nc.Read(make([]byte, 16)); k != 0 || !errors.Is(err, io.EOF) {
		t.Errorf("read after the whole echo = %d, %v; want 0, EOF", k, err)
	}
}

// itCloseAfterWrite writes payload to every client and then closes the
// connection, in the way its mode says; closed receives each OnClose error.
type itCloseAfterWrite struct {
	BaseHandler
	mode    string
	payload []byte
	closed  chan error
}

const (
	itCloseByAction = "Close action from OnOpen"
	itCloseByMethod = "Conn.Close from another goroutine"
)

func (h *itCloseAfterWrite) OnOpen(c Conn) ([]byte, Action) {
	if h.mode == itCloseByAction {
		return h.payload, Close
	}
	if _, err := c.Write(h.payload); err != nil {
		return nil, Close
	}
	go func() { _ = c.Close() }()
	return nil, None
}

func (h *itCloseAfterWrite) OnClose(_ Conn, err error) Action {
	select {
	case h.closed <- err:
	default:
	}
	return None
}

// TestIntegrationCloseFlushesPending closes a connection whose output is
// still mostly pending (the client is not reading yet): the client must
// still get every byte, then EOF.
func TestIntegrationCloseFlushesPending(t *testing.T) {
	n := itScale(16<<20, 8<<20)
	tests := []struct {
		name string
		mode string
	}{
		{name: "action", mode: itCloseByAction},
		{name: "method", mode: itCloseByMethod},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &itCloseAfterWrite{mode: tt.mode, payload: itPattern(0, n), closed: make(chan error, 1)}
			// The server queues the whole 64 MiB at once: above the default
			// hard cap, which a server writing this much must raise.
			s := startEngine(t, h, "tcp://127.0.0.1:0", WithLoops(1), WithOutboundLimit(128<<20))
			nc := s.dial(t)
			time.Sleep(300 * time.Millisecond)
			if err := nc.SetReadDeadline(time.Now().Add(30 * time.Second)); err != nil {
				t.Fatal(err)
			}
			if got, err := itReadPattern(nc, n); err != nil {
				t.Fatalf("%s: client got %d of %d bytes: %v", tt.mode, got, n, err)
			}
			if k, err := nc.Read(make([]byte, 16)); k != 0 || !errors.Is(err, io.EOF) {
				t.Errorf("read after all bytes = %d, %v; want 0, EOF", k, err)
			}
			select {
			case err := <-h.closed:
				if err != nil {
					t.Errorf("OnClose(%v), want nil", err)
				}
			case <-time.After(5 * time.Second):
				t.Error("OnClose did not run within 5s")
			}
		})
	}
}
