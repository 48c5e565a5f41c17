//go:build (darwin || dragonfly || freebsd || netbsd || openbsd) && !evloop_portable

package poller

import (
	"errors"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// countSignals makes wakeSignal count its calls until the test ends.
func countSignals(t *testing.T) *int {
	real := wakeSignal
	n := new(int)
	wakeSignal = func(w *wakeChannel, kq int) error { *n++; return real(w, kq) }
	t.Cleanup(func() { wakeSignal = real })
	return n
}

// TestKqueueWakesCoalesce counts wake signals through the seam.
func TestKqueueWakesCoalesce(t *testing.T) {
	p := openPoller(t)
	signals := countSignals(t)
	for i := 0; i < 100; i++ {
		if err := p.Wake(); err != nil {
			t.Fatal(err)
		}
	}
	if *signals != 1 {
		t.Fatalf("100 wakes signalled %d times, want 1", *signals)
	}
	if _, woken := waitOnce(t, p, 1000); !woken {
		t.Fatal("not woken")
	}
	if _, woken := waitOnce(t, p, 0); woken {
		t.Fatal("wake reported twice: the channel was not drained")
	}
	if err := p.Wake(); err != nil || *signals != 2 {
		t.Fatalf("a wake after the consumed one: signals=%d err=%v, want 2 signals", *signals, err)
	}
}

func TestKqueueWakeAfterCloseSignalsNothing(t *testing.T) {
	p, err := Open()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	signals := countSignals(t)
	if err := p.Wake(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Wake after Close: %v, want ErrClosed", err)
	}
	if *signals != 0 {
		t.Fatalf("Wake after Close signalled %d times", *signals)
	}
}

// TestKqueueFailedSignalResetsTheFlag: a Wake whose signal failed must not
// leave wakePending set, or every later Wake would be absorbed.
func TestKqueueFailedSignalResetsTheFlag(t *testing.T) {
	p := openPoller(t)
	real := wakeSignal
	defer func() { wakeSignal = real }()
	wakeSignal = func(*wakeChannel, int) error { return os.NewSyscallError("kevent", unix.EBADF) }
	if err := p.Wake(); !errors.Is(err, unix.EBADF) {
		t.Fatalf("Wake with a failing signal: %v, want EBADF", err)
	}
	wakeSignal = real
	if err := p.Wake(); err != nil {
		t.Fatal(err)
	}
	if _, woken := waitOnce(t, p, 1000); !woken {
		t.Fatal("a later wake did not get through")
	}
}
