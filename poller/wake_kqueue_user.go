//go:build (darwin || dragonfly || freebsd) && !evloop_portable

package poller

import (
	"os"

	"golang.org/x/sys/unix"
)

// wakeIdent names the poller's user event. EVFILT_USER idents are a
// namespace of their own, not fds, so any constant will do.
const wakeIdent = 0

// wakeChannel is an EVFILT_USER event: a wake is one kevent call, with no
// descriptor of its own to leak or to be reused after Close.
type wakeChannel struct {
	// trigger is built once by open and only read afterwards, so that
	// concurrent Wakes share it without a race and without allocating.
	trigger [1]unix.Kevent_t
}

// open registers the user event with EV_CLEAR: the kernel resets it when it
// reports it, which is what makes drain a no-op.
func (w *wakeChannel) open(kq int) error {
	reg := [1]unix.Kevent_t{change(wakeIdent, unix.EVFILT_USER, unix.EV_ADD|unix.EV_CLEAR)}
	if _, err := kevent(kq, reg[:], nil, nil); err != nil {
		return os.NewSyscallError("kevent", err)
	}
	w.trigger[0] = change(wakeIdent, unix.EVFILT_USER, 0)
	w.trigger[0].Fflags = unix.NOTE_TRIGGER
	return nil
}

func (w *wakeChannel) is(k *unix.Kevent_t) bool {
	return int(k.Filter) == unix.EVFILT_USER && k.Ident == wakeIdent
}

// drain has nothing to read: EV_CLEAR reset the event when kevent returned
// it, before the handlers ran and so before wakePending is cleared.
func (w *wakeChannel) drain() {}

// signal triggers the user event. Only the Wake that set wakePending calls
// it, under the poller's close lock.
func (w *wakeChannel) signal(kq int) error {
	for {
		_, err := kevent(kq, w.trigger[:], nil, nil)
		switch err {
		case nil:
			return nil
		case unix.EINTR:
			continue
		default:
			return os.NewSyscallError("kevent", err)
		}
	}
}

// close has nothing to release: the user event goes with the kqueue.
func (w *wakeChannel) close() error { return nil }
