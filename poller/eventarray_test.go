//go:build (linux || darwin || dragonfly || freebsd || netbsd || openbsd) && !evloop_portable

package poller

import "testing"

// TestNativeEventArrayGrowsAndShrinks checks the sizing policy on the backend's
// own kernel event array (epoll events or kevents; setEventArray makes one).
func TestNativeEventArrayGrowsAndShrinks(t *testing.T) {
	p := openPoller(t)
	const pairs = 200 // 200 readable fds > minEvents, one kernel event each
	for i := 0; i < pairs; i++ {
		a, b := socketpair(t)
		mustAdd(t, p, a, uint32(i), Readable)
		mustWrite(t, b, []byte("x"))
	}
	c, _ := waitOnce(t, p, 100)
	if len(c.events) != minEvents {
		t.Fatalf("first Wait returned %d events, want a full array of %d", len(c.events), minEvents)
	}
	if len(p.events) != 2*minEvents {
		t.Fatalf("array is %d after a full Wait, want %d", len(p.events), 2*minEvents)
	}
	c, _ = waitOnce(t, p, 100)
	if len(c.events) != pairs {
		t.Fatalf("second Wait returned %d events, want all %d", len(c.events), pairs)
	}
	// Quiet waits: a long run of them gives the memory back.
	p2 := openPoller(t)
	setEventArray(p2, 4*minEvents)
	for i := 0; i < shrinkAfter; i++ {
		waitOnce(t, p2, 0)
	}
	if len(p2.events) != 2*minEvents {
		t.Fatalf("array is %d after %d idle waits, want %d", len(p2.events), shrinkAfter, 2*minEvents)
	}
	for i := 0; i < 4*shrinkAfter; i++ {
		waitOnce(t, p2, 0)
	}
	if len(p2.events) != minEvents {
		t.Fatalf("array is %d, want the floor %d", len(p2.events), minEvents)
	}
}
