package evloop

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Actions returned from every callback that returns one: Close closes the
// connection concerned (after flushing what it has pending) and nothing
// else, and means nothing from OnClose (the connection is closing) or
// OnTick (no connection); Shutdown stops the engine as Engine.Stop does.
// Shutdown from OnBoot is TestBootShutdown's (engine_test.go).

// acHandler echoes; connections opened once armed is set are victims, for
// which the callback named by on returns act. A victim's "flood" message
// is answered with 1 MiB, so that OnWritable comes once it is read.
type acHandler struct {
	BaseHandler
	on    string
	act   Action
	armed atomic.Bool
	ticks atomic.Int64

	opened       chan Conn  // victims
	victimClosed chan error // their OnClose errors

	mu               sync.Mutex
	opens            int
	closes           map[Conn]int
	closesAtShutdown int
	shutdowns        int
}

const acMark = "victim"

func (h *acHandler) victim(c Conn) bool { return c.Context() == acMark }

func (h *acHandler) OnOpen(c Conn) ([]byte, Action) {
	h.mu.Lock()
	h.opens++
	h.mu.Unlock()
	if !h.armed.Load() {
		return nil, None
	}
	c.SetContext(acMark)
	h.opened <- c
	if h.on == "OnOpen" {
		return nil, h.act
	}
	return nil, None
}

func (h *acHandler) OnTraffic(c Conn) Action {
	b, _ := c.Next(-1)
	if h.victim(c) {
		switch {
		case string(b) == "act" && h.on == "OnTraffic":
			return h.act
		case string(b) == "flood":
			b = itPattern(0, 1<<20)
		}
	}
	if _, err := c.Write(b); err != nil {
		return Close
	}
	return None
}

func (h *acHandler) OnClose(c Conn, err error) Action {
	h.mu.Lock()
	h.closes[c]++
	h.mu.Unlock()
	if !h.victim(c) {
		return None
	}
	h.victimClosed <- err
	if h.on == "OnClose" {
		return h.act
	}
	return None
}

func (h *acHandler) OnWritable(c Conn) Action {
	if h.victim(c) && h.on == "OnWritable" {
		return h.act
	}
	return None
}

func (h *acHandler) OnReadClosed(c Conn) Action {
	if h.victim(c) && h.on == "OnReadClosed" {
		return h.act
	}
	return Close
}

func (h *acHandler) OnTick() (time.Duration, Action) {
	h.ticks.Add(1)
	if h.on == "OnTick" && h.armed.Load() {
		return 5 * time.Millisecond, h.act
	}
	return 5 * time.Millisecond, None
}

func (h *acHandler) OnShutdown(Engine) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, n := range h.closes {
		h.closesAtShutdown += n
	}
	h.shutdowns++
}

// closedOnce reports connections closed other than once, and how many
// opened.
func (h *acHandler) closedOnce() (opens int, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	closed := 0
	for _, n := range h.closes {
		closed++
		if n != 1 {
			err = errors.Join(err, fmt.Errorf("a connection's OnClose ran %d times", n))
		}
	}
	if closed != h.opens {
		err = errors.Join(err, fmt.Errorf("%d connections opened, %d closed", h.opens, closed))
	}
	return h.opens, err
}

// acTrigger makes the victim's callback run; it returns what the victim's
// client read afterwards when it reads (the flood), else -1.
type acTrigger func(t *testing.T, nc net.Conn) int

func acSend(msg string) acTrigger {
	return func(t *testing.T, nc net.Conn) int {
		if _, err := io.WriteString(nc, msg); err != nil {
			t.Fatal(err)
		}
		return -1
	}
}

// acFlood has the victim's output pass the high watermark and reads it
// all, until the server closes.
func acFlood(t *testing.T, nc net.Conn) int {
	fcSmallBuffers(t, nc)
	if _, err := io.WriteString(nc, "flood"); err != nil {
		t.Fatal(err)
	}
	if err := nc.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	got, err := itReadPattern(nc, 1<<20)
	if err != nil {
		t.Errorf("victim's client read %d of %d bytes: %v", got, 1<<20, err)
	}
	return got
}

func TestActions(t *testing.T) {
	callbacks := []struct {
		on      string
		opts    []Option
		trigger acTrigger // nil: nothing to do (OnOpen, OnTick)
	}{
		{on: "OnOpen"},
		{on: "OnTraffic", trigger: acSend("act")},
		{on: "OnClose", trigger: func(t *testing.T, nc net.Conn) int { nc.Close(); return -1 }},
		{on: "OnWritable", trigger: acFlood,
			opts: []Option{WithOutboundWatermarks(64<<10, 16<<10), WithSocketSendBuffer(64 << 10)}},
		{on: "OnReadClosed", opts: []Option{WithHalfClose(true)},
			trigger: func(t *testing.T, nc net.Conn) int {
				if err := itCloseWrite(nc); err != nil {
					t.Fatal(err)
				}
				return -1
			}},
		{on: "OnTick", opts: []Option{WithTicker(true)}},
	}
	for _, cb := range callbacks {
		for _, act := range []Action{Close, Shutdown} {
			name := map[Action]string{Close: "Close", Shutdown: "Shutdown"}[act]
			t.Run(cb.on+" returns "+name, func(t *testing.T) {
				h := &acHandler{on: cb.on, act: act, opened: make(chan Conn, 1), victimClosed: make(chan error, 1), closes: make(map[Conn]int)}
				opts := append([]Option{WithLoops(1)}, cb.opts...)
				s := startEngine(t, h, "tcp://127.0.0.1:0", opts...)
				bystander := s.dial(t)
				if err := itPing(bystander, "before"); err != nil {
					t.Fatal(err)
				}
				h.armed.Store(true)
				var victim net.Conn
				read := -1
				if cb.on == "OnTick" {
					// Ticks go on after it returned the action.
					ticks := h.ticks.Load()
					if act == Close && !itEventually(5*time.Second, func() bool { return h.ticks.Load() >= ticks+3 }) {
						t.Fatalf("OnTick stopped ticking after returning %s", name)
					}
				} else {
					victim = s.dial(t)
					tbRecv(t, h.opened, 5*time.Second, "the victim's OnOpen")
					h.armed.Store(false) // later connections are bystanders
					if cb.trigger != nil {
						read = cb.trigger(t, victim)
					}
				}

				if act == Shutdown {
					if err := itAwaitRun(t, s, 10*time.Second); err != nil {
						t.Errorf("Run = %v after %s returned Shutdown, want nil", err, cb.on)
					}
					opens, err := h.closedOnce()
					if err != nil {
						t.Error(err)
					}
					if h.shutdowns != 1 || h.closesAtShutdown != opens {
						t.Errorf("OnShutdown ran %d times, after %d OnClose calls; want once, after all %d", h.shutdowns, h.closesAtShutdown, opens)
					}
					itExpectClosedByServer(t, bystander)
					return
				}

				if cb.on != "OnTick" {
					if err := tbRecv(t, h.victimClosed, 5*time.Second, "the victim's OnClose"); err != nil {
						t.Errorf("the victim's OnClose(%v), want nil: its close was asked for", err)
					}
					if cb.on == "OnWritable" && read != 1<<20 {
						t.Errorf("the victim's client read %d bytes, want all %d before the close", read, 1<<20)
					}
					if cb.on != "OnClose" {
						itExpectClosedByServer(t, victim)
					}
				}
				// The bystander shares the loop: once it echoes, whatever
				// the action led to has happened.
				if err := itPing(bystander, "after"); err != nil {
					t.Errorf("the other connection after %s returned Close: %v", cb.on, err)
				}
				select {
				case err := <-h.victimClosed:
					t.Errorf("the victim's OnClose ran again (%v)", err)
				default:
				}
				if n := s.eng.CountConnections(); n != 1 {
					t.Errorf("CountConnections() = %d, want 1: only the victim's connection closes", n)
				}
				if err := itPing(s.dial(t), "new"); err != nil {
					t.Errorf("a new connection after %s returned Close: %v", cb.on, err)
				}
			})
		}
	}
}
