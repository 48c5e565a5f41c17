//go:build (darwin || dragonfly || freebsd || netbsd || openbsd) && !evloop_portable

package poller

import (
	"errors"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

type keventFunc = func(kq int, changes, events []unix.Kevent_t, timeout *unix.Timespec) (int, error)

// swapKevent replaces the kevent seam until the test ends.
func swapKevent(t *testing.T, f func(real keventFunc) keventFunc) {
	real := kevent
	kevent = f(real)
	t.Cleanup(func() { kevent = real })
}

// TestKqueueSyscallFaults injects errors through the kevent seam; the
// errors a real kernel gives for misuse are in TestRegistrationErrors.
func TestKqueueSyscallFaults(t *testing.T) {
	t.Run("wait EINTR is a quiet return", func(t *testing.T) {
		p := openPoller(t)
		swapKevent(t, func(real keventFunc) keventFunc {
			return func(kq int, ch, ev []unix.Kevent_t, ts *unix.Timespec) (int, error) {
				if len(ev) > 0 {
					return 0, unix.EINTR
				}
				return real(kq, ch, ev, ts)
			}
		})
		woken, err := p.Wait(-1, &collector{})
		if woken || err != nil {
			t.Fatalf("woken=%v err=%v, want a quiet return", woken, err)
		}
	})
	t.Run("wait EBADF is reported", func(t *testing.T) {
		p := openPoller(t)
		swapKevent(t, func(real keventFunc) keventFunc {
			return func(kq int, ch, ev []unix.Kevent_t, ts *unix.Timespec) (int, error) {
				if len(ev) > 0 {
					return 0, unix.EBADF
				}
				return real(kq, ch, ev, ts)
			}
		})
		_, err := p.Wait(-1, &collector{})
		var se *os.SyscallError
		if !errors.Is(err, unix.EBADF) || !errors.As(err, &se) {
			t.Fatalf("error %v, want an *os.SyscallError wrapping EBADF", err)
		}
	})
	t.Run("a failed Add leaves the fd unwatched", func(t *testing.T) {
		p := openPoller(t)
		a, b := socketpair(t)
		fail := true
		swapKevent(t, func(real keventFunc) keventFunc {
			return func(kq int, ch, ev []unix.Kevent_t, ts *unix.Timespec) (int, error) {
				if fail && len(ch) == 2 && ch[0].Flags&unix.EV_ADD != 0 {
					// As the kernel does when the second change fails.
					real(kq, ch[:1], nil, nil)
					return 0, unix.ENOMEM
				}
				return real(kq, ch, ev, ts)
			}
		})
		if err := p.Add(a, 1, Readable); !errors.Is(err, unix.ENOMEM) {
			t.Fatalf("Add: %v, want ENOMEM", err)
		}
		mustWrite(t, b, []byte("x"))
		if c, _ := waitOnce(t, p, 50); len(c.events) != 0 {
			t.Fatalf("events %+v after a failed Add, want none: the half-added filter was not undone", c.events)
		}
		fail = false
		mustAdd(t, p, a, 2, Readable)
	})
	t.Run("a failed Mod is redone in full by the next one", func(t *testing.T) {
		p := openPoller(t)
		a, b := socketpair(t)
		mustAdd(t, p, a, 1, Readable)
		calls, fail := 0, true
		swapKevent(t, func(real keventFunc) keventFunc {
			return func(kq int, ch, ev []unix.Kevent_t, ts *unix.Timespec) (int, error) {
				if len(ch) > 0 {
					calls++
					if fail {
						real(kq, ch[:1], nil, nil)
						return 0, unix.ENOMEM
					}
				}
				return real(kq, ch, ev, ts)
			}
		})
		if err := p.Mod(a, 1, Writable); !errors.Is(err, unix.ENOMEM) {
			t.Fatalf("Mod: %v, want ENOMEM", err)
		}
		fail, calls = false, 0
		mustMod(t, p, a, 1, Readable)
		if calls != 1 {
			t.Fatalf("Mod back to the old interest made %d kevent calls, want 1", calls)
		}
		mustWrite(t, b, []byte("x"))
		c, _ := waitOnce(t, p, 50)
		if ev, ok := c.find(a); !ok || ev.Events != EventRead {
			t.Fatalf("events %+v, want fd %d readable only", c.events, a)
		}
	})
	t.Run("a Mod of the generation alone makes no system call", func(t *testing.T) {
		p := openPoller(t)
		a, _ := socketpair(t)
		mustAdd(t, p, a, 1, Writable)
		calls := 0
		swapKevent(t, func(real keventFunc) keventFunc {
			return func(kq int, ch, ev []unix.Kevent_t, ts *unix.Timespec) (int, error) {
				if len(ch) > 0 {
					calls++
				}
				return real(kq, ch, ev, ts)
			}
		})
		mustMod(t, p, a, 5, Writable)
		if calls != 0 {
			t.Fatalf("%d kevent calls, want none", calls)
		}
		c, _ := waitOnce(t, p, 50)
		if ev, ok := c.find(a); !ok || ev.Gen != 5 {
			t.Fatalf("events %+v, want fd %d with gen 5", c.events, a)
		}
	})
	t.Run("Del skips a filter that is gone", func(t *testing.T) {
		p := openPoller(t)
		a, _ := socketpair(t)
		mustAdd(t, p, a, 1, Readable)
		// Remove the read filter behind the poller's back.
		del := [1]unix.Kevent_t{change(a, unix.EVFILT_READ, unix.EV_DELETE)}
		if _, err := unix.Kevent(p.kq, del[:], nil, nil); err != nil {
			t.Fatal(err)
		}
		if err := p.Del(a); err != nil {
			t.Fatalf("Del: %v", err)
		}
		// Both filters are gone: a new Add starts from nothing.
		mustAdd(t, p, a, 2, Writable)
		c, _ := waitOnce(t, p, 50)
		if ev, ok := c.find(a); !ok || ev.Gen != 2 || ev.Events != EventWrite {
			t.Fatalf("events %+v, want fd %d writable with gen 2", c.events, a)
		}
	})
}

// setEventArray gives p a kevent array of n entries.
func setEventArray(p *Poller, n int) { p.events = make([]unix.Kevent_t, n) }
