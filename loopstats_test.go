package evloop

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// tbStatsEventually polls the engine's statistics until ok accepts them
// (they are published at most about a millisecond late) or 5 s pass.
func tbStatsEventually(tb testing.TB, eng Engine, what string, ok func(Stats) bool) Stats {
	tb.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		st := eng.Stats()
		if ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			b, _ := json.MarshalIndent(st, "", " ")
			tb.Fatalf("statistics never showed %s:\n%s", what, b)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// statsHandler echoes, answers "big" with a reply far larger than the
// socket buffers, and panics on "panic".
type statsHandler struct {
	BaseHandler
	big []byte
}

func (h *statsHandler) OnTraffic(c Conn) Action {
	b, _ := c.Next(-1)
	switch string(b) {
	case "big":
		_, _ = c.Write(h.big)
	case "panic":
		panic("statistics test")
	default:
		_, _ = c.Write(b)
	}
	return None
}

// TestLoopStats drives known traffic through one loop and checks every
// counter of its LoopStats.
func TestLoopStats(t *testing.T) {
	h := &statsHandler{big: bytes.Repeat([]byte{'b'}, 8<<20)}
	s := startEngine(t, h, "tcp://127.0.0.1:0", WithLoops(1), WithCallbackTiming(true), WithLogger(tbQuietLogger()))
	const conns, size = 5, 10000
	var cs []net.Conn
	for i := range conns {
		c := s.dial(t)
		cs = append(cs, c)
		if err := tbEcho(c, tbPattern(i, size), 10*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	st := tbStatsEventually(t, s.eng, "the echoed bytes", func(st Stats) bool {
		l := st.Loops[0]
		return l.BytesIn == conns*size && l.BytesOut == conns*size && l.Opened == conns
	})
	l := st.Loops[0]
	if len(st.Loops) != 1 || l.Index != 0 || l.Connections != conns || l.Reads < conns || l.Writes < conns ||
		l.Iterations == 0 || l.PendingOut != 0 || l.NotReading != 0 {
		t.Fatalf("after %d echoes of %d bytes: %+v", conns, size, l)
	}
	var busy, callbacks uint64
	for i := range l.Busy {
		busy += l.Busy[i]
		callbacks += l.Callbacks[i]
	}
	if busy != l.Iterations || callbacks == 0 || l.MaxCallback <= 0 || l.MaxBusy <= 0 {
		t.Fatalf("histograms: busy %d over %d iterations, %d callbacks, max callback %v, max busy %v",
			busy, l.Iterations, callbacks, l.MaxCallback, l.MaxBusy)
	}

	// A reply the client does not read: the write is partial, the rest
	// waits in the outbound buffer, and above the high watermark the
	// connection stops reading.
	slow := cs[0]
	if _, err := io.WriteString(slow, "big"); err != nil {
		t.Fatal(err)
	}
	st = tbStatsEventually(t, s.eng, "the blocked reply", func(st Stats) bool {
		l := st.Loops[0]
		return l.WritesBlocked > 0 && l.PendingOut > DefaultOutboundHigh && l.NotReading == 1
	})
	if _, err := io.CopyN(io.Discard, slow, int64(len(h.big))); err != nil {
		t.Fatal(err)
	}
	tbStatsEventually(t, s.eng, "the drained reply", func(st Stats) bool {
		l := st.Loops[0]
		return l.PendingOut == 0 && l.NotReading == 0 && l.BytesOut == conns*size+uint64(len(h.big))
	})

	// Tasks and wakes: timers armed from this goroutine are tasks.
	tm := s.eng.Loops()[0].AfterFunc(time.Hour, func() {})
	defer tm.Stop()
	before := s.eng.Stats().Loops[0]
	s.eng.Loops()[0].AfterFunc(0, func() {}) // arming it is a task for the loop
	tbStatsEventually(t, s.eng, "the armed timer and a task", func(st Stats) bool {
		l := st.Loops[0]
		return l.Timers >= 1 && l.TasksRun > before.TasksRun && l.Wakes > before.Wakes
	})

	// A panic is counted by the loop and the engine.
	if _, err := io.WriteString(cs[1], "panic"); err != nil {
		t.Fatal(err)
	}
	st = tbStatsEventually(t, s.eng, "the panic", func(st Stats) bool {
		return st.Loops[0].Panics == 1 && st.Panics == 1 && st.Loops[0].Connections == conns-1
	})

	// The statistics marshal to JSON.
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"Loops":[{"index":0`, `"bytes_in":`, `"busy":[`, `"stalls":0`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("JSON lacks %s: %s", key, b)
		}
	}
}

// TestLoopStatsWithoutTiming: without WithCallbackTiming no callback is
// timed.
func TestLoopStatsWithoutTiming(t *testing.T) {
	s := startEngine(t, echoHandler{}, "tcp://127.0.0.1:0", WithLoops(1))
	if err := tbEcho(s.dial(t), []byte("x"), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	l := tbStatsEventually(t, s.eng, "the echo", func(st Stats) bool { return st.Loops[0].BytesOut == 1 }).Loops[0]
	if l.MaxCallback != 0 || fmt.Sprint(l.Callbacks) != fmt.Sprint([len(BusyBounds) + 1]uint64{}) {
		t.Fatalf("callbacks timed without WithCallbackTiming: %v, max %v", l.Callbacks, l.MaxCallback)
	}
}
