//go:build evloop_portable || !(linux || darwin || dragonfly || freebsd || netbsd || openbsd)

package poller

import (
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/evloop/evloop/internal/netfd"
)

// Poller watches emulated descriptors (package netfd) for the portable
// backend. Each descriptor's readiness is computed from its state; the
// descriptor calls back when that readiness may have grown, which queues
// its registration and signals Wait. Semantics are epoll's, level-triggered:
// a descriptor that stays ready is reported by every Wait, interest 0 is
// silent except for errors and hang-ups, and every event carries the
// generation given at the last Add or Mod. See the package doc for which
// goroutine may call what.
type Poller struct {
	// regs and active belong to the owner goroutine.
	regs map[int]*registration
	// active holds the registrations reported by the last Wait: being
	// level-triggered, they are checked again by the next one without
	// waiting for a notification.
	active []*registration
	events []Event

	mu    sync.Mutex
	dirty []*registration // notified since the last Wait looked (under mu)
	// spare is the array collect hands back to dirty (owner only), so the
	// two slices alternate and notifying allocates nothing.
	spare []*registration
	// timer bounds a Wait with a timeout; it is reused (owner only).
	timer *time.Timer

	// signal carries "look again" to Wait: a notification or a wake. It
	// holds one token, so any number of them coalesce.
	signal chan struct{}
	// wakePending is 1 from a Wake until the Wait that reports it, so
	// concurrent wakers cost one channel send per loop iteration.
	wakePending atomic.Uint32
	closed      atomic.Bool
}

// registration is one watched descriptor.
type registration struct {
	fd       int
	gen      uint32
	interest Interest
	watch    *netfd.Watch
	queued   bool // in dirty (under Poller.mu)
	active   bool // in active (owner only)
	deleted  bool // owner only
}

// Open creates a poller.
func Open() (*Poller, error) {
	return &Poller{regs: make(map[int]*registration), signal: make(chan struct{}, 1)}, nil
}

// Close stops watching every descriptor. The owner calls it once, after
// its last Wait. A Wake after Close does nothing and returns ErrClosed.
func (p *Poller) Close() error {
	p.closed.Store(true)
	for _, r := range p.regs {
		p.drop(r)
	}
	p.active = nil
	return nil
}

// Add starts watching fd for interest, tagging its events with gen: EEXIST
// when fd is watched already, EBADF when it is not open. Owner goroutine
// only.
func (p *Poller) Add(fd int, gen uint32, interest Interest) error {
	if r, ok := p.regs[fd]; ok {
		if r.watch.Current(fd) {
			return os.NewSyscallError("poll_ctl", syscall.EEXIST)
		}
		p.drop(r) // its descriptor was closed, which ends a registration
	}
	r := &registration{fd: fd, gen: gen, interest: interest}
	w, err := netfd.WatchFD(fd, interest&Readable != 0, func() { p.notify(r) })
	if err != nil {
		return os.NewSyscallError("poll_ctl", err)
	}
	r.watch = w
	p.regs[fd] = r
	p.notify(r) // report what is ready already
	return nil
}

// Mod replaces the interest set of a watched fd (and its generation):
// ENOENT when fd is not watched. Owner goroutine only.
func (p *Poller) Mod(fd int, gen uint32, interest Interest) error {
	r, ok := p.regs[fd]
	if ok && !r.watch.Current(fd) {
		p.drop(r)
		ok = false
	}
	if !ok {
		return os.NewSyscallError("poll_ctl", syscall.ENOENT)
	}
	if (r.interest^interest)&Readable != 0 {
		r.watch.Want(interest&Readable != 0)
	}
	r.gen, r.interest = gen, interest
	p.notify(r)
	return nil
}

// Del stops watching fd: ENOENT when it is not watched. Owner goroutine
// only.
func (p *Poller) Del(fd int) error {
	r, ok := p.regs[fd]
	if !ok {
		return os.NewSyscallError("poll_ctl", syscall.ENOENT)
	}
	current := r.watch.Current(fd)
	p.drop(r)
	if !current {
		return os.NewSyscallError("poll_ctl", syscall.ENOENT)
	}
	return nil
}

// drop ends r's registration.
func (p *Poller) drop(r *registration) {
	r.watch.Stop()
	r.deleted = true
	delete(p.regs, r.fd)
}

// notify queues r to be looked at by the next Wait and signals it. Any
// goroutine; it never blocks.
func (p *Poller) notify(r *registration) {
	p.mu.Lock()
	if !r.queued {
		r.queued = true
		p.dirty = append(p.dirty, r)
	}
	p.mu.Unlock()
	select {
	case p.signal <- struct{}{}:
	default:
	}
}

// eventsOf maps a descriptor's readiness to what epoll would report for
// interest: reading and writing only when asked, errors and hang-ups always.
func eventsOf(ready netfd.Ready, interest Interest) Events {
	var e Events
	if interest&Readable != 0 {
		if ready&netfd.Readable != 0 {
			e |= EventRead
		}
		if ready&netfd.ReadHangup != 0 {
			e |= EventReadHangup
		}
	}
	if interest&Writable != 0 && ready&netfd.Writable != 0 {
		e |= EventWrite
	}
	if ready&netfd.Hangup != 0 {
		e |= EventHangup
	}
	if ready&netfd.Failed != 0 {
		e |= EventError
	}
	return e
}

// Wait blocks until at least one watched fd is ready, a Wake arrives, or
// timeout milliseconds pass (-1: no timeout; 0: poll). It calls h.OnEvent
// for every ready fd and reports whether a Wake was consumed. Events are
// gathered before any is handled, as epoll_wait returns them, so an fd
// deleted by the handler may still get its event, recognised by its
// generation. Owner goroutine only.
func (p *Poller) Wait(timeout int, h Handler) (woken bool, err error) {
	var timer <-chan time.Time
	for {
		p.collect()
		// Clearing the flag before the caller drains its tasks is what
		// keeps a wake from being lost: a task queued after this Swap
		// comes with a Wake that signals again.
		woken = p.wakePending.Load() != 0 && p.wakePending.Swap(0) != 0
		if len(p.events) > 0 || woken || timeout == 0 {
			break
		}
		if timeout < 0 {
			<-p.signal
			continue
		}
		if timer == nil {
			timer = p.startTimer(time.Duration(timeout) * time.Millisecond)
		}
		select {
		case <-p.signal:
			continue
		case <-timer:
		}
		p.collect()
		woken = p.wakePending.Load() != 0 && p.wakePending.Swap(0) != 0
		break
	}
	if timer != nil {
		p.timer.Stop()
	}
	events := p.events
	for i := range events {
		h.OnEvent(events[i])
		events[i] = Event{}
	}
	p.events = events[:0]
	return woken, nil
}

// startTimer arms the reused timer for d and returns its channel.
func (p *Poller) startTimer(d time.Duration) <-chan time.Time {
	if p.timer == nil {
		p.timer = time.NewTimer(d)
	} else {
		p.timer.Reset(d) // since Go 1.23 no stale value survives Stop or Reset
	}
	return p.timer.C
}

// collect fills p.events from the registrations that were ready last time
// and those notified since, and keeps the ones still ready as active.
func (p *Poller) collect() {
	p.mu.Lock()
	dirty := p.dirty
	p.dirty = p.spare[:0]
	for _, r := range dirty {
		r.queued = false
	}
	p.mu.Unlock()
	defer func() {
		clear(dirty)
		p.spare = dirty[:0]
	}()

	active := p.active[:0]
	check := func(r *registration) {
		if r.deleted || r.active {
			return
		}
		e := eventsOf(r.watch.Ready(), r.interest)
		if e == 0 {
			return
		}
		r.active = true
		active = append(active, r)
		p.events = append(p.events, Event{FD: r.fd, Gen: r.gen, Events: e})
	}
	previous := p.active
	for _, r := range previous {
		r.active = false
	}
	// active reuses previous's array: it never grows past the element
	// being read, since each element appends at most itself.
	for _, r := range previous {
		check(r)
	}
	for _, r := range dirty {
		check(r)
	}
	if len(active) < len(previous) {
		clear(previous[len(active):])
	}
	p.active = active
}

// Wake makes the owner's current or next Wait return with woken == true.
// Safe from any goroutine, even during or after Close (it then returns
// ErrClosed); wakes coalesce.
func (p *Poller) Wake() error {
	if p.closed.Load() {
		return ErrClosed
	}
	if p.wakePending.Load() != 0 || !p.wakePending.CompareAndSwap(0, 1) {
		return nil
	}
	select {
	case p.signal <- struct{}{}:
	default:
	}
	return nil
}
