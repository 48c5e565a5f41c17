//go:build linux && !evloop_portable

package poller

import (
	"errors"
	"testing"

	"golang.org/x/sys/unix"
)

// TestEpollWakesCoalesce counts eventfd writes through the seam.
func TestEpollWakesCoalesce(t *testing.T) {
	p := openPoller(t)
	writes := 0
	eventfdWrite = func(fd int, b []byte) (int, error) { writes++; return unix.Write(fd, b) }
	defer func() { eventfdWrite = unix.Write }()
	for i := 0; i < 100; i++ {
		if err := p.Wake(); err != nil {
			t.Fatal(err)
		}
	}
	if writes != 1 {
		t.Fatalf("100 wakes wrote the eventfd %d times, want 1", writes)
	}
	if _, woken := waitOnce(t, p, 1000); !woken {
		t.Fatal("not woken")
	}
	if err := p.Wake(); err != nil || writes != 2 {
		t.Fatalf("a wake after the consumed one: writes=%d err=%v, want 2 writes", writes, err)
	}
}

// TestEpollWakeAfterCloseWritesNothing: once closed, the eventfd's number may be
// reused by any file; a late Wake must not write 8 bytes into it.
func TestEpollWakeAfterCloseWritesNothing(t *testing.T) {
	p, err := Open()
	if err != nil {
		t.Fatal(err)
	}
	wakefd := p.wakefd
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	// Take the freed number, as a new connection would.
	a, b := socketpair(t)
	if a != wakefd && b != wakefd {
		t.Logf("fd %d not reused (got %d, %d); checking the write count only", wakefd, a, b)
	}
	writes := 0
	eventfdWrite = func(fd int, buf []byte) (int, error) { writes++; return unix.Write(fd, buf) }
	defer func() { eventfdWrite = unix.Write }()
	if err := p.Wake(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Wake after Close: %v, want ErrClosed", err)
	}
	if writes != 0 {
		t.Fatalf("Wake after Close wrote %d times", writes)
	}
	buf := make([]byte, 16)
	for _, fd := range []int{a, b} {
		if n, err := unix.Read(fd, buf); err != unix.EAGAIN {
			t.Fatalf("fd %d received %d stray bytes (err %v)", fd, n, err)
		}
	}
}
