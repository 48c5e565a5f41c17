//go:build linux && !evloop_portable

package poller

import (
	"testing"

	"golang.org/x/sys/unix"
)

// TestEpollStaleGenerationAfterClose reproduces fd reuse across Waits, which
// only epoll allows: its registration belongs to the open file, so it
// survives a close while a duplicate of the file is open, the fd number is
// reused by a new socket registered with a new generation, and an event for
// the old file arrives carrying the old generation. (kqueue drops an fd's
// knotes on close, duplicates or not; the reuse it does allow, within one
// batch, is TestStaleGenerationWithinBatch.)
func TestEpollStaleGenerationAfterClose(t *testing.T) {
	p := openPoller(t)
	a, peerA := socketpair(t)
	mustAdd(t, p, a, 1, Readable)
	dupA, err := unix.Dup(a)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(dupA)
	reused := a
	closeFD(t, a)
	fresh, freshPeer := socketpair(t)
	if fresh != reused {
		t.Skipf("kernel did not reuse fd %d (got %d)", reused, fresh)
	}
	mustAdd(t, p, fresh, 2, Readable)

	mustWrite(t, peerA, []byte("for the old connection"))
	c, _ := waitOnce(t, p, 100)
	current := map[int]uint32{reused: 2}
	var stale, cur int
	for _, ev := range c.events {
		if ev.FD != reused {
			continue
		}
		if ev.Gen != current[ev.FD] {
			stale++
		} else {
			cur++
		}
	}
	if stale != 1 || cur != 0 {
		t.Fatalf("events %+v: want exactly one stale (gen 1) and no current one", c.events)
	}

	mustWrite(t, freshPeer, []byte("for the new connection"))
	c, _ = waitOnce(t, p, 100)
	cur = 0
	for _, ev := range c.events {
		if ev.FD == reused && ev.Gen == 2 {
			cur++
		}
	}
	if cur != 1 {
		t.Fatalf("events %+v: want one event with the current generation", c.events)
	}
}
