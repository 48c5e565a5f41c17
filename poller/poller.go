// Package poller is evloop's readiness notifier: one Poller per event loop,
// owned by that loop's goroutine, plus a Wake that any goroutine may call.
//
// # Contract
//
// Every mechanism (poller_epoll.go on Linux; a kqueue file can be added for
// the BSDs) defines the same set of functions and nothing else:
//
//	Open() (*Poller, error)                    create the poller and its wake channel
//	(*Poller).Close() error                    release every descriptor the poller owns
//	(*Poller).Add(fd, gen, Interest) error     start watching fd
//	(*Poller).Mod(fd, gen, Interest) error     change what is watched (Interest may be 0: paused)
//	(*Poller).Del(fd) error                    stop watching fd
//	(*Poller).Wait(timeout, Handler) (woken bool, err error)
//	(*Poller).Wake() error                     any goroutine: make Wait return soon (ErrClosed after Close)
//
// Callers speak in intents (an Interest set), never in mechanism flags: the
// EPOLL and EV constants stay inside their own file.
//
// # Generations
//
// The kernel hands back whatever the poller stored with the fd. evloop stores
// the fd and a 32-bit generation chosen by the caller, never a Go pointer:
// a pointer hidden in kernel memory is invisible to the garbage collector, and
// after the fd is closed and its number reused, an event still in flight for
// the old connection would reach the new one. With a generation the caller
// compares [Event.Gen] with the generation it holds for that fd and drops
// stale events.
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
// nothing to flush); errors and hang-ups are still reported.
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
	// EventHangup: both directions are shut down.
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
