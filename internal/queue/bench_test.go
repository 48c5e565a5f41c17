package queue

import (
	"testing"
	"time"
)

type nopWaker struct{}

func (nopWaker) Wake() error { return nil }

type countRunner struct{ n int }

func (c *countRunner) RunTask(t *task) { c.n += t.seq }

// BenchmarkPushDrain measures the owner's side of a batch of 64 tasks: what
// a loop pays per async job, excluding the wake syscall.
func BenchmarkPushDrain(b *testing.B) {
	q := New[task](nopWaker{}, 1024, time.Second)
	r := &countRunner{}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		for j := 0; j < 64; j++ {
			_ = q.Push(task{seq: j})
		}
		q.Drain(r)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*64), "ns/task")
}

// BenchmarkPushContended has every P pushing while one goroutine drains.
func BenchmarkPushContended(b *testing.B) {
	w := newChanWaker()
	q := New[task](w, 0, 0)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		r := &countRunner{}
		for {
			select {
			case <-w.c:
				for {
					if _, more := q.Drain(r); !more {
						break
					}
				}
			case <-stop:
				return
			}
		}
	}()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_ = q.Push(task{seq: 1})
		}
	})
	close(stop)
	<-done
}
