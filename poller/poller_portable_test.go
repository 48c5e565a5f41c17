//go:build evloop_portable || !(linux || darwin || dragonfly || freebsd || netbsd || openbsd)

// Tests of the portable backend's own behaviour; the contract tests (the
// files without a backend in their name) run against it too.

package poller

import (
	"testing"
	"time"

	"github.com/evloop/evloop/internal/netfd"
)

// eventually waits until a Wait reports want for fd.
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

// TestPortableCloseEndsRegistration: closing a watched descriptor without
// Del ends its registration, as closing an fd does in epoll, so its number
// can be registered again when it is reused, and the old object's
// readiness is never reported under it.
func TestPortableCloseEndsRegistration(t *testing.T) {
	p := openPoller(t)
	a, _ := socketpair(t)
	mustAdd(t, p, a, 1, Readable)
	closeFD(t, a)
	c, d := socketpair(t)
	if c != a && d != a {
		t.Skipf("fd %d not reused (got %d, %d)", a, c, d)
	}
	other := c
	if other == a {
		other = d
	}
	mustAdd(t, p, a, 2, Readable)
	mustWrite(t, other, []byte("for the new connection"))
	if ev := eventually(t, p, a, EventRead); ev.Gen != 2 {
		t.Fatalf("gen = %d, want 2", ev.Gen)
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
