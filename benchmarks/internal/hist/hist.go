// Package hist is a fixed-size log-linear latency histogram: recording is
// an index computation and an increment, with no allocation, and every
// bucket is within about 3% of the values it holds.
package hist

import (
	"math/bits"
	"time"
)

const (
	subBits  = 5            // 32 sub-buckets per power of two: about 3% resolution
	sub      = 1 << subBits //
	linear   = 2 * sub      // values below this get a bucket each
	maxShift = 30           // top bucket starts at 2^35 ns, about 34 s
	// Buckets is the number of buckets.
	Buckets = linear + maxShift*sub
)

// Histogram counts durations. The zero value is ready to use. A Histogram
// is not safe for concurrent use: give each goroutine its own and Merge.
type Histogram struct {
	counts [Buckets]uint32
	n      uint64
	max    int64
}

// index returns the bucket of v nanoseconds.
func index(v uint64) int {
	if v < linear {
		return int(v)
	}
	shift := bits.Len64(v) - (subBits + 1)
	if shift > maxShift {
		return Buckets - 1
	}
	return linear + (shift-1)*sub + int(v>>shift) - sub
}

// upper returns the largest value bucket i holds.
func upper(i int) uint64 {
	if i < linear {
		return uint64(i)
	}
	shift := uint((i-linear)/sub + 1)
	top := uint64((i-linear)%sub + sub)
	return (top+1)<<shift - 1
}

// Record counts one duration; negative durations count as zero.
func (h *Histogram) Record(d time.Duration) {
	v := max(int64(d), 0)
	h.counts[index(uint64(v))]++
	h.n++
	h.max = max(h.max, v)
}

// Merge adds o's counts to h.
func (h *Histogram) Merge(o *Histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.max = max(h.max, o.max)
}

// Count returns the number of recorded durations.
func (h *Histogram) Count() uint64 { return h.n }

// Quantile returns an upper bound (within a bucket's width) of the q-th
// quantile, 0 <= q <= 1, or 0 when nothing was recorded.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q*float64(h.n) + 0.5)
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		seen += uint64(c)
		if seen >= rank {
			return time.Duration(min(upper(i), uint64(h.max)))
		}
	}
	return time.Duration(h.max)
}
