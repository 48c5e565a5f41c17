package evloop

import (
	"errors"
	"os"
	"testing"
	"time"
)

// The basics of time on the loop, end to end: a timer runs once after its
// delay and Stop prevents it; deadlines and the idle timeout close with
// their errors; a connection's timer dies with it. Windows are generous:
// after at least d, within d + 1 s.

func TestTimeBasicsAfterFunc(t *testing.T) {
	s := itServe(t, &tbHandler{}, []string{"tcp://127.0.0.1:0"}, WithLoops(2))
	ran := make(chan time.Duration, 2)
	start := time.Now()
	s.eng.AfterFunc(50*time.Millisecond, func() { ran <- time.Since(start) })
	stopped := s.eng.Loops()[1].AfterFunc(20*time.Millisecond, func() { ran <- -1 })
	if !stopped.Stop() {
		t.Error("Stop of an armed timer = false, want true")
	}
	if stopped.Stop() {
		t.Error("second Stop = true, want false")
	}
	if d := tbRecv(t, ran, 2*time.Second, "the timer"); d < 50*time.Millisecond {
		t.Errorf("ran after %v (or a stopped timer ran), want >= 50ms", d)
	}
	select {
	case d := <-ran:
		t.Errorf("a second run (%v)", d)
	case <-time.After(100 * time.Millisecond):
	}
}

func TestTimeBasicsDeadlinesAndIdle(t *testing.T) {
	tests := []struct {
		name string
		open func(c Conn)
		opts []Option
		want error
	}{
		{name: "read deadline", open: func(c Conn) { _ = c.SetReadDeadline(time.Now().Add(100 * time.Millisecond)) }, want: ErrReadTimeout},
		{name: "idle option", opts: []Option{WithIdleTimeout(100 * time.Millisecond)}, want: ErrIdleTimeout},
		{name: "idle per conn", open: func(c Conn) { _ = c.SetIdleTimeout(100 * time.Millisecond) }, want: ErrIdleTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			closes := make(chan error, 1)
			h := &tbHandler{
				open: func(c Conn) ([]byte, Action) {
					if tt.open != nil {
						tt.open(c)
					}
					return nil, None
				},
				close: func(_ Conn, err error) Action { closes <- err; return None },
			}
			s := itServe(t, h, []string{"tcp://127.0.0.1:0"}, append(tt.opts, WithLoops(1))...)
			start := time.Now()
			s.dial(t)
			err := tbRecv(t, closes, 2*time.Second, "OnClose")
			if took := time.Since(start); !errors.Is(err, tt.want) || took < 100*time.Millisecond {
				t.Errorf("OnClose(%v) after %v, want %v after >= 100ms", err, took, tt.want)
			}
			if deadline := errors.Is(err, os.ErrDeadlineExceeded); deadline != (tt.want != ErrIdleTimeout) {
				t.Errorf("errors.Is(%v, os.ErrDeadlineExceeded) = %v", err, deadline)
			}
		})
	}
}

// TestTimeBasicsActivityKeepsOpen: a connection that sends every 50 ms
// outlives a 150 ms idle timeout and a read deadline moved on each message.
func TestTimeBasicsActivityKeepsOpen(t *testing.T) {
	closes := make(chan error, 1)
	h := &tbHandler{
		open: func(c Conn) ([]byte, Action) {
			_ = c.SetReadDeadline(time.Now().Add(150 * time.Millisecond))
			return nil, None
		},
		traffic: func(c Conn) Action {
			_ = c.SetReadDeadline(time.Now().Add(150 * time.Millisecond))
			b, _ := c.Next(-1)
			_, _ = c.Write(b)
			return None
		},
		close: func(_ Conn, err error) Action { closes <- err; return None },
	}
	s := itServe(t, h, []string{"tcp://127.0.0.1:0"}, WithLoops(1), WithIdleTimeout(150*time.Millisecond))
	nc := s.dial(t)
	for i := 0; i < 12; i++ { // 600 ms: four idle periods
		if err := tbEcho(nc, []byte("x"), time.Second); err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	select {
	case err := <-closes:
		t.Fatalf("an active connection was closed: %v", err)
	default:
	}
	if err := tbRecv(t, closes, 2*time.Second, "OnClose once quiet"); !errors.Is(err, ErrIdleTimeout) && !errors.Is(err, ErrReadTimeout) {
		t.Errorf("OnClose(%v), want the idle or read timeout", err)
	}
}

// TestTimeBasicsConnTimerDiesWithConn: a connection's AfterFunc does not
// run after the connection closed, and Stop then reports false.
func TestTimeBasicsConnTimerDiesWithConn(t *testing.T) {
	timers := make(chan *Timer, 1)
	ran := make(chan struct{}, 1)
	h := &tbHandler{open: func(c Conn) ([]byte, Action) {
		timers <- c.AfterFunc(100*time.Millisecond, func(Conn) { ran <- struct{}{} })
		return nil, Close
	}}
	s := itServe(t, h, []string{"tcp://127.0.0.1:0"}, WithLoops(1))
	s.dial(t)
	tm := tbRecv(t, timers, 2*time.Second, "the timer")
	select {
	case <-ran:
		t.Fatal("the timer of a closed connection ran")
	case <-time.After(300 * time.Millisecond):
	}
	if tm.Stop() {
		t.Error("Stop of a timer cancelled by its connection's close = true, want false")
	}
}

// TestTimeBasicsIdleAfterQuietLoop: activity is stamped with the time the
// bytes arrived, even when the loop slept long before them. The client
// waits 300 ms on a quiet loop, sends one message, then stays silent: the
// 400 ms idle timeout counts from that message. With the clock read only
// after the events were handled, the message was stamped with the loop's
// previous wake-up and the connection closed about 100 ms after it.
func TestTimeBasicsIdleAfterQuietLoop(t *testing.T) {
	closes := make(chan time.Time, 1)
	h := &tbHandler{
		traffic: echoHandler{}.OnTraffic,
		close:   func(Conn, error) Action { closes <- time.Now(); return None },
	}
	s := itServe(t, h, []string{"tcp://127.0.0.1:0"}, WithLoops(1), WithIdleTimeout(400*time.Millisecond))
	nc := s.dial(t)
	time.Sleep(300 * time.Millisecond) // the loop sleeps in epoll_wait meanwhile
	sent := time.Now()
	if err := tbEcho(nc, []byte("x"), time.Second); err != nil {
		t.Fatal(err)
	}
	closed := tbRecv(t, closes, 3*time.Second, "OnClose")
	if idle := closed.Sub(sent); idle < 400*time.Millisecond {
		t.Errorf("closed %v after the last message, want >= the 400ms idle timeout", idle)
	}
}
