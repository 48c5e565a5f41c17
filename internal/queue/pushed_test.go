package queue

import (
	"sync"
	"testing"
)

// TestPushed: Pushed counts every accepted task, from any goroutine, never
// goes down when tasks are drained, and does not count refused pushes.
func TestPushed(t *testing.T) {
	q := New[task](newChanWaker(), 0, 0)
	const producers, each = 4, 500
	var wg sync.WaitGroup
	for p := 0; p < producers; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				if err := q.Push(task{producer: p, seq: i}); err != nil {
					t.Errorf("Push: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if n := q.Pushed(); n != producers*each {
		t.Fatalf("Pushed = %d after %d pushes", n, producers*each)
	}
	for {
		if _, more := q.Drain(&recorder{}); !more {
			break
		}
	}
	if n := q.Pushed(); n != producers*each {
		t.Errorf("Pushed = %d after draining, want it unchanged at %d", n, producers*each)
	}
	q.Close()
	if err := q.Push(task{}); err == nil {
		t.Fatal("Push after Close succeeded")
	}
	if n := q.Pushed(); n != producers*each {
		t.Errorf("Pushed = %d after a refused push, want %d", n, producers*each)
	}
}
