//go:build linux && !evloop_portable

package poller

import (
	"testing"

	"golang.org/x/sys/unix"
)

// TestEpollHangupWhateverTheInterest: epoll reports EPOLLHUP for every
// registered fd, whatever it was asked for, so a full hang-up shows as
// EventHangup with reading only watched, and even with nothing watched.
// kqueue has no such direction-free report (its EV_EOF comes through the
// read or write filter, and only while that filter is enabled), so this is
// epoll's behaviour, not the contract.
func TestEpollHangupWhateverTheInterest(t *testing.T) {
	tests := []struct {
		name       string
		interest   Interest
		wantEvents Events
		notEvents  Events
	}{
		{"reading watched", Readable, EventRead | EventReadHangup | EventHangup, 0},
		{"nothing watched", 0, EventHangup, EventRead},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := openPoller(t)
			a, b := socketpair(t)
			mustAdd(t, p, a, 7, tc.interest)
			if err := unix.Shutdown(b, unix.SHUT_RDWR); err != nil {
				t.Fatal(err)
			}
			c, _ := waitOnce(t, p, 50)
			ev, ok := c.find(a)
			if !ok {
				t.Fatalf("no event for fd in %+v", c.events)
			}
			if !ev.Events.Has(tc.wantEvents) || ev.Events&tc.notEvents != 0 {
				t.Fatalf("events = %05b, want all of %05b and none of %05b", ev.Events, tc.wantEvents, tc.notEvents)
			}
		})
	}
}
