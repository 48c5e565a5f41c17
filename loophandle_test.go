package evloop

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// TestLoopHandle: Conn.Loop names the loop that runs the connection's
// callbacks, equal to the Engine.Loops entry with its index; handles
// compare equal exactly when they name the same loop; CountConnections
// counts that loop's connections.
func TestLoopHandle(t *testing.T) {
	type seen struct {
		loop Loop
		goid uint64
	}
	opened := make(chan seen, 8)
	h := &tbHandler{open: func(c Conn) ([]byte, Action) {
		opened <- seen{c.Loop(), tbGoroutineID()}
		return nil, None
	}}
	s := itServe(t, h, []string{"tcp://127.0.0.1:0"}, WithLoops(2))
	loops := s.eng.Loops()
	if len(loops) != 2 || loops[0].Index() != 0 || loops[1].Index() != 1 || loops[0] == loops[1] {
		t.Fatalf("Loops() = %v, want two distinct loops indexed 0 and 1", loops)
	}
	byLoop := map[Loop]uint64{}
	for i := 0; i < 4; i++ { // round-robin: two per loop
		s.dial(t)
		o := tbRecv(t, opened, 5*time.Second, "OnOpen")
		if o.loop != loops[o.loop.Index()] {
			t.Errorf("Conn.Loop() = %v, not the Engine.Loops() entry at its index", o.loop)
		}
		if g, ok := byLoop[o.loop]; ok && g != o.goid {
			t.Errorf("%v ran OnOpen on goroutines %d and %d", o.loop, g, o.goid)
		}
		byLoop[o.loop] = o.goid
	}
	if len(byLoop) != 2 || byLoop[loops[0]] == byLoop[loops[1]] {
		t.Errorf("connections spread over %d loops, want 2 on distinct goroutines", len(byLoop))
	}
	if !itEventually(5*time.Second, func() bool {
		return loops[0].CountConnections() == 2 && loops[1].CountConnections() == 2
	}) {
		t.Errorf("CountConnections per loop = %d, %d, want 2, 2", loops[0].CountConnections(), loops[1].CountConnections())
	}
	if fmt.Sprint(loops[1]) != "loop 1" {
		t.Errorf("String() = %q", loops[1])
	}
}

// chatHandler broadcasts every message to every other connection: with
// Write when the peer is on the same loop (allowed inside a callback of
// that loop), with AsyncWrite otherwise.
type chatHandler struct {
	BaseHandler
	mu    sync.Mutex
	peers map[Conn]bool
	join  chan Conn
	local chan bool // whether each broadcast write went through Write
}

func (h *chatHandler) OnOpen(c Conn) ([]byte, Action) {
	h.join <- c
	return nil, None
}

func (h *chatHandler) OnTraffic(c Conn) Action {
	msg, _ := c.Next(-1)
	h.mu.Lock()
	defer h.mu.Unlock()
	for p := range h.peers {
		if p == c {
			continue
		}
		if p.Loop() == c.Loop() {
			if _, err := p.Write(msg); err != nil {
				return Close
			}
			h.local <- true
		} else {
			if err := p.AsyncWrite(msg, nil); err != nil {
				return Close
			}
			h.local <- false
		}
	}
	return None
}

// TestSameLoopWriteToAnotherConn: inside a callback, the loop-only methods
// may be called on another connection of the same loop (a chat broadcast
// without a copy); the bytes arrive in order on every other client.
func TestSameLoopWriteToAnotherConn(t *testing.T) {
	for _, loops := range []int{1, 2} {
		t.Run(fmt.Sprintf("loops=%d", loops), func(t *testing.T) {
			h := &chatHandler{peers: map[Conn]bool{}, join: make(chan Conn, 3), local: make(chan bool, 64)}
			s := itServe(t, h, []string{"tcp://127.0.0.1:0"}, WithLoops(loops))
			var ncs []net.Conn
			for i := 0; i < 3; i++ {
				ncs = append(ncs, s.dial(t))
				c := tbRecv(t, h.join, 5*time.Second, "join")
				h.mu.Lock()
				h.peers[c] = true
				h.mu.Unlock()
			}
			msgs := [][]byte{[]byte("hello "), []byte("from "), []byte("zero")}
			for _, m := range msgs {
				if _, err := ncs[0].Write(m); err != nil {
					t.Fatal(err)
				}
				for i := 0; i < 2; i++ {
					local := tbRecv(t, h.local, 5*time.Second, "a broadcast write")
					if loops == 1 && !local {
						t.Error("one loop: a broadcast went through AsyncWrite, want Write")
					}
				}
			}
			want := bytes.Join(msgs, nil)
			for _, nc := range ncs[1:] {
				got := make([]byte, len(want))
				if err := nc.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
					t.Fatal(err)
				}
				if _, err := io.ReadFull(nc, got); err != nil || !bytes.Equal(got, want) {
					t.Errorf("client got %q (%v), want %q", got, err, want)
				}
			}
		})
	}
}
