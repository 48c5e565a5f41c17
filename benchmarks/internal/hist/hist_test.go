package hist

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestIndexIsMonotonicAndUpperBounds(t *testing.T) {
	prev := 0
	for v := uint64(0); v < 1<<22; v += 1 + v/1000 {
		i := index(v)
		if i < prev {
			t.Fatalf("index(%d) = %d < %d", v, i, prev)
		}
		if upper(i) < v || (i > 0 && upper(i-1) >= v) {
			t.Fatalf("v=%d in bucket %d with upper %d (previous upper %d)", v, i, upper(i), upper(i-1))
		}
		prev = i
	}
	if got := index(1 << 62); got != Buckets-1 {
		t.Fatalf("index(2^62) = %d, want the last bucket %d", got, Buckets-1)
	}
}

func TestQuantileWithinResolution(t *testing.T) {
	var h, a, b Histogram
	r := rand.New(rand.NewPCG(1, 2))
	vals := make([]time.Duration, 100000)
	for i := range vals {
		vals[i] = time.Duration(r.ExpFloat64() * float64(50*time.Microsecond))
		if i%2 == 0 {
			a.Record(vals[i])
		} else {
			b.Record(vals[i])
		}
	}
	h.Merge(&a)
	h.Merge(&b)
	slices.Sort(vals)
	for _, q := range []float64{0.5, 0.99, 0.999, 1} {
		exact := vals[int(q*float64(len(vals)-1))]
		got := h.Quantile(q)
		if got < exact*96/100 || got > exact*104/100 {
			t.Errorf("q%v = %v, exact %v", q, got, exact)
		}
	}
	if h.Count() != uint64(len(vals)) {
		t.Fatalf("count %d", h.Count())
	}
}

func TestRecordDoesNotAllocate(t *testing.T) {
	var h Histogram
	if n := testing.AllocsPerRun(100, func() { h.Record(time.Millisecond) }); n != 0 {
		t.Fatalf("%v allocations per Record", n)
	}
}
