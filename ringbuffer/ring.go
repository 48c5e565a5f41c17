package ringbuffer

import "io"

const (
	// MinCap is the smallest capacity a Ring allocates. Every capacity is a
	// power of two, so positions are found by masking instead of dividing.
	MinCap = 1024

	// MaxCap is the most bytes a Ring will hold; writes past it fail with
	// ErrTooLarge. Staying below 2^31 keeps w-r exact in the uint32 counters.
	MaxCap = 1 << 30
)

// maxEmptyReads bounds how many (0, nil) results ReadFrom accepts in a row
// before giving up with io.ErrNoProgress, so a broken reader cannot spin it.
const maxEmptyReads = 100

// Ring is a growable byte ring with a single owner.
//
// A Ring is NOT safe for concurrent use: in evloop each connection's rings are
// used only by the loop goroutine that owns the connection. The zero value is
// an empty ring holding no memory. Memory is taken from a pool on the first
// write and given back by Release; Read, Discard and WriteTo keep it when they
// empty the ring, so a busy connection does not churn the pool.
//
// A Ring must not be copied after first use: the copy would share, and later
// double-release, the same memory.
type Ring struct {
	_ noCopy

	c *chunk // nil while the ring holds no memory

	// r and w count bytes read and written. They only grow (modulo 2^32)
	// until the ring empties, so w-r is the byte count and r == w means
	// empty even when the ring is full. Positions are r&mask and w&mask,
	// which is sound because every capacity divides 2^32.
	r, w uint32
}

var (
	_ io.ReadWriter   = (*Ring)(nil)
	_ io.StringWriter = (*Ring)(nil)
	_ io.WriterTo     = (*Ring)(nil)
	_ io.ReaderFrom   = (*Ring)(nil)
)

// Buffered returns the number of bytes held. Owner goroutine only.
func (r *Ring) Buffered() int { return int(r.w - r.r) }

// Cap returns the size of the memory the ring owns, 0 or a power of two.
// Owner goroutine only.
func (r *Ring) Cap() int {
	if r.c == nil {
		return 0
	}
	return len(r.c.b)
}

// Available returns how many bytes can be written without growing.
// Owner goroutine only.
func (r *Ring) Available() int { return r.Cap() - r.Buffered() }

// IsEmpty reports whether the ring holds no bytes. Owner goroutine only.
func (r *Ring) IsEmpty() bool { return r.r == r.w }

// Reset drops the content but keeps the memory for the next write.
// Owner goroutine only. Slices from Peek become invalid.
func (r *Ring) Reset() { r.r, r.w = 0, 0 }

// Release drops the content and gives the memory back to the pool, so an idle
// connection holds none; afterwards Cap is 0. Owner goroutine only. Slices
// from Peek must not be used afterwards: the memory may already belong to
// another ring.
func (r *Ring) Release() {
	if r.c != nil {
		putChunk(r.c)
		r.c = nil
	}
	r.r, r.w = 0, 0
}

// Write appends all of p, growing the ring as needed, and returns len(p).
// It is all-or-nothing: if the result would exceed MaxCap it writes nothing
// and returns 0, ErrTooLarge. Owner goroutine only; p is not retained.
func (r *Ring) Write(p []byte) (int, error) {
	return write(r, p)
}

// WriteString is Write for a string, without converting it to a []byte.
// Owner goroutine only.
func (r *Ring) WriteString(s string) (int, error) {
	return write(r, s)
}

func write[T string | []byte](r *Ring, p T) (int, error) {
	n := len(p)
	if n == 0 {
		return 0, nil
	}
	if err := r.reserve(n); err != nil {
		return 0, err
	}
	b := r.c.b
	at := int(r.w) & (len(b) - 1)
	// reserve guaranteed room, so whatever does not fit before the end of
	// the memory fits at its start.
	if m := copy(b[at:], p); m < n {
		copy(b, p[m:])
	}
	r.w += uint32(n)
	return n, nil
}

// Read copies up to len(p) bytes into p and consumes them, like
// bytes.Buffer.Read: it returns io.EOF when the ring is empty and len(p) > 0,
// and (0, nil) when len(p) == 0. Owner goroutine only.
func (r *Ring) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if r.IsEmpty() {
		return 0, io.EOF
	}
	head, tail := r.Peek(len(p))
	n := copy(p, head)
	n += copy(p[n:], tail)
	r.advance(n)
	return n, nil
}

// Peek returns the first min(n, Buffered()) bytes (all of them when n < 0)
// without consuming them. They come as two slices because the content may
// wrap around the end of the memory: head holds the first bytes and tail,
// empty unless the content wraps, the rest. Nothing is copied, which is what
// lets a caller hand both slices to writev instead of doing
//
//	buf := make([]byte, n)
//	r.Read(buf)
//
// The slices alias the ring: they are valid until the next call that mutates
// it (Write, Read, Discard, WriteTo, ReadFrom, Reset, Release) and must not be
// written to. Owner goroutine only.
func (r *Ring) Peek(n int) (head, tail []byte) {
	if buffered := r.Buffered(); n < 0 || n > buffered {
		n = buffered
	}
	if n == 0 {
		return nil, nil
	}
	b := r.c.b
	at := int(r.r) & (len(b) - 1)
	end := at + n
	// Full slice expressions stop an append on a result from overwriting
	// the bytes that follow it in the ring.
	if end <= len(b) {
		return b[at:end:end], nil
	}
	end -= len(b)
	return b[at:len(b):len(b)], b[:end:end]
}

// Discard consumes min(n, Buffered()) bytes and returns how many it dropped.
// Asking for more than is buffered is not an error. A negative n returns
// 0, ErrNegativeCount. Owner goroutine only.
func (r *Ring) Discard(n int) (int, error) {
	if n < 0 {
		return 0, ErrNegativeCount
	}
	n = min(n, r.Buffered())
	r.advance(n)
	return n, nil
}

// WriteTo writes the content to w, head then tail, and consumes what w took.
// On an error or a short write the unwritten bytes stay buffered; a short
// write without an error is reported as io.ErrShortWrite. It implements
// io.WriterTo. Owner goroutine only; w must not retain the slices it is given.
func (r *Ring) WriteTo(w io.Writer) (int64, error) {
	var total int64
	// At most two slices: after the head is consumed the tail becomes the head.
	for range 2 {
		head, _ := r.Peek(-1)
		if len(head) == 0 {
			break
		}
		n, err := w.Write(head)
		if n < 0 || n > len(head) {
			return total, ErrInvalidWrite
		}
		r.advance(n)
		total += int64(n)
		if err != nil {
			return total, err
		}
		if n < len(head) {
			return total, io.ErrShortWrite
		}
	}
	return total, nil
}

// ReadFrom reads from rd into the ring's free space, growing it as needed,
// until rd returns io.EOF, which is not reported. It implements
// io.ReaderFrom. It stops with ErrTooLarge once MaxCap bytes are buffered,
// and with io.ErrNoProgress if rd keeps returning no data and no error.
// Bytes read before an error stay buffered. A full ring grows before the
// next read even if that read only reports io.EOF, since it needs room to
// read into. Owner goroutine only.
func (r *Ring) ReadFrom(rd io.Reader) (int64, error) {
	var total int64
	empty := 0
	// Each pass adds at least one byte (bounded by MaxCap) or counts
	// towards maxEmptyReads, so the loop ends.
	for empty < maxEmptyReads {
		if err := r.reserve(1); err != nil {
			return total, err
		}
		b := r.c.b
		at := int(r.w) & (len(b) - 1)
		free := b[at:min(len(b), at+r.Available())]
		n, err := rd.Read(free)
		if n < 0 || n > len(free) {
			return total, ErrInvalidRead
		}
		r.w += uint32(n)
		total += int64(n)
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
		if n == 0 {
			empty++
		} else {
			empty = 0
		}
	}
	return total, io.ErrNoProgress
}

// advance consumes n <= Buffered() bytes. Rewinding to 0 when the ring
// empties makes the next write contiguous.
func (r *Ring) advance(n int) {
	r.r += uint32(n)
	if r.r == r.w {
		r.r, r.w = 0, 0
	}
}

// reserve makes room for n more bytes, growing to the next power of two
// that holds the content plus n. The content is copied to the start of the
// new memory so it is contiguous again, and the old memory goes back to the
// pool.
func (r *Ring) reserve(n int) error {
	if r.Available() >= n {
		return nil
	}
	buffered := r.Buffered()
	if !fits(buffered, n) {
		return ErrTooLarge
	}
	c := getChunk(capFor(buffered + n))
	head, tail := r.Peek(-1)
	m := copy(c.b, head)
	copy(c.b[m:], tail)
	if r.c != nil {
		putChunk(r.c)
	}
	r.c = c
	r.r, r.w = 0, uint32(buffered)
	return nil
}

// fits reports whether n more bytes can join buffered ones without passing
// MaxCap. It is written to be overflow-free for any n >= 0.
func fits(buffered, n int) bool {
	return n <= MaxCap-buffered
}

// noCopy makes go vet's copylocks check flag copies of a Ring.
type noCopy struct{}

// Lock is a no-op used only by go vet's copylocks check.
func (*noCopy) Lock() {}

// Unlock is a no-op used only by go vet's copylocks check.
func (*noCopy) Unlock() {}
