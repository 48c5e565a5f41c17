package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"testing"
	"time"
)

// TestIdleTimeout: with -idle-timeout, a connection that says nothing is
// closed after about the timeout, while one that echoes every third of it
// stays open, in both modes.
func TestIdleTimeout(t *testing.T) {
	const idle = 300 * time.Millisecond
	for _, blocking := range []bool{false, true} {
		t.Run(fmt.Sprintf("blocking=%v", blocking), func(t *testing.T) {
			s := startServer(t, config{addr: "tcp://127.0.0.1:0", loops: 2, blocking: blocking, idleTimeout: idle})
			start := time.Now() // the server's idle clock starts after this
			quiet, busy := s.Dial(t), s.Dial(t)
			type result struct {
				after time.Duration
				err   error
			}
			closed := make(chan result, 1)
			go func() {
				if err := quiet.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
					closed <- result{err: err}
					return
				}
				n, err := quiet.Read(make([]byte, 1))
				if n > 0 {
					err = errors.New("read a byte nobody sent")
				}
				closed <- result{after: time.Since(start), err: err}
			}()
			for i := range 12 { // 4 idle timeouts in all
				time.Sleep(idle / 3)
				if err := echoOnce(busy, []byte(fmt.Sprintf("still here %d", i))); err != nil {
					t.Fatalf("busy connection, round trip %d: %v", i, err)
				}
			}
			r := <-closed
			if r.err == nil || errors.Is(r.err, os.ErrDeadlineExceeded) {
				t.Fatalf("quiet connection: read error %v, want the connection closed", r.err)
			}
			var ne net.Error
			if errors.As(r.err, &ne) && ne.Timeout() {
				t.Fatalf("quiet connection still open: %v", r.err)
			}
			t.Logf("quiet connection closed after %v (idle timeout %v): %v", r.after.Round(time.Millisecond), idle, r.err)
			if r.after < idle || r.after > idle+time.Second {
				t.Fatalf("quiet connection closed after %v, want between %v and %v", r.after, idle, idle+time.Second)
			}
			if err := echoOnce(busy, []byte("last")); err != nil {
				t.Fatalf("busy connection after the quiet one closed: %v", err)
			}
		})
	}
}
