//go:build !race

package ringbuffer

import "testing"

// These tests are excluded under -race because sync.Pool drops items at
// random there, which would turn pool reuse into allocations.

func TestZeroAllocs(t *testing.T) {
	msg := pattern(0, 700)
	tests := []struct {
		name  string
		warm  func(testing.TB, *Ring)
		cycle func(*Ring)
	}{
		{
			name: "Write, Peek, Discard after growth",
			warm: func(tb testing.TB, r *Ring) { mustWrite(tb, r, pattern(0, 3000)) },
			cycle: func(r *Ring) {
				r.Write(msg)
				r.WriteString("tail")
				head, tail := r.Peek(len(msg))
				r.Discard(len(head) + len(tail) + 4)
			},
		},
		{
			name: "Release then re-Write of the same size class",
			warm: func(tb testing.TB, r *Ring) { mustWrite(tb, r, pattern(0, 3000)) },
			cycle: func(r *Ring) {
				r.Release()
				r.Write(msg)
				r.Write(msg)
				r.Write(msg)
			},
		},
		{
			name: "growth through several classes, then Release",
			warm: func(testing.TB, *Ring) {},
			cycle: func(r *Ring) {
				for range 16 {
					r.Write(msg)
				}
				r.Release()
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Ring
			tt.warm(t, &r)
			// AllocsPerRun runs cycle once before measuring, which fills the
			// pools this cycle draws from.
			if got := testing.AllocsPerRun(100, func() { tt.cycle(&r) }); got > 0 {
				t.Errorf("%.1f allocations per cycle, want 0", got)
			}
			r.Release()
		})
	}
}
