//go:build (darwin || dragonfly || freebsd || netbsd || openbsd) && !evloop_portable

package poller

import (
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
)

// Syscall seams: tests swap these to inject EINTR, EBADF and friends, and to
// count wake signals. They are only swapped while no poller is in use.
var (
	kevent     = unix.Kevent
	wakeSignal = (*wakeChannel).signal
)

// interestUnknown is never a caller's Interest: a failed Mod stores it so
// the next Mod sets both filters again whatever half of the failed one the
// kernel applied.
const interestUnknown Interest = 0xff

// fdState is what the poller remembers about one fd. The generation lives
// here rather than in the kevent's udata: udata is a pointer on macOS and
// most BSDs, and an integer disguised as a pointer there is a bad pointer to
// the garbage collector and to checkptr.
type fdState struct {
	gen      uint32
	interest Interest
	watched  bool
	// slot is 1 + the index of this fd's Event in the batch being built by
	// Wait, or 0; it merges the read and write kevents of one fd.
	slot int32
}

// Poller is a kqueue plus its wake channel (a user event, or a pipe where
// the kernel has no EVFILT_USER). See the package doc for which goroutine
// may call what.
type Poller struct {
	kq   int
	wake wakeChannel
	// wakePending is 1 from the Wake that signalled until the Wait that
	// consumed the signal. Concurrent wakers therefore cost one signal per
	// wake, however many of them there are.
	wakePending atomic.Uint32
	// closeMu makes Close wait for a Wake that is signalling, and closed
	// makes later Wakes signal nothing: after Close the kqueue's (or the
	// pipe's) number may belong to any new file. closed is atomic because a
	// Wake that finds a wake already pending reads it without the lock.
	closeMu   sync.RWMutex
	closed    atomic.Bool
	events    []unix.Kevent_t
	underused int
	// fds is indexed by fd and grown on demand; owner goroutine only.
	fds []fdState
	// batch holds the Events of one Wait, generations included, built in
	// full before the first handler runs: a handler may Del and close an
	// fd and Add a new one under the same number, and the events already
	// returned for the old one must keep the old generation.
	batch []Event
	// changes and timeout live here because the kevent seam makes
	// anything passed to it escape: as locals they would be allocated on
	// every call.
	changes [2]unix.Kevent_t
	timeout unix.Timespec
}

// Open creates a close-on-exec kqueue and registers its wake channel.
func Open() (*Poller, error) {
	kq, err := kqueue()
	if err != nil {
		return nil, os.NewSyscallError("kqueue", err)
	}
	p := &Poller{kq: kq, events: make([]unix.Kevent_t, minEvents)}
	if err := p.wake.open(kq); err != nil {
		unix.Close(kq)
		return nil, err
	}
	return p, nil
}

// kqueue creates the kqueue and marks it close-on-exec. kqueue1 is not
// available everywhere, so the flag is set afterwards, under ForkLock as
// the os and net packages do, so that no fork+exec in between inherits it.
func kqueue() (int, error) {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	kq, err := unix.Kqueue()
	if err != nil {
		return -1, err
	}
	unix.CloseOnExec(kq)
	return kq, nil
}

// Close releases the kqueue and the wake channel. The owner calls it once,
// after its last Wait. A Wake after Close does nothing and returns ErrClosed.
func (p *Poller) Close() error {
	p.closeMu.Lock()
	p.closed.Store(true)
	p.closeMu.Unlock()
	return errors.Join(p.wake.close(), sysClose(p.kq))
}

// Add starts watching fd for interest, tagging its events with gen. It
// registers both filters, the ones not in interest disabled, so that Mod
// only ever changes whether they are enabled. An fd already watched fails with EEXIST, as on
// epoll; that includes an fd closed without Del whose number came back, so
// callers Del before they close.
// Owner goroutine only.
func (p *Poller) Add(fd int, gen uint32, interest Interest) error {
	if fd < 0 {
		return os.NewSyscallError("kevent", unix.EBADF)
	}
	if p.lookup(fd) != nil {
		return os.NewSyscallError("kevent", unix.EEXIST)
	}
	if err := p.setFilters(fd, interest); err != nil {
		// Without an event list the kernel stops at the first failing
		// change, maybe after applying the other: undo it so that a
		// failed Add leaves nothing behind.
		p.changes[0] = change(fd, unix.EVFILT_READ, unix.EV_DELETE)
		p.changes[1] = change(fd, unix.EVFILT_WRITE, unix.EV_DELETE)
		p.deleteEach(p.changes[:])
		return os.NewSyscallError("kevent", err)
	}
	st := p.slotFor(fd)
	*st = fdState{gen: gen, interest: interest, watched: true}
	return nil
}

// Mod replaces the interest set of a watched fd (and its generation). An
// unwatched fd fails with ENOENT, as on epoll. A Mod that changes only the
// generation costs no system call.
// Owner goroutine only.
func (p *Poller) Mod(fd int, gen uint32, interest Interest) error {
	st := p.lookup(fd)
	if st == nil {
		return os.NewSyscallError("kevent", unix.ENOENT)
	}
	if interest != st.interest {
		if err := p.setFilters(fd, interest); err != nil {
			// The generation stays the old one, as after a failed
			// EPOLL_CTL_MOD.
			st.interest = interestUnknown
			return os.NewSyscallError("kevent", err)
		}
		st.interest = interest
	}
	st.gen = gen
	return nil
}

// setFilters enables the filters in interest and disables the others. Both
// go in as EV_ADD, which updates an existing knote and makes the kernel look
// at the fd again, so data that arrived while reading was disabled is
// reported as soon as it is enabled.
func (p *Poller) setFilters(fd int, interest Interest) error {
	p.changes[0] = change(fd, unix.EVFILT_READ, unix.EV_ADD|onOff(interest&Readable != 0))
	p.changes[1] = change(fd, unix.EVFILT_WRITE, unix.EV_ADD|onOff(interest&Writable != 0))
	_, err := kevent(p.kq, p.changes[:], nil, nil)
	return err
}

func onOff(on bool) int {
	if on {
		return unix.EV_ENABLE
	}
	return unix.EV_DISABLE
}

func change(fd, filter, flags int) unix.Kevent_t {
	var k unix.Kevent_t
	unix.SetKevent(&k, fd, filter, flags)
	return k
}

// Del stops watching fd. Closing an fd removes its knotes too, but the
// poller's own table would still hold the fd, so callers Del before they
// close. An unwatched fd fails with ENOENT, as on epoll.
// Owner goroutine only.
func (p *Poller) Del(fd int) error {
	st := p.lookup(fd)
	if st == nil {
		return os.NewSyscallError("kevent", unix.ENOENT)
	}
	// Forget it whatever the kernel says: the caller is done with this
	// registration and its number must be free for the next Add.
	*st = fdState{}
	p.changes[0] = change(fd, unix.EVFILT_READ, unix.EV_DELETE)
	p.changes[1] = change(fd, unix.EVFILT_WRITE, unix.EV_DELETE)
	_, err := kevent(p.kq, p.changes[:], nil, nil)
	if err == unix.ENOENT {
		// A filter that is gone stops the kernel before the other one:
		// retry them one at a time.
		err = p.deleteEach(p.changes[:])
	}
	if err != nil {
		return os.NewSyscallError("kevent", err)
	}
	return nil
}

// deleteEach applies each EV_DELETE change on its own and returns the first
// error other than ENOENT (a filter that was never added or is gone).
func (p *Poller) deleteEach(changes []unix.Kevent_t) error {
	var first error
	for i := range changes {
		_, err := kevent(p.kq, changes[i:i+1], nil, nil)
		if err != nil && err != unix.ENOENT && first == nil {
			first = err
		}
	}
	return first
}

// lookup returns the table entry of a watched fd, or nil.
func (p *Poller) lookup(fd int) *fdState {
	if fd < 0 || fd >= len(p.fds) || !p.fds[fd].watched {
		return nil
	}
	return &p.fds[fd]
}

// slotFor returns fd's table entry, growing the table to hold it.
func (p *Poller) slotFor(fd int) *fdState {
	if fd >= len(p.fds) {
		grown := make([]fdState, max(fd+1, 2*len(p.fds), 64))
		copy(grown, p.fds)
		p.fds = grown
	}
	return &p.fds[fd]
}

// eventsOf maps one kevent to the Events epoll would report for it: EOF on
// the read side is the peer's FIN (EPOLLRDHUP), EOF on the write side means
// nothing more can be sent (EPOLLHUP), and an error code at EOF is the
// socket error (EPOLLERR).
func eventsOf(k *unix.Kevent_t) Events {
	if k.Flags&unix.EV_ERROR != 0 {
		return EventError
	}
	var e Events
	eof := k.Flags&unix.EV_EOF != 0
	switch int(k.Filter) {
	case unix.EVFILT_READ:
		e = EventRead
		if eof {
			e |= EventReadHangup
		}
	case unix.EVFILT_WRITE:
		e = EventWrite
		if eof {
			e |= EventHangup
		}
	}
	if eof && k.Fflags != 0 {
		e |= EventError
	}
	return e
}

// Wait blocks until at least one watched fd is ready, a Wake arrives, or
// timeout milliseconds pass (-1: no timeout; 0: poll). It calls h.OnEvent for
// every ready fd, once per fd even when both its filters fired, and reports
// whether a Wake was consumed; the caller then runs its queued tasks. An
// interrupted wait (EINTR) returns (false, nil).
// Owner goroutine only.
func (p *Poller) Wait(timeout int, h Handler) (woken bool, err error) {
	var ts *unix.Timespec
	if timeout >= 0 {
		p.timeout = unix.NsecToTimespec(int64(timeout) * 1e6)
		ts = &p.timeout
	}
	n, err := kevent(p.kq, nil, p.events, ts)
	if err != nil {
		if err == unix.EINTR {
			return false, nil
		}
		return false, os.NewSyscallError("kevent", err)
	}
	woken = p.collect(p.events[:n])
	for i := range p.batch {
		h.OnEvent(p.batch[i])
	}
	if woken {
		p.consumeWake()
	}
	p.events = resizeEvents(p.events, &p.underused, n)
	return woken, nil
}

// collect turns the kevents into p.batch, generations snapshotted from the
// table now, before any handler can change it, and reports whether the wake
// channel fired.
func (p *Poller) collect(kevs []unix.Kevent_t) (woken bool) {
	p.batch = p.batch[:0]
	for i := range kevs {
		k := &kevs[i]
		if p.wake.is(k) {
			woken = true
			continue
		}
		fd := int(k.Ident)
		st := p.lookup(fd)
		if st == nil {
			// Del removes the knotes before it returns, so this is not
			// expected; without a generation the caller could not tell
			// whose event it is anyway.
			continue
		}
		if st.slot != 0 {
			p.batch[st.slot-1].Events |= eventsOf(k)
			continue
		}
		p.batch = append(p.batch, Event{FD: fd, Gen: st.gen, Events: eventsOf(k)})
		st.slot = int32(len(p.batch))
	}
	for i := range p.batch {
		p.fds[p.batch[i].FD].slot = 0
	}
	return woken
}

// drainWake empties the wake channel; consumeWake clears wakePending after
// it.
func (p *Poller) drainWake() { p.wake.drain() }

// signalWake signals the wake channel. Only the Wake that set wakePending
// calls it, under closeMu.
func (p *Poller) signalWake() error { return wakeSignal(&p.wake, p.kq) }
