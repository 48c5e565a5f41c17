package store

import (
	"fmt"
	"testing"
	"time"
)

func TestSweep(t *testing.T) {
	s := New()
	const n = 10000
	for i := range n {
		at := int64(t0 + 10) // half expire at t0+10, half much later
		if i%2 == 1 {
			at = t0 + 1_000_000
		}
		set(s, fmt.Sprint("k", i), "v", SetArgs{At: at}, t0)
	}
	set(s, "forever", "v", SetArgs{}, t0)
	// Sweeping with two parts, as two loops would, until nothing more goes:
	// the sample stops once at most a quarter of it has expired, so a few
	// keys may stay for later calls.
	deleted := 0
	for range 100 {
		deleted += s.Sweep(0, 2, t0+11, time.Second)
		deleted += s.Sweep(1, 2, t0+11, time.Second)
	}
	st := s.Stats()
	if st.Expired != uint64(deleted) || deleted < n/2*9/10 || deleted > n/2 {
		t.Fatalf("deleted %d (stats %+v), want most of %d and none alive", deleted, st, n/2)
	}
	if st.Keys != n+1-deleted {
		t.Fatalf("%d keys left, want %d", st.Keys, n+1-deleted)
	}
	if st.AvgTTL < 900_000 || st.AvgTTL > 1_000_000 {
		t.Fatalf("AvgTTL %d, want about 1000000", st.AvgTTL)
	}
	if _, ok := get(s, "forever", t0+11); !ok {
		t.Fatal("the sweep deleted a key without expiry")
	}
	for i := 1; i < n; i += 2 {
		if _, ok := get(s, fmt.Sprint("k", i), t0+11); !ok {
			t.Fatalf("the sweep deleted k%d, which has time left", i)
		}
	}
}

func TestSweepBadParts(t *testing.T) {
	s := New()
	for _, tt := range []struct{ part, parts int }{{0, 0}, {-1, 2}, {2, 2}, {Shards, Shards + 1}} {
		if n := s.Sweep(tt.part, tt.parts, t0, time.Second); n != 0 {
			t.Errorf("Sweep(%d, %d) = %d", tt.part, tt.parts, n)
		}
	}
}

// TestSweepRebuildsShrunkMap: after a mass expiry, a shard's expires map is
// rebuilt, so that sampling does not walk empty slots forever.
func TestSweepRebuildsShrunkMap(t *testing.T) {
	s := New()
	sh := &s.shards[0]
	const n = minRebuild * 2
	for i := range n {
		e := sh.put([]byte(fmt.Sprint("k", i)), []byte("v"), nil)
		sh.setExpiry(e, t0+10)
	}
	// Bounded: each pass deletes up to sweepSample keys.
	for range n {
		if _, deleted, _ := sh.sweepOnce(t0 + 11); deleted == 0 {
			break
		}
	}
	if len(sh.expires) != 0 || len(sh.keys) != 0 || sh.peak >= minRebuild {
		t.Fatalf("%d keys, %d with a time, peak %d: not all swept, or not rebuilt", len(sh.keys), len(sh.expires), sh.peak)
	}
}
