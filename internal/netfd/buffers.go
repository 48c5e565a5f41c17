package netfd

import "sync"

// Stream buffers come from pools by size class and go back when they are
// drained, so an idle stream holds none and a busy one reuses the same
// memory turn after turn instead of allocating a buffer per burst.
var bufferClasses = [...]int{512, 4 << 10, 16 << 10, 64 << 10, 256 << 10, 1 << 20}

var bufferPools [len(bufferClasses)]sync.Pool

// getBuffer returns an empty buffer with room for at least n bytes (or the
// largest class).
func getBuffer(n int) *[]byte {
	for i, c := range bufferClasses {
		if n <= c || i == len(bufferClasses)-1 {
			if b, ok := bufferPools[i].Get().(*[]byte); ok {
				return b
			}
			b := make([]byte, 0, max(c, n))
			return &b
		}
	}
	panic("unreachable")
}

// putBuffer gives b back for reuse; its holder must drop every slice of it.
func putBuffer(b *[]byte) {
	for i, c := range bufferClasses {
		if cap(*b) == c {
			*b = (*b)[:0]
			bufferPools[i].Put(b)
			return
		}
	}
}

// appendPooled appends p to the buffer *owner holds (b being its current
// contents), moving to a larger pooled buffer when b has no room. The old
// buffer goes back to its pool only when reusable says no one else may
// still read it.
func appendPooled(owner **[]byte, b, p []byte, reusable bool) []byte {
	if *owner == nil || len(b)+len(p) > cap(b) {
		nb := getBuffer(len(b) + len(p))
		*nb = append((*nb)[:0], b...)
		if old := *owner; old != nil && reusable {
			putBuffer(old)
		}
		*owner = nb
		b = *nb
	}
	return append(b, p...)
}
