package evloop

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"
)

// Stop's promises about pool jobs and pending output: a job may stop the
// engine without waiting for itself, the drain does not end while work one
// job hands to the next is in flight, and output the drain could not flush
// is reset, never cut behind a clean FIN.

// TestStopFromJob calls Stop with context.Background() from a Submit job
// and from an Execute job. Stop must return at once (it cannot wait for the
// drain, which waits for the very job calling it) and Run must return nil
// once the job ends. Before the fix the drain waited for the calling job
// forever: Run never returned.
func TestStopFromJob(t *testing.T) {
	for _, mode := range []string{"Submit", "Execute", "Engine.Submit"} {
		t.Run(mode, func(t *testing.T) {
			stopped := make(chan error, 1)
			var eng Engine
			h := &tbHandler{
				boot: func(e Engine) Action { eng = e; return None },
				traffic: func(c Conn) Action {
					c.Discard(-1)
					job := func() { stopped <- eng.Stop(context.Background()) }
					var err error
					switch mode {
					case "Submit":
						err = c.Submit(job)
					case "Execute":
						err = c.Execute(job)
					default:
						err = eng.Submit(job)
					}
					if err != nil {
						stopped <- err
					}
					return None
				},
			}
			s := itServe(t, h, []string{"tcp://127.0.0.1:0"}, WithLoops(1))
			nc := s.dial(t)
			if _, err := nc.Write([]byte("stop")); err != nil {
				t.Fatal(err)
			}
			if err := tbRecv(t, stopped, 5*time.Second, "Stop called from the job to return"); err != nil {
				t.Errorf("Stop from a %s job = %v, want nil", mode, err)
			}
			if err := itAwaitRun(t, s, 10*time.Second); err != nil {
				t.Errorf("Run = %v, want nil", err)
			}
		})
	}
}

// TestStopDrainFollowsJobChain is the relay pattern: job A ends with
// AsyncWrite, whose callback submits job B, which writes the rest and
// closes. Job A also wakes a second connection whose OnTraffic holds the
// loop until the drain has seen no job running and queued its probe behind
// A's write; then the write runs, its callback submits B, and the probe
// answers "quiet". The drain must notice B anyway: the client gets every
// byte and a clean EOF. Before the fix Stop closed the connection under B:
// the client read only the first part, then a clean EOF.
func TestStopDrainFollowsJobChain(t *testing.T) {
	first := bytes.Repeat([]byte("a"), 1000)
	rest := bytes.Repeat([]byte("b"), 1000)
	gate := make(chan struct{})
	aDone := make(chan struct{})
	conns := make(chan Conn, 2)
	var holder atomic.Value // Conn
	h := &tbHandler{
		open: func(c Conn) ([]byte, Action) { conns <- c; return nil, None },
		traffic: func(c Conn) Action {
			if hc, _ := holder.Load().(Conn); hc == c {
				<-gate // holds the loop until the test opens the gate
				return None
			}
			c.Discard(-1)
			_ = c.Submit(func() { // job A
				_ = holder.Load().(Conn).Wake(nil)
				_ = c.AsyncWrite(first, func(c Conn, err error) {
					if err != nil {
						return
					}
					_ = c.Submit(func() { // job B
						time.Sleep(20 * time.Millisecond) // real work takes time
						_ = c.AsyncWrite(rest, nil)
						_ = c.Close()
					})
				})
				close(aDone)
			})
			return None
		},
	}
	s := itServe(t, h, []string{"tcp://127.0.0.1:0"}, WithLoops(1))
	client := s.dial(t)
	tbRecv(t, conns, 5*time.Second, "the client's connection")
	s.dial(t)
	holder.Store(tbRecv(t, conns, 5*time.Second, "the holder's connection"))
	if _, err := client.Write([]byte("go")); err != nil {
		t.Fatal(err)
	}
	tbRecv(t, aDone, 5*time.Second, "job A")
	e, q := s.eng.e, s.eng.e.loops[0].q
	if !itEventually(5*time.Second, func() bool { return e.jobsRunning() == 0 }) {
		t.Fatal("job A still counted as running")
	}
	pushed := q.Pushed()
	stopErr := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		stopErr <- s.eng.Stop(ctx)
	}()
	// Stop queues "stop accepting", then the drain's first probe.
	if !itEventually(5*time.Second, func() bool { return q.Pushed() >= pushed+2 }) {
		t.Fatal("the drain did not probe the loop")
	}
	close(gate)
	want := append(append([]byte(nil), first...), rest...)
	if err := client.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(client)
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("client read %d bytes (%v), want %d: the stop cut the job chain", len(got), err, len(want))
	}
	if err := tbRecv(t, stopErr, 15*time.Second, "Stop"); err != nil {
		t.Errorf("Stop = %v", err)
	}
	if err := itAwaitRun(t, s, 10*time.Second); err != nil {
		t.Errorf("Run = %v", err)
	}
}

// TestStopTimeoutResets gives Stop 200 ms to drain a connection whose peer
// reads nothing and another that is lingering (closed with output pending).
// Neither can flush: both must reach their peer as a reset, never as a clean
// EOF after a cut stream, and OnClose must get ErrStopTimeout. Before the fix
// both were closed plainly and OnClose got nil.
func TestStopTimeoutResets(t *testing.T) {
	big := bytes.Repeat([]byte("x"), 8<<20)
	closes := make(chan error, 2)
	wrote := make(chan error, 2)
	h := &tbHandler{
		traffic: func(c Conn) Action {
			b, _ := c.Next(-1)
			_, err := c.Write(big)
			wrote <- err
			if string(b) == "linger" {
				return Close // pending output: the connection lingers
			}
			return None
		},
		close: func(_ Conn, err error) Action { closes <- err; return None },
	}
	s := itServe(t, h, []string{"tcp://127.0.0.1:0"}, WithLoops(1), WithSocketSendBuffer(64<<10),
		WithOutboundWatermarks(16<<20, 1<<20), WithOutboundLimit(32<<20))
	var ncs []net.Conn
	for _, msg := range []string{"stay", "linger"} {
		nc := s.dial(t)
		if err := nc.(*net.TCPConn).SetReadBuffer(64 << 10); err != nil {
			t.Fatal(err)
		}
		if _, err := nc.Write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
		ncs = append(ncs, nc)
	}
	for i := 0; i < 2; i++ {
		if err := tbRecv(t, wrote, 5*time.Second, "the server's write"); err != nil {
			t.Fatalf("Write = %v", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := s.eng.Stop(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Stop = %v, want context.DeadlineExceeded: output was still pending", err)
	}
	for i := 0; i < 2; i++ {
		if err := tbRecv(t, closes, 10*time.Second, "OnClose"); !errors.Is(err, ErrStopTimeout) {
			t.Errorf("OnClose(%v), want ErrStopTimeout", err)
		}
	}
	for i, nc := range ncs {
		if err := nc.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
			t.Fatal(err)
		}
		n, err := io.Copy(io.Discard, nc)
		if !itIsReset(err) {
			t.Errorf("client %d read %d bytes then %v, want a reset: the stream was cut", i, n, err)
		}
		if n >= int64(len(big)) {
			t.Errorf("client %d read all %d bytes: the premise (output still pending at the stop) did not hold", i, n)
		}
	}
	if err := itAwaitRun(t, s, 10*time.Second); err != nil {
		t.Errorf("Run = %v", err)
	}
}
