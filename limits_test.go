package evloop

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/evloop/evloop/poller"
)

// Limits that protect the process: a frame larger than the inbound limit,
// a pool that is full, producers that outrun a slow reader.

// TestInboundFull: a handler that waits for a frame larger than
// WithInboundLimit consumes nothing; once the limit is reached no progress
// is possible, and the connection is closed with ErrInboundFull (counted in
// Stats) instead of stalling silently. Another connection keeps working.
// Before the fix the connection sat paused forever with no callback.
func TestInboundFull(t *testing.T) {
	const limit = 64 << 10
	closes := make(chan error, 1)
	h := &tbHandler{
		traffic: func(c Conn) Action {
			if b, _ := c.Peek(-1); bytes.HasPrefix(b, []byte("echo")) {
				c.Discard(len(b))
				c.Write(b)
			}
			return None // waits for a frame that never fits
		},
		close: func(_ Conn, err error) Action {
			if err != nil {
				closes <- err
			}
			return None
		},
	}
	s := itServe(t, h, []string{"tcp://127.0.0.1:0"}, WithLoops(1), WithInboundLimit(limit))
	other := s.dial(t)
	nc := s.dial(t)
	// Bounded: the server closes the connection after about limit bytes.
	go func() { _, _ = nc.Write(make([]byte, 4*limit)) }()
	if err := tbRecv(t, closes, 10*time.Second, "OnClose"); !errors.Is(err, ErrInboundFull) {
		t.Fatalf("OnClose(%v), want ErrInboundFull", err)
	}
	if n := s.eng.Stats().InboundFull; n != 1 {
		t.Errorf("Stats().InboundFull = %d, want 1", n)
	}
	if err := tbEcho(other, []byte("echo!"), 5*time.Second); err != nil {
		t.Errorf("the other connection: %v", err)
	}
}

// TestExecutePause: with WithExecutePause, Execute on a full pool queues
// the job instead of failing, and the connection stops reading until a
// pool goroutine takes its jobs; then they run in order and reading
// resumes. Without the option the same Execute fails with ErrPoolOverload.
func TestExecutePause(t *testing.T) {
	for _, pause := range []bool{false, true} {
		t.Run("pause="+strconv.FormatBool(pause), func(t *testing.T) {
			gate := make(chan struct{})
			execErr := make(chan error, 16)
			blocking := make(chan struct{})
			conns := make(chan Conn, 2)
			h := &tbHandler{traffic: func(c Conn) Action {
				select {
				case conns <- c:
				default:
				}
				b, _ := c.Next(-1)
				for _, req := range strings.Fields(string(b)) {
					var job func()
					if req == "block" {
						job = func() { close(blocking); <-gate }
					} else {
						job = func() { _ = c.AsyncWrite([]byte(req+";"), nil) }
					}
					execErr <- c.Execute(job)
				}
				return None
			}}
			s := itServe(t, h, []string{"tcp://127.0.0.1:0"}, WithLoops(1), WithPoolSize(1), WithExecutePause(pause))
			blocker := s.dial(t)
			if _, err := blocker.Write([]byte("block ")); err != nil {
				t.Fatal(err)
			}
			if err := tbRecv(t, execErr, 5*time.Second, "Execute(block)"); err != nil {
				t.Fatal(err)
			}
			tbRecv(t, blocking, 5*time.Second, "the blocking job to hold the only pool goroutine")
			nc := s.dial(t)
			if _, err := nc.Write([]byte("r1 ")); err != nil {
				t.Fatal(err)
			}
			err := tbRecv(t, execErr, 5*time.Second, "Execute(r1)")
			if !pause {
				close(gate)
				if !errors.Is(err, ErrPoolOverload) {
					t.Errorf("Execute on a full pool = %v, want ErrPoolOverload", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Execute on a full pool with WithExecutePause = %v, want nil", err)
			}
			// The connection is paused: what the client sends now is not
			// read (no OnTraffic, no Execute) until the pool has room.
			if _, err := nc.Write([]byte("r2 ")); err != nil {
				t.Fatal(err)
			}
			<-conns // the blocker's
			if reading, err := tbConnReading(<-conns); err != nil || reading {
				t.Errorf("connection reading = %v (%v) while its job waits for the pool, want paused", reading, err)
			}
			select {
			case err := <-execErr:
				t.Errorf("OnTraffic ran (Execute = %v) while the connection was paused", err)
			default:
			}
			close(gate)
			if err := tbRecv(t, execErr, 5*time.Second, "Execute(r2) after the pool freed"); err != nil {
				t.Errorf("Execute(r2) = %v", err)
			}
			got := make([]byte, len("r1;r2;"))
			if err := nc.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
				t.Fatal(err)
			}
			if _, err := io.ReadFull(nc, got); err != nil || string(got) != "r1;r2;" {
				t.Errorf("client got %q (%v), want r1;r2;", got, err)
			}
		})
	}
}

// tbConnReading asks c's loop whether c watches for input: an empty
// AsyncWrite's callback runs there.
func tbConnReading(c Conn) (bool, error) {
	reading := make(chan bool, 1)
	err := c.AsyncWrite(nil, func(c Conn, err error) {
		reading <- c.(*conn).interest&poller.Readable != 0
	})
	if err != nil {
		return false, err
	}
	select {
	case r := <-reading:
		return r, nil
	case <-time.After(5 * time.Second):
		return false, errors.New("the loop did not answer within 5s")
	}
}
