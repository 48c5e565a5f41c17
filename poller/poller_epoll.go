//go:build linux && !evloop_portable

package poller

import (
	"encoding/binary"
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Syscall seams: tests swap these to inject EINTR, EAGAIN, ENOENT, EEXIST,
// EBADF deterministically. They are only swapped while no poller is in use.
var (
	epollCtl     = ctl
	epollWait    = wait
	eventfdWrite = unix.Write
	eventfdRead  = unix.Read
)

// wait is epoll_wait. A poll (msec 0) cannot block, so it goes through
// RawSyscall: no entersyscall/exitsyscall around it, which a loop that polls
// between busy iterations would otherwise pay on every one. epoll_pwait with
// no signal mask is epoll_wait on every architecture (arm64 has only the
// former).
func wait(epfd int, events []unix.EpollEvent, msec int) (int, error) {
	if msec != 0 || len(events) == 0 {
		return unix.EpollWait(epfd, events, msec)
	}
	n, _, errno := unix.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(epfd),
		uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), 0, 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}

// ctl takes the event by value: a pointer passed through the epollCtl
// variable would escape (the compiler cannot see the callee), costing an
// allocation on every Add and Mod, and Mod is on the flow-control path.
func ctl(epfd, op, fd int, ev unix.EpollEvent) error {
	return unix.EpollCtl(epfd, op, fd, &ev)
}

// wakeValue is the native-endian uint64 1 that eventfd(2) requires.
var wakeValue = func() (b [8]byte) {
	binary.NativeEndian.PutUint64(b[:], 1)
	return b
}()

// Poller is an epoll instance plus a wake eventfd. See the package doc for
// which goroutine may call what.
type Poller struct {
	epfd   int
	wakefd int
	// wakePending is 1 from the Wake that wrote the eventfd until the Wait
	// that read it. Concurrent wakers therefore cost one write per wake,
	// however many of them there are.
	wakePending atomic.Uint32
	// closeMu makes Close wait for a Wake that is writing, and closed makes
	// later Wakes write nothing: after Close the eventfd's number may belong
	// to any new file, and 8 stray bytes written there would corrupt it.
	// closed is atomic because a Wake that finds a wake already pending
	// reads it without the lock.
	closeMu   sync.RWMutex
	closed    atomic.Bool
	events    []unix.EpollEvent
	underused int
	wakeBuf   [8]byte
}

// Open creates an epoll instance and its wake eventfd, both close-on-exec.
//
// The eventfd is registered level-triggered and read once each time Wait sees
// it. Edge-triggered registration would save that read, but an eventfd that
// is never drained is exactly how a loop ends up spinning at 100% CPU when a
// wake and a flag reset interleave badly; one read per wake (not per task:
// wakePending coalesces them) is cheap and makes idle mean idle.
func Open() (*Poller, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	wakefd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		unix.Close(epfd)
		return nil, os.NewSyscallError("eventfd", err)
	}
	p := &Poller{epfd: epfd, wakefd: wakefd, events: make([]unix.EpollEvent, minEvents)}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(wakefd)}
	if err := epollCtl(epfd, unix.EPOLL_CTL_ADD, wakefd, ev); err != nil {
		unix.Close(wakefd)
		unix.Close(epfd)
		return nil, os.NewSyscallError("epoll_ctl", err)
	}
	return p, nil
}

// Close releases the epoll fd and the wake eventfd. The owner calls it once,
// after its last Wait. A Wake after Close does nothing and returns ErrClosed.
func (p *Poller) Close() error {
	p.closeMu.Lock()
	p.closed.Store(true)
	p.closeMu.Unlock()
	return errors.Join(sysClose(p.wakefd), sysClose(p.epfd))
}

// Add starts watching fd for interest, tagging its events with gen.
// Owner goroutine only.
func (p *Poller) Add(fd int, gen uint32, interest Interest) error {
	return p.ctl(unix.EPOLL_CTL_ADD, fd, gen, interest)
}

// Mod replaces the interest set of a watched fd (and its generation).
// Owner goroutine only.
func (p *Poller) Mod(fd int, gen uint32, interest Interest) error {
	return p.ctl(unix.EPOLL_CTL_MOD, fd, gen, interest)
}

// Del stops watching fd. Closing an fd removes it from epoll too, but only
// when no duplicate of it is open, so callers Del before they close.
// Owner goroutine only.
func (p *Poller) Del(fd int) error {
	if err := epollCtl(p.epfd, unix.EPOLL_CTL_DEL, fd, unix.EpollEvent{}); err != nil {
		return os.NewSyscallError("epoll_ctl", err)
	}
	return nil
}

func (p *Poller) ctl(op, fd int, gen uint32, interest Interest) error {
	ev := unix.EpollEvent{Events: epollFlags(interest), Fd: int32(fd), Pad: int32(gen)}
	if err := epollCtl(p.epfd, op, fd, ev); err != nil {
		return os.NewSyscallError("epoll_ctl", err)
	}
	return nil
}

// epollFlags maps intents to epoll flags. Level-triggered throughout: a fd
// whose reading is paused is simply not asked for EPOLLIN, which never spins,
// whereas skipping level-triggered events that keep coming does.
func epollFlags(interest Interest) uint32 {
	var flags uint32
	if interest&Readable != 0 {
		flags |= unix.EPOLLIN | unix.EPOLLRDHUP
	}
	if interest&Writable != 0 {
		flags |= unix.EPOLLOUT
	}
	return flags
}

func eventsOf(flags uint32) Events {
	var e Events
	if flags&(unix.EPOLLIN|unix.EPOLLPRI) != 0 {
		e |= EventRead
	}
	if flags&unix.EPOLLOUT != 0 {
		e |= EventWrite
	}
	if flags&unix.EPOLLRDHUP != 0 {
		e |= EventReadHangup
	}
	if flags&unix.EPOLLHUP != 0 {
		e |= EventHangup
	}
	if flags&unix.EPOLLERR != 0 {
		e |= EventError
	}
	return e
}

// Wait blocks until at least one watched fd is ready, a Wake arrives, or
// timeout milliseconds pass (-1: no timeout; 0: poll). It calls h.OnEvent for
// every ready fd and reports whether a Wake was consumed; the caller then
// runs its queued tasks. An interrupted wait (EINTR) returns (false, nil).
// Owner goroutine only.
func (p *Poller) Wait(timeout int, h Handler) (woken bool, err error) {
	n, err := epollWait(p.epfd, p.events, timeout)
	if err != nil {
		if err == unix.EINTR {
			return false, nil
		}
		return false, os.NewSyscallError("epoll_wait", err)
	}
	for i := 0; i < n; i++ {
		ev := &p.events[i]
		fd := int(ev.Fd)
		if fd == p.wakefd {
			woken = true
			continue
		}
		h.OnEvent(Event{FD: fd, Gen: uint32(ev.Pad), Events: eventsOf(ev.Events)})
	}
	if woken {
		p.consumeWake()
	}
	p.resize(n)
	return woken, nil
}

// drainWake empties the eventfd; consumeWake clears wakePending after it.
func (p *Poller) drainWake() {
	for {
		_, err := eventfdRead(p.wakefd, p.wakeBuf[:])
		if err != unix.EINTR {
			// EAGAIN means another reader beat us to it; anything else
			// (EBADF after Close) leaves nothing to drain either.
			return
		}
	}
}

// signalWake writes the eventfd. Only the Wake that set wakePending calls
// it, under closeMu.
func (p *Poller) signalWake() error {
	// EAGAIN: the counter is saturated, so the eventfd is readable.
	return writeWake(eventfdWrite, p.wakefd, wakeValue[:])
}

// resize sizes the event array for the next Wait (see resizeEvents).
func (p *Poller) resize(n int) {
	p.events = resizeEvents(p.events, &p.underused, n)
}
