//go:build evloop_portable || !(linux || darwin || dragonfly || freebsd || netbsd || openbsd)

package poller

import (
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/evloop/evloop/internal/netfd"
)

// waitFor polls until cond holds: the emulated descriptors learn about the
// peer's bytes from goroutines, a little after the write returns.
func eventually(tb testing.TB, p *Poller, fd int, want Events) Event {
	tb.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		c, _ := waitOnce(tb, p, 50)
		if ev, ok := c.find(fd); ok && ev.Events.Has(want) {
			return ev
		}
	}
	tb.Fatalf("no event %05b for fd %d", want, fd)
	return Event{}
}

func TestPortableInterestTable(t *testing.T) {
	tests := []struct {
		name       string
		setup      func(t *testing.T, p *Poller, a, b int)
		wantEvent  bool
		wantEvents Events
		notEvents  Events
	}{
		{name: "readable fd with data", wantEvent: true, wantEvents: EventRead, notEvents: EventWrite,
			setup: func(t *testing.T, p *Poller, a, b int) { mustAdd(t, p, a, 7, Readable); mustWrite(t, b, []byte("x")) }},
		{name: "readable fd without data is silent",
			setup: func(t *testing.T, p *Poller, a, b int) { mustAdd(t, p, a, 7, Readable) }},
		{name: "readable+writable reports writable at once", wantEvent: true, wantEvents: EventWrite, notEvents: EventRead,
			setup: func(t *testing.T, p *Poller, a, b int) { mustAdd(t, p, a, 7, Readable|Writable) }},
		{name: "stop writable silences an idle fd",
			setup: func(t *testing.T, p *Poller, a, b int) {
				mustAdd(t, p, a, 7, Readable|Writable)
				mustMod(t, p, a, 7, Readable)
			}},
		{name: "paused reading ignores data",
			setup: func(t *testing.T, p *Poller, a, b int) {
				mustAdd(t, p, a, 7, Readable)
				mustMod(t, p, a, 7, 0)
				mustWrite(t, b, []byte("x"))
			}},
		{name: "resumed reading reports data that arrived while paused", wantEvent: true, wantEvents: EventRead,
			setup: func(t *testing.T, p *Poller, a, b int) {
				mustAdd(t, p, a, 7, 0)
				mustWrite(t, b, []byte("x"))
				time.Sleep(50 * time.Millisecond)
				mustMod(t, p, a, 7, Readable)
			}},
		{name: "removed fd is silent",
			setup: func(t *testing.T, p *Poller, a, b int) {
				mustAdd(t, p, a, 7, Readable|Writable)
				if err := p.Del(a); err != nil {
					t.Fatal(err)
				}
				mustWrite(t, b, []byte("x"))
			}},
		{name: "peer shut down writing", wantEvent: true, wantEvents: EventRead | EventReadHangup, notEvents: EventHangup,
			setup: func(t *testing.T, p *Poller, a, b int) { mustAdd(t, p, a, 7, Readable); shutdownWrite(t, b) }},
		{name: "both shut down: hangup", wantEvent: true, wantEvents: EventRead | EventReadHangup | EventHangup,
			setup: func(t *testing.T, p *Poller, a, b int) {
				mustAdd(t, p, a, 7, Readable)
				shutdownWrite(t, a)
				shutdownWrite(t, b)
			}},
		{name: "hangup is reported even while paused", wantEvent: true, wantEvents: EventHangup, notEvents: EventRead,
			setup: func(t *testing.T, p *Poller, a, b int) {
				mustAdd(t, p, a, 7, 0)
				shutdownWrite(t, a)
				shutdownWrite(t, b)
			}},
		{name: "generation set by Mod is reported", wantEvent: true, wantEvents: EventWrite,
			setup: func(t *testing.T, p *Poller, a, b int) {
				mustAdd(t, p, a, 7, Readable)
				mustMod(t, p, a, 7, Readable|Writable)
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := openPoller(t)
			a, b := socketpair(t)
			tc.setup(t, p, a, b)
			var ev Event
			ok := false
			for deadline := time.Now().Add(300 * time.Millisecond); time.Now().Before(deadline); {
				c, woken := waitOnce(t, p, 50)
				if woken {
					t.Fatal("woken without a Wake")
				}
				if ev, ok = c.find(a); ok && ev.Events.Has(tc.wantEvents) {
					break
				}
			}
			if ok != tc.wantEvent {
				t.Fatalf("event for fd: got %v (%+v), want %v", ok, ev, tc.wantEvent)
			}
			if !ok {
				return
			}
			if ev.Gen != 7 {
				t.Errorf("gen = %d, want 7", ev.Gen)
			}
			if !ev.Events.Has(tc.wantEvents) {
				t.Errorf("events = %05b, want all of %05b", ev.Events, tc.wantEvents)
			}
			if ev.Events&tc.notEvents != 0 {
				t.Errorf("events = %05b, want none of %05b", ev.Events, tc.notEvents)
			}
		})
	}
}

// TestPortableLevelTriggered: a descriptor that stays ready is reported by
// every Wait until it is drained, then no more.
func TestPortableLevelTriggered(t *testing.T) {
	p := openPoller(t)
	a, b := socketpair(t)
	mustAdd(t, p, a, 3, Readable)
	mustWrite(t, b, []byte("xy"))
	eventually(t, p, a, EventRead)
	for i := 0; i < 3; i++ {
		c, _ := waitOnce(t, p, 0)
		if _, ok := c.find(a); !ok {
			t.Fatalf("wait %d: a readable fd was not reported again", i)
		}
	}
	buf := make([]byte, 8)
	if n, err := netfd.Read(a, buf); n != 2 || err != nil {
		t.Fatalf("read = %d, %v", n, err)
	}
	if c, _ := waitOnce(t, p, 20); len(c.events) != 0 {
		t.Fatalf("drained fd still reported: %+v", c.events)
	}
}

// TestPortableStaleGeneration: an fd closed without Del and reused under a
// new registration never reports the old object's readiness.
func TestPortableStaleGeneration(t *testing.T) {
	p := openPoller(t)
	a, peerA := socketpair(t)
	mustAdd(t, p, a, 1, Readable)
	if err := p.Del(a); err != nil {
		t.Fatal(err)
	}
	netfd.Close(a)
	c, d := socketpair(t)
	if c != a && d != a {
		t.Skipf("fd %d not reused (got %d, %d)", a, c, d)
	}
	reused := a
	mustAdd(t, p, reused, 2, Readable)
	_ = peerA
	other := c
	if other == reused {
		other = d
	}
	mustWrite(t, other, []byte("for the new connection"))
	ev := eventually(t, p, reused, EventRead)
	if ev.Gen != 2 {
		t.Fatalf("gen = %d, want 2", ev.Gen)
	}
}

func TestPortableCtlErrors(t *testing.T) {
	p := openPoller(t)
	a, _ := socketpair(t)
	mustAdd(t, p, a, 1, Readable)
	if err := p.Add(a, 1, Readable); !errors.Is(err, syscall.EEXIST) {
		t.Errorf("double Add: %v, want EEXIST", err)
	}
	if err := p.Mod(1000, 1, Readable); !errors.Is(err, syscall.ENOENT) {
		t.Errorf("Mod of an unwatched fd: %v, want ENOENT", err)
	}
	if err := p.Add(1000, 1, Readable); !errors.Is(err, syscall.EBADF) {
		t.Errorf("Add of a closed fd: %v, want EBADF", err)
	}
}

func TestPortableWaitTimeoutAndWake(t *testing.T) {
	p := openPoller(t)
	start := time.Now()
	if c, woken := waitOnce(t, p, 30); woken || len(c.events) != 0 {
		t.Fatalf("idle wait: woken=%v events=%+v", woken, c.events)
	}
	if d := time.Since(start); d < 25*time.Millisecond {
		t.Fatalf("wait returned after %v, want ~30ms", d)
	}
	go func() {
		time.Sleep(10 * time.Millisecond)
		_ = p.Wake()
	}()
	if _, woken := waitOnce(t, p, -1); !woken {
		t.Fatal("Wake did not end an unbounded wait")
	}
	for i := 0; i < 10; i++ {
		_ = p.Wake()
	}
	if _, woken := waitOnce(t, p, 0); !woken {
		t.Fatal("coalesced wakes lost")
	}
	if _, woken := waitOnce(t, p, 0); woken {
		t.Fatal("ten Wakes woke twice")
	}
}
