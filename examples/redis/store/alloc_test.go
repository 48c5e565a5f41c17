//go:build !race

package store

import (
	"fmt"
	"runtime"
	"testing"
)

// The race detector instruments allocations, so these run only without it.

func TestZeroAllocs(t *testing.T) {
	s := New()
	key, val := []byte("key:000000000001"), []byte("xxx")
	set(s, string(key), string(val), SetArgs{}, t0)
	set(s, "counter", "1", SetArgs{}, t0)
	keys := make([][]byte, 10)
	for i := range keys {
		keys[i] = []byte(fmt.Sprint("key:", i))
		set(s, string(keys[i]), "value", SetArgs{}, t0)
	}
	set(s, "ttl", "v", SetArgs{At: t0 + 1000}, t0)
	out := make([]byte, 0, 4096)
	tests := []struct {
		name string
		run  func() bool
	}{
		{name: "Get hit", run: func() bool {
			var ok bool
			out, ok = s.Get(out[:0], key, t0, copyValue)
			return ok && string(out) == "xxx"
		}},
		{name: "Get miss", run: func() bool {
			_, ok := s.Get(out[:0], []byte("nope"), t0, copyValue)
			return !ok
		}},
		{name: "Set over a value of the same size", run: func() bool {
			_, existed, stored := s.Set(nil, key, val, SetArgs{}, t0, nil)
			return existed && stored
		}},
		{name: "Set GET", run: func() bool {
			var existed, stored bool
			out, existed, stored = s.Set(out[:0], key, val, SetArgs{}, t0, copyValue)
			return existed && stored && string(out) == "xxx"
		}},
		{name: "Set NX on a present key", run: func() bool {
			_, _, stored := s.Set(nil, key, val, SetArgs{Cond: IfAbsent}, t0, nil)
			return !stored
		}},
		{name: "IncrBy", run: func() bool {
			_, err := s.IncrBy([]byte("counter"), 1, t0)
			return err == nil
		}},
		{name: "GetMany of 10", run: func() bool {
			out = s.GetMany(out[:0], keys, t0, copyValue, missing)
			return len(out) == 50
		}},
		{name: "SetMany over 5 pairs", run: func() bool {
			s.SetMany(keys, t0)
			return true
		}},
		{name: "Exists", run: func() bool { return s.Exists(keys, t0) == 10 }},
		{name: "Delete missing", run: func() bool { return s.Delete([][]byte{[]byte("nope")}, t0) == 0 }},
		{name: "TTL", run: func() bool { return s.TTL([]byte("ttl"), t0) == 1000 }},
		{name: "Expire", run: func() bool { return s.Expire([]byte("ttl"), t0+1000, ExpireAlways, t0) }},
		{name: "Len", run: func() bool { return s.Len() > 0 }},
		{name: "Sweep", run: func() bool {
			s.Sweep(0, 2, t0, 1e9)
			return true
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok := true
			allocs := testing.AllocsPerRun(100, func() {
				ok = ok && tt.run()
			})
			if !ok {
				t.Fatal("unexpected result")
			}
			if allocs != 0 {
				t.Errorf("%v allocations per run, want 0", allocs)
			}
		})
	}
}

// TestSetAllocatesWhatItStores: a SET of a new key allocates the key's
// bytes, its entry and the value's bytes, nothing more. (AllocsPerRun
// rounds down: the check on bytes below catches the rest.) The maps were
// grown by earlier keys and emptied, as in a store in steady state, so
// that their growth is not counted.
func TestSetAllocatesWhatItStores(t *testing.T) {
	const n = 10000
	s := New()
	keys := make([][]byte, n)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "key:%012d", i) // 16 bytes
		set(s, string(keys[i]), "", SetArgs{}, t0)
	}
	s.Delete(keys, t0)
	val := make([]byte, 100)
	i := 0
	allocs := testing.AllocsPerRun(n-1, func() {
		s.Set(nil, keys[i], val, SetArgs{}, t0, nil)
		i++
	})
	if allocs != 3 {
		t.Errorf("%v allocations per SET of a new key, want 3: key, entry, value", allocs)
	}
	s.Delete(keys, t0)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for _, k := range keys {
		s.Set(nil, k, val, SetArgs{}, t0, nil)
	}
	runtime.ReadMemStats(&after)
	// Size classes: 16 for the key, 48 for the entry, 112 for 100 bytes.
	// The maps clean up after deletions now and then (a rehash in place),
	// which is why the bound has 2% of slack.
	const stored = 16 + 48 + 112
	per := float64(after.TotalAlloc-before.TotalAlloc) / n
	t.Logf("%.1f bytes allocated per SET of a 16-byte key and a 100-byte value (%d stored)", per, stored)
	if per > stored*1.02 {
		t.Errorf("%.1f bytes per SET, want at most %d", per, stored)
	}
}
