//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows || evloop_portable

package evloop

// Each loop keeps its timers in one 4-ary min-heap keyed by deadline. Every
// entry stores its own index, so moving a deadline is one sift (O(log n),
// no allocation) and removal needs no search; the loop's wait timeout is the
// root's deadline, so no iteration looks at more than the entries that are
// due. A 4-ary heap rather than a binary one: half the depth, and the four
// children of a node sit next to each other in memory. A hierarchical wheel
// would make arming O(1), but it cascades and rounds deadlines to its tick;
// with deadlines that mostly move later without touching the heap (see
// connTime) the heap's O(log n) is paid rarely.

// timerKind says what a due entry is for.
type timerKind uint8

const (
	timerUser     timerKind = iota + 1 // a *Timer (AfterFunc, Every)
	timerConn                          // a connection's deadlines, idle timeout and linger
	timerListener                      // a reuseport listener's accept back-off
	timerTick                          // OnTick, on loop 0
	timerDial                          // a connect's timeout (c is the dialing conn)
)

// timerEntry is one item of a loop's heap. Loop only.
type timerEntry struct {
	when int64 // loop clock (ns since the engine started)
	idx  int32 // position in the heap; -1 when not in it
	kind timerKind
	// The owner, by kind.
	t  *Timer
	c  *conn
	ln *listener
}

// timerHeap is a 4-ary min-heap of entries by when. Loop only.
type timerHeap struct{ items []*timerEntry }

func (h *timerHeap) len() int { return len(h.items) }

// peek returns the earliest entry, or nil.
func (h *timerHeap) peek() *timerEntry {
	if len(h.items) == 0 {
		return nil
	}
	return h.items[0]
}

// set puts e in the heap with deadline when, or moves it there if it is in
// already.
func (h *timerHeap) set(e *timerEntry, when int64) {
	if e.idx < 0 {
		e.when = when
		e.idx = int32(len(h.items))
		h.items = append(h.items, e)
		h.up(int(e.idx))
		return
	}
	old := e.when
	e.when = when
	if when < old {
		h.up(int(e.idx))
	} else {
		h.down(int(e.idx))
	}
}

// remove takes e out of the heap, if it is in.
func (h *timerHeap) remove(e *timerEntry) {
	i := int(e.idx)
	if i < 0 {
		return
	}
	last := len(h.items) - 1
	if i != last {
		h.swap(i, last)
	}
	h.items[last] = nil
	h.items = h.items[:last]
	e.idx = -1
	if i != last {
		h.down(i)
		h.up(i)
	}
	if cap(h.items) > 1024 && len(h.items) < cap(h.items)/8 {
		// After a burst, give most of the slice back.
		h.items = append([]*timerEntry(nil), h.items...)
	}
}

// filter keeps the entries keep approves and restores the heap order:
// O(n), for sweeping many dead entries at once.
func (h *timerHeap) filter(keep func(e *timerEntry) bool) {
	kept := h.items[:0]
	for _, e := range h.items {
		if keep(e) {
			e.idx = int32(len(kept))
			kept = append(kept, e)
		} else {
			e.idx = -1
		}
	}
	clear(h.items[len(kept):])
	h.items = kept
	for i := (len(kept) - 2) / 4; i >= 0; i-- {
		h.down(i)
	}
}

func (h *timerHeap) swap(i, j int) {
	h.items[i], h.items[j] = h.items[j], h.items[i]
	h.items[i].idx = int32(i)
	h.items[j].idx = int32(j)
}

func (h *timerHeap) up(i int) {
	for i > 0 {
		p := (i - 1) / 4
		if h.items[p].when <= h.items[i].when {
			return
		}
		h.swap(i, p)
		i = p
	}
}

func (h *timerHeap) down(i int) {
	n := len(h.items)
	for {
		first := 4*i + 1
		if first >= n {
			return
		}
		least := first
		for c := first + 1; c < first+4 && c < n; c++ {
			if h.items[c].when < h.items[least].when {
				least = c
			}
		}
		if h.items[i].when <= h.items[least].when {
			return
		}
		h.swap(i, least)
		i = least
	}
}
