package ringbuffer

import (
	"fmt"
	"testing"
)

func BenchmarkWritePeekDiscard(b *testing.B) {
	for _, size := range []int{64, 4 << 10, 64 << 10} {
		b.Run(sizeName(size), func(b *testing.B) {
			msg := pattern(0, size)
			var r Ring
			defer r.Release()
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				r.Write(msg)
				head, tail := r.Peek(size)
				r.Discard(len(head) + len(tail))
			}
			if r.Buffered() != 0 {
				b.Fatalf("%d bytes left after balanced writes and discards", r.Buffered())
			}
		})
	}
}

// BenchmarkWrapAround keeps a backlog in the ring so that the 1000-byte
// messages regularly straddle the end of its 4 KiB memory.
func BenchmarkWrapAround(b *testing.B) {
	const size = 1000
	msg := pattern(0, size)
	var r Ring
	defer r.Release()
	r.Write(pattern(0, 2*size))
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		r.Write(msg)
		head, tail := r.Peek(size)
		r.Discard(len(head) + len(tail))
	}
	if r.Buffered() != 2*size {
		b.Fatalf("backlog is %d bytes, want %d", r.Buffered(), 2*size)
	}
}

// BenchmarkGrowRelease grows a ring from nothing to 64 KiB in 1 KiB writes,
// then gives it back: each op takes and returns one chunk per size class.
func BenchmarkGrowRelease(b *testing.B) {
	msg := pattern(0, 1<<10)
	var r Ring
	b.SetBytes(64 << 10)
	b.ReportAllocs()
	for b.Loop() {
		for range 64 {
			r.Write(msg)
		}
		r.Release()
	}
	if r.Cap() != 0 {
		b.Fatalf("Cap() = %d after Release", r.Cap())
	}
}

func sizeName(n int) string {
	if n >= 1<<10 {
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprintf("%dB", n)
}
