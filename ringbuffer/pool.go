package ringbuffer

import (
	"math/bits"
	"sync"
)

const (
	// minClass is log2(MinCap): the size class of the smallest chunk.
	minClass = 10

	// maxPooledClass is log2 of the largest pooled chunk (64 MiB). Bigger
	// chunks are rare and would pin a lot of memory in a pool, so they go
	// straight to the garbage collector when released.
	maxPooledClass = 26
)

// chunk wraps a ring's memory. Pooling the *chunk rather than the []byte
// lets sync.Pool.Put store a plain pointer in its interface value, so giving
// memory back never allocates. A Ring keeps the wrapper while it owns the
// memory.
type chunk struct {
	b []byte
}

// pools holds one sync.Pool per power-of-two size from MinCap up to
// 1<<maxPooledClass. The zero sync.Pool is ready to use, so no init is needed,
// and the pools hold nothing but idle memory.
var pools [maxPooledClass - minClass + 1]sync.Pool

// sizeClass returns the index into pools for a power-of-two size >= MinCap.
// Sizes above the pooled range yield an index >= len(pools).
func sizeClass(size int) int {
	return bits.Len(uint(size)) - 1 - minClass
}

// getChunk returns a chunk of exactly size bytes; size must be a power of
// two >= MinCap. The contents are arbitrary: the ring only reads bytes it
// wrote.
func getChunk(size int) *chunk {
	if i := sizeClass(size); i < len(pools) {
		if c, ok := pools[i].Get().(*chunk); ok {
			return c
		}
	}
	return &chunk{b: make([]byte, size)}
}

// putChunk gives c back for reuse; the caller must drop every reference to it.
func putChunk(c *chunk) {
	if i := sizeClass(len(c.b)); i < len(pools) {
		pools[i].Put(c)
	}
}

// capFor returns the capacity to allocate for need bytes: the next power of
// two >= need, at least MinCap. need must be <= MaxCap.
func capFor(need int) int {
	if need <= MinCap {
		return MinCap
	}
	return 1 << bits.Len(uint(need-1))
}
