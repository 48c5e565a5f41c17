//go:build !race

package queue

import (
	"testing"
	"time"
)

func TestPushDrainAllocatesNothing(t *testing.T) {
	q := New[task](nopWaker{}, 1024, time.Second)
	r := &countRunner{}
	cycle := func() {
		for j := 0; j < 64; j++ {
			_ = q.Push(task{seq: j})
		}
		q.Drain(r)
	}
	cycle() // grow both slices once
	cycle()
	if n := testing.AllocsPerRun(100, cycle); n != 0 {
		t.Fatalf("push+drain of 64 tasks allocated %.1f times, want 0", n)
	}
}
