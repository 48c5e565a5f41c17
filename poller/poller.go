// Package poller is evloop's readiness notifier: one Poller per event loop,
// owned by that loop's goroutine, plus a Wake that any goroutine may call.
//
// # Contract
//
// Every mechanism defines the same set of functions and nothing else:
// poller_epoll.go on Linux, poller_kqueue.go on macOS, DragonFly, FreeBSD,
// NetBSD and OpenBSD (its wake channel in wake_kqueue_user.go, an
// EVFILT_USER event, or wake_kqueue_pipe.go, a pipe, where the kernel has no
// EVFILT_USER), and poller_portable.go everywhere else, or on any system
// when built with the evloop_portable tag:
//
//	Open() (*Poller, error)                    create the poller and its wake channel
//	(*Poller).Close() error                    release every descriptor the poller owns
//	(*Poller).Add(fd, gen, Interest) error     start watching fd (EEXIST if it is watched)
//	(*Poller).Mod(fd, gen, Interest) error     change what is watched (Interest may be 0: paused; ENOENT if unwatched)
//	(*Poller).Del(fd) error                    stop watching fd (ENOENT if unwatched)
//	(*Poller).Wait(timeout, Handler) (woken bool, err error)
//	(*Poller).Wake() error                     any goroutine: make Wait return soon (ErrClosed after Close)
//
// Errors are *os.SyscallError wrapping the errno, so callers test them with
// errors.Is on every backend. Callers speak in intents (an Interest set),
// never in mechanism flags: the EPOLL and EV constants stay inside their own
// files. The contract tests (the test files without a backend in their name)
// run unchanged against every backend.
//
// # Generations
//
// Every event carries the fd and a 32-bit generation chosen by the caller,
// never a Go pointer: a pointer hidden in kernel memory is invisible to the
// garbage collector, and after the fd is closed and its number reused, an
// event still in flight for the old connection would reach the new one.
// With a generation the caller compares [Event.Gen] with the generation it
// holds for that fd and drops stale events.
//
// epoll stores the generation in the kernel with the fd. kqueue's udata is a
// pointer on macOS and most BSDs, so the kqueue backend keeps the generation
// in its own table indexed by fd instead, and copies it for every event of a
// batch as soon as kevent returns, before the first handler runs: a handler
// that closes an fd and registers its number again cannot relabel an event
// already returned for the old one.
//
// # Goroutines
//
// Add, Mod, Del and Wait are called only by the goroutine that owns the
// poller (its event loop). Wake may be called from any goroutine at any
// time, even after Close, which makes it a no-op that returns ErrClosed.
// Close is called by the owner after its last Wait.
package poller

// Interest is the set of conditions a caller wants to hear about for one fd.
// The zero Interest keeps the fd registered but silent (reading paused and
// nothing to flush). epoll still reports errors and hang-ups for it; kqueue,
// whose filters each watch one direction, reports them once a direction is
// watched again, so a caller must not count on hearing of a paused fd's
// hang-up.
type Interest uint8

const (
	// Readable asks for an event when the fd has data, a pending accept, or
	// the peer has shut down its writing side.
	Readable Interest = 1 << iota
	// Writable asks for an event when the fd can take more bytes. Watch it
	// only while output is pending: a writable socket is writable almost
	// always, so leaving it on would make every Wait return at once.
	Writable
)

// Events is what happened to an fd, as reported by Wait.
type Events uint8

const (
	// EventRead: the fd is readable (data, EOF, or a connection to accept).
	EventRead Events = 1 << iota
	// EventWrite: the fd can take more bytes.
	EventWrite
	// EventReadHangup: the peer shut down its writing side (a read will
	// return 0 once the buffered data is consumed).
	EventReadHangup
	// EventHangup: both directions are shut down, or (kqueue) nothing more
	// can be sent. kqueue reports it only while Writable is watched.
	EventHangup
	// EventError: the fd has a pending error; a read or write returns it.
	EventError
)

// Has reports whether every condition in want is in e.
func (e Events) Has(want Events) bool { return e&want == want }

// Event is one readiness report: the fd and generation given to Add or Mod,
// and what happened.
type Event struct {
	FD     int
	Gen    uint32
	Events Events
}

// Handler receives the events of one Wait. It is an interface rather than a
// func so that the owning loop passes itself without allocating a closure on
// every Wait.
type Handler interface {
	// OnEvent is called once per ready fd, on the goroutine that called
	// Wait. It may call Add, Mod and Del, including for other fds; events
	// for an fd it deleted may still follow in the same batch and are then
	// recognised by their generation.
	OnEvent(ev Event)
}
