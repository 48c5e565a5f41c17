package netfd

import (
	"sync"
	"syscall"
)

// Ready is the readiness of one descriptor.
type Ready uint8

const (
	// Readable: data, end of stream, an error, a connection or a datagram
	// is waiting.
	Readable Ready = 1 << iota
	// Writable: the send buffer has room (or a write would fail at once).
	Writable
	// ReadHangup: the peer shut down its writing side, or the stream failed.
	ReadHangup
	// Hangup: both directions are shut down, or the connection is dead.
	Hangup
	// Failed: an error is pending (PendingError returns it).
	Failed
)

// object is what a descriptor refers to.
type object interface {
	// ready reports the object's current readiness.
	ready() Ready
	// watch installs (or, with nil, removes) the function told when the
	// readiness may have grown; read says whether the watcher wants to
	// read (accept, receive) at all.
	watch(notify func(), read bool)
	// close releases the object; its goroutines exit.
	close() error
}

// entry is a descriptor's slot: the object and how many descriptors refer
// to it (Dup).
type entry struct {
	obj  object
	refs *int
}

// firstFD is the lowest descriptor handed out: 0, 1 and 2 look like the
// standard streams to anyone printing them, so they are skipped, as a
// process that keeps its standard streams open sees the kernel do.
const firstFD = 3

var table struct {
	mu    sync.Mutex
	slots []entry
}

// add enters obj under the lowest free descriptor.
func add(obj object) int {
	refs := 1
	return addEntry(entry{obj: obj, refs: &refs})
}

func addEntry(e entry) int {
	table.mu.Lock()
	defer table.mu.Unlock()
	for fd := firstFD; fd < len(table.slots); fd++ {
		if table.slots[fd].obj == nil {
			table.slots[fd] = e
			return fd
		}
	}
	for len(table.slots) < firstFD {
		table.slots = append(table.slots, entry{})
	}
	table.slots = append(table.slots, e)
	return len(table.slots) - 1
}

// lookup returns the object fd refers to, or EBADF.
func lookup(fd int) (object, error) {
	table.mu.Lock()
	defer table.mu.Unlock()
	if fd < 0 || fd >= len(table.slots) || table.slots[fd].obj == nil {
		return nil, syscall.EBADF
	}
	return table.slots[fd].obj, nil
}

// Close releases fd. The object is closed when its last descriptor is.
func Close(fd int) error {
	table.mu.Lock()
	if fd < 0 || fd >= len(table.slots) || table.slots[fd].obj == nil {
		table.mu.Unlock()
		return syscall.EBADF
	}
	e := table.slots[fd]
	table.slots[fd] = entry{}
	*e.refs--
	last := *e.refs == 0
	table.mu.Unlock()
	if !last {
		return nil
	}
	return e.obj.close()
}

// Dup returns a new descriptor for the object fd refers to.
func Dup(fd int) (int, error) {
	table.mu.Lock()
	if fd < 0 || fd >= len(table.slots) || table.slots[fd].obj == nil {
		table.mu.Unlock()
		return -1, syscall.EBADF
	}
	e := table.slots[fd]
	*e.refs++
	table.mu.Unlock()
	return addEntry(e), nil
}

// Open reports how many descriptors are open (for tests and leak checks).
func Open() int {
	table.mu.Lock()
	defer table.mu.Unlock()
	n := 0
	for _, e := range table.slots {
		if e.obj != nil {
			n++
		}
	}
	return n
}

// Watch is one poller's registration of an object: it follows the object,
// not the number, so a descriptor closed and reused without Unwatch never
// reports the new object's readiness under the old registration.
type Watch struct {
	obj    object
	notify func()
}

// WatchFD starts telling notify whenever fd's readiness may have grown;
// notify must not block and may be called from any goroutine, including
// from inside this package's functions on the caller's own goroutine. A
// later WatchFD of the same object replaces it. read says whether the
// watcher wants to read: a listener or datagram socket watched without it
// takes nothing from the system, as Stop makes it too.
func WatchFD(fd int, read bool, notify func()) (*Watch, error) {
	obj, err := lookup(fd)
	if err != nil {
		return nil, err
	}
	obj.watch(notify, read)
	return &Watch{obj: obj, notify: notify}, nil
}

// Want changes whether the watcher wants to read.
func (w *Watch) Want(read bool) { w.obj.watch(w.notify, read) }

// Ready reports the watched object's readiness now.
func (w *Watch) Ready() Ready { return w.obj.ready() }

// Current reports whether fd still refers to the watched object. When it
// does not, the object was closed (and fd maybe reused), which removes a
// kernel poller's registration by itself.
func (w *Watch) Current(fd int) bool {
	obj, err := lookup(fd)
	return err == nil && obj == w.obj
}

// Stop removes the notification.
func (w *Watch) Stop() { w.obj.watch(nil, false) }

// Poll reports fd's readiness now.
func Poll(fd int) (Ready, error) {
	obj, err := lookup(fd)
	if err != nil {
		return 0, err
	}
	return obj.ready(), nil
}
