package store

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
)

// The parallel benchmarks are what a server with one goroutine per core
// does to the store; compare them with BenchmarkOneLockParallel, the same
// GET behind a single lock, to see what sharding buys.

func benchKeys(n int) [][]byte {
	keys := make([][]byte, n)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "key:%012d", i)
	}
	return keys
}

func BenchmarkGet(b *testing.B) {
	s := New()
	keys := benchKeys(1024)
	for _, k := range keys {
		set(s, string(k), "xxx", SetArgs{}, t0)
	}
	out := make([]byte, 0, 64)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		out, _ = s.Get(out[:0], keys[i&1023], t0, copyValue)
		i++
	}
}

func BenchmarkGetParallel(b *testing.B) {
	s := New()
	keys := benchKeys(1024)
	for _, k := range keys {
		set(s, string(k), "xxx", SetArgs{}, t0)
	}
	var seq atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		out := make([]byte, 0, 64)
		i := int(seq.Add(1) * 7919)
		for pb.Next() {
			out, _ = s.Get(out[:0], keys[i&1023], t0, copyValue)
			i++
		}
	})
}

func BenchmarkSetParallel(b *testing.B) {
	s := New()
	keys := benchKeys(1024)
	val := []byte("xxx")
	var seq atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := int(seq.Add(1) * 7919)
		for pb.Next() {
			s.Set(nil, keys[i&1023], val, SetArgs{}, t0, nil)
			i++
		}
	})
}

func BenchmarkIncrParallel(b *testing.B) {
	s := New()
	keys := benchKeys(1024)
	var seq atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := int(seq.Add(1) * 7919)
		for pb.Next() {
			if _, err := s.IncrBy(keys[i&1023], 1, t0); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}

// BenchmarkOneLockParallel is GetParallel with every key behind one lock.
func BenchmarkOneLockParallel(b *testing.B) {
	var mu sync.RWMutex
	m := make(map[string][]byte)
	keys := benchKeys(1024)
	for _, k := range keys {
		m[string(k)] = []byte("xxx")
	}
	var seq atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		out := make([]byte, 0, 64)
		i := int(seq.Add(1) * 7919)
		for pb.Next() {
			mu.RLock()
			out = append(out[:0], m[string(keys[i&1023])]...)
			mu.RUnlock()
			i++
		}
	})
}
