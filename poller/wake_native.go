//go:build (linux || darwin || dragonfly || freebsd || netbsd || openbsd) && !evloop_portable

package poller

import (
	"os"

	"golang.org/x/sys/unix"
)

// The wake protocol is the same for every native backend; only how a wake
// is signalled and drained differs (an eventfd on Linux; a user event or a
// pipe under kqueue), which each backend provides as signalWake and
// drainWake.

// consumeWake drains the wake signal and only then clears wakePending. The
// other order loses wakeups: a waker that saw the flag clear would signal,
// our drain would swallow its signal, and the flag would stay set with
// nobody to wake the loop again. The caller drains its task queue after this
// returns, so a task queued by a waker whose CAS failed is still seen.
func (p *Poller) consumeWake() {
	p.drainWake()
	p.wakePending.Store(0)
}

// Wake makes the owner's current or next Wait return with woken == true.
// Safe from any goroutine, even during or after Close (it then returns
// ErrClosed); wakes coalesce, so a storm of Wakes costs one signal (an
// eventfd write, a user event or a pipe byte) per loop iteration, and only
// that one signal takes the read lock.
func (p *Poller) Wake() error {
	if p.wakePending.Load() != 0 || !p.wakePending.CompareAndSwap(0, 1) {
		// A wake is pending, but Close may have come since: the flag is
		// never cleared once nobody Waits, so it alone cannot say nil.
		if p.closed.Load() {
			return ErrClosed
		}
		return nil
	}
	p.closeMu.RLock()
	defer p.closeMu.RUnlock()
	if p.closed.Load() {
		return ErrClosed
	}
	if err := p.signalWake(); err != nil {
		// Nothing was signalled: let the next Wake try again.
		p.wakePending.Store(0)
		return err
	}
	return nil
}

// writeWake writes b, a wake signal, to the non-blocking fd (an eventfd or
// a pipe) with write, retrying on EINTR. EAGAIN means the fd is full and so
// readable: the loop will wake, the wake is pending, not lost.
func writeWake(write func(fd int, b []byte) (int, error), fd int, b []byte) error {
	for {
		_, err := write(fd, b)
		switch err {
		case nil, unix.EAGAIN:
			return nil
		case unix.EINTR:
			continue
		default:
			return os.NewSyscallError("write", err)
		}
	}
}
