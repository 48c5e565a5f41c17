//go:build linux && !evloop_portable

package poller

import (
	"testing"

	"golang.org/x/sys/unix"
)

// collector records the events of one Wait.
type collector struct{ events []Event }

func (c *collector) OnEvent(ev Event) { c.events = append(c.events, ev) }

func (c *collector) find(fd int) (Event, bool) {
	for _, ev := range c.events {
		if ev.FD == fd {
			return ev, true
		}
	}
	return Event{}, false
}

func openPoller(tb testing.TB) *Poller {
	tb.Helper()
	p, err := Open()
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := p.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return p
}

// socketpair returns a connected non-blocking stream pair, closed at cleanup
// unless the test closes an end itself (pass the returned closer).
func socketpair(tb testing.TB) (a, b int) {
	tb.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		tb.Fatalf("socketpair: %v", err)
	}
	tb.Cleanup(func() {
		unix.Close(fds[0])
		unix.Close(fds[1])
	})
	return fds[0], fds[1]
}

func waitOnce(tb testing.TB, p *Poller, timeout int) (*collector, bool) {
	tb.Helper()
	c := &collector{}
	woken, err := p.Wait(timeout, c)
	if err != nil {
		tb.Fatalf("Wait: %v", err)
	}
	return c, woken
}

func mustWrite(tb testing.TB, fd int, p []byte) {
	tb.Helper()
	if n, err := unix.Write(fd, p); err != nil || n != len(p) {
		tb.Fatalf("write: n=%d err=%v", n, err)
	}
}
