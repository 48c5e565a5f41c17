//go:build linux && !evloop_portable

package poller

import (
	"errors"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

func TestInterestTable(t *testing.T) {
	tests := []struct {
		name string
		// setup registers a (and may act on b) and returns what to expect for a.
		setup      func(t *testing.T, p *Poller, a, b int)
		wantEvent  bool
		wantEvents Events // every bit here must be set
		notEvents  Events // no bit here may be set
	}{
		{
			name:       "readable fd with data",
			setup:      func(t *testing.T, p *Poller, a, b int) { mustAdd(t, p, a, 7, Readable); mustWrite(t, b, []byte("x")) },
			wantEvent:  true,
			wantEvents: EventRead, notEvents: EventWrite,
		},
		{
			name:      "readable fd without data is silent",
			setup:     func(t *testing.T, p *Poller, a, b int) { mustAdd(t, p, a, 7, Readable) },
			wantEvent: false,
		},
		{
			name:       "readable+writable reports writable at once",
			setup:      func(t *testing.T, p *Poller, a, b int) { mustAdd(t, p, a, 7, Readable|Writable) },
			wantEvent:  true,
			wantEvents: EventWrite, notEvents: EventRead,
		},
		{
			name: "stop writable silences an idle fd",
			setup: func(t *testing.T, p *Poller, a, b int) {
				mustAdd(t, p, a, 7, Readable|Writable)
				mustMod(t, p, a, 7, Readable)
			},
			wantEvent: false,
		},
		{
			name: "paused reading ignores data",
			setup: func(t *testing.T, p *Poller, a, b int) {
				mustAdd(t, p, a, 7, Readable)
				mustMod(t, p, a, 7, 0)
				mustWrite(t, b, []byte("x"))
			},
			wantEvent: false,
		},
		{
			name: "resumed reading reports data that arrived while paused",
			setup: func(t *testing.T, p *Poller, a, b int) {
				mustAdd(t, p, a, 7, 0)
				mustWrite(t, b, []byte("x"))
				mustMod(t, p, a, 7, Readable)
			},
			wantEvent:  true,
			wantEvents: EventRead,
		},
		{
			name: "removed fd is silent",
			setup: func(t *testing.T, p *Poller, a, b int) {
				mustAdd(t, p, a, 7, Readable|Writable)
				if err := p.Del(a); err != nil {
					t.Fatal(err)
				}
				mustWrite(t, b, []byte("x"))
			},
			wantEvent: false,
		},
		{
			name: "peer shut down writing",
			setup: func(t *testing.T, p *Poller, a, b int) {
				mustAdd(t, p, a, 7, Readable)
				if err := unix.Shutdown(b, unix.SHUT_WR); err != nil {
					t.Fatal(err)
				}
			},
			wantEvent:  true,
			wantEvents: EventRead | EventReadHangup, notEvents: EventHangup,
		},
		{
			name: "peer closed: hangup",
			setup: func(t *testing.T, p *Poller, a, b int) {
				mustAdd(t, p, a, 7, Readable)
				if err := unix.Shutdown(b, unix.SHUT_RDWR); err != nil {
					t.Fatal(err)
				}
			},
			wantEvent:  true,
			wantEvents: EventRead | EventReadHangup | EventHangup,
		},
		{
			name: "hangup is reported even while paused",
			setup: func(t *testing.T, p *Poller, a, b int) {
				mustAdd(t, p, a, 7, 0)
				if err := unix.Shutdown(b, unix.SHUT_RDWR); err != nil {
					t.Fatal(err)
				}
			},
			wantEvent:  true,
			wantEvents: EventHangup, notEvents: EventRead,
		},
		{
			name: "generation set by Mod is reported",
			setup: func(t *testing.T, p *Poller, a, b int) {
				mustAdd(t, p, a, 7, Readable)
				mustMod(t, p, a, 7, Readable|Writable)
			},
			wantEvent:  true,
			wantEvents: EventWrite,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := openPoller(t)
			a, b := socketpair(t)
			tc.setup(t, p, a, b)
			c, woken := waitOnce(t, p, 50)
			if woken {
				t.Fatal("woken without a Wake")
			}
			ev, ok := c.find(a)
			if ok != tc.wantEvent {
				t.Fatalf("event for fd: got %v (%+v), want %v", ok, c.events, tc.wantEvent)
			}
			if !ok {
				return
			}
			if ev.Gen != 7 {
				t.Errorf("gen = %d, want 7", ev.Gen)
			}
			if !ev.Events.Has(tc.wantEvents) {
				t.Errorf("events = %05b, want all of %05b", ev.Events, tc.wantEvents)
			}
			if ev.Events&tc.notEvents != 0 {
				t.Errorf("events = %05b, want none of %05b", ev.Events, tc.notEvents)
			}
		})
	}
}

func mustAdd(tb testing.TB, p *Poller, fd int, gen uint32, in Interest) {
	tb.Helper()
	if err := p.Add(fd, gen, in); err != nil {
		tb.Fatalf("Add: %v", err)
	}
}

func mustMod(tb testing.TB, p *Poller, fd int, gen uint32, in Interest) {
	tb.Helper()
	if err := p.Mod(fd, gen, in); err != nil {
		tb.Fatalf("Mod: %v", err)
	}
}

// TestStaleGeneration reproduces fd reuse: the old registration survives a
// close because a duplicate of its file is still open, the fd number is
// reused by a new socket registered with a new generation, and an event for
// the old file arrives carrying the old generation.
func TestStaleGeneration(t *testing.T) {
	p := openPoller(t)
	a, peerA := socketpair(t)
	mustAdd(t, p, a, 1, Readable)
	dupA, err := unix.Dup(a)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(dupA)
	reused := a
	if err := unix.Close(a); err != nil {
		t.Fatal(err)
	}
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fds[0])
	defer unix.Close(fds[1])
	if fds[0] != reused {
		t.Skipf("kernel did not reuse fd %d (got %d)", reused, fds[0])
	}
	mustAdd(t, p, fds[0], 2, Readable)

	mustWrite(t, peerA, []byte("for the old connection"))
	c, _ := waitOnce(t, p, 100)
	current := map[int]uint32{reused: 2}
	var stale, fresh int
	for _, ev := range c.events {
		if ev.FD != reused {
			continue
		}
		if ev.Gen != current[ev.FD] {
			stale++
		} else {
			fresh++
		}
	}
	if stale != 1 || fresh != 0 {
		t.Fatalf("events %+v: want exactly one stale (gen 1) and no current one", c.events)
	}

	mustWrite(t, fds[1], []byte("for the new connection"))
	c, _ = waitOnce(t, p, 100)
	fresh = 0
	for _, ev := range c.events {
		if ev.FD == reused && ev.Gen == 2 {
			fresh++
		}
	}
	if fresh != 1 {
		t.Fatalf("events %+v: want one event with the current generation", c.events)
	}
}

func TestEventArrayGrowsAndShrinks(t *testing.T) {
	p := openPoller(t)
	const pairs = 200 // 200 readable fds > minEvents
	for i := 0; i < pairs; i++ {
		a, b := socketpair(t)
		mustAdd(t, p, a, uint32(i), Readable)
		mustWrite(t, b, []byte("x"))
	}
	c, _ := waitOnce(t, p, 100)
	if len(c.events) != minEvents {
		t.Fatalf("first Wait returned %d events, want a full array of %d", len(c.events), minEvents)
	}
	if len(p.events) != 2*minEvents {
		t.Fatalf("array is %d after a full Wait, want %d", len(p.events), 2*minEvents)
	}
	c, _ = waitOnce(t, p, 100)
	if len(c.events) != pairs {
		t.Fatalf("second Wait returned %d events, want all %d", len(c.events), pairs)
	}
	// Quiet waits: a long run of them gives the memory back.
	p2 := openPoller(t)
	p2.events = make([]unix.EpollEvent, 4*minEvents)
	for i := 0; i < shrinkAfter; i++ {
		waitOnce(t, p2, 0)
	}
	if len(p2.events) != 2*minEvents {
		t.Fatalf("array is %d after %d idle waits, want %d", len(p2.events), shrinkAfter, 2*minEvents)
	}
	for i := 0; i < 4*shrinkAfter; i++ {
		waitOnce(t, p2, 0)
	}
	if len(p2.events) != minEvents {
		t.Fatalf("array is %d, want the floor %d", len(p2.events), minEvents)
	}
}

func TestWakeFromAnotherGoroutine(t *testing.T) {
	p := openPoller(t)
	errc := make(chan error, 1)
	go func() { errc <- p.Wake() }()
	c, woken := waitOnce(t, p, 5000)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if !woken || len(c.events) != 0 {
		t.Fatalf("woken=%v events=%+v, want a bare wake", woken, c.events)
	}
	// Consumed: the next poll is quiet.
	if _, woken := waitOnce(t, p, 0); woken {
		t.Fatal("wake reported twice")
	}
}

func TestWakesCoalesce(t *testing.T) {
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

func TestSyscallFaults(t *testing.T) {
	realCtl, realWait, realWrite, realRead := epollCtl, epollWait, eventfdWrite, eventfdRead
	restore := func() { epollCtl, epollWait, eventfdWrite, eventfdRead = realCtl, realWait, realWrite, realRead }
	defer restore()

	errnoCtl := func(errno unix.Errno) func(int, int, int, unix.EpollEvent) error {
		return func(int, int, int, unix.EpollEvent) error { return errno }
	}
	tests := []struct {
		name  string
		run   func(t *testing.T, p *Poller, a int) error
		want  error // errors.Is target; nil means success expected
		check func(t *testing.T, p *Poller)
	}{
		{name: "add EEXIST", want: unix.EEXIST, run: func(t *testing.T, p *Poller, a int) error {
			epollCtl = errnoCtl(unix.EEXIST)
			return p.Add(a, 1, Readable)
		}},
		{name: "mod ENOENT", want: unix.ENOENT, run: func(t *testing.T, p *Poller, a int) error {
			epollCtl = errnoCtl(unix.ENOENT)
			return p.Mod(a, 1, Readable)
		}},
		{name: "del EBADF", want: unix.EBADF, run: func(t *testing.T, p *Poller, a int) error {
			epollCtl = errnoCtl(unix.EBADF)
			return p.Del(a)
		}},
		{name: "real EEXIST on a double add", want: unix.EEXIST, run: func(t *testing.T, p *Poller, a int) error {
			mustAdd(t, p, a, 1, Readable)
			return p.Add(a, 1, Readable)
		}},
		{name: "real ENOENT on mod of an unwatched fd", want: unix.ENOENT, run: func(t *testing.T, p *Poller, a int) error {
			return p.Mod(a, 1, Readable)
		}},
		{name: "epoll_wait EINTR is a quiet return", run: func(t *testing.T, p *Poller, a int) error {
			epollWait = func(int, []unix.EpollEvent, int) (int, error) { return 0, unix.EINTR }
			woken, err := p.Wait(-1, &collector{})
			if woken {
				t.Error("woken by EINTR")
			}
			return err
		}},
		{name: "epoll_wait EBADF is reported", want: unix.EBADF, run: func(t *testing.T, p *Poller, a int) error {
			epollWait = func(int, []unix.EpollEvent, int) (int, error) { return 0, unix.EBADF }
			_, err := p.Wait(-1, &collector{})
			return err
		}},
		{name: "eventfd write EINTR is retried", run: func(t *testing.T, p *Poller, a int) error {
			calls := 0
			eventfdWrite = func(fd int, b []byte) (int, error) {
				calls++
				if calls == 1 {
					return 0, unix.EINTR
				}
				return realWrite(fd, b)
			}
			return p.Wake()
		}, check: func(t *testing.T, p *Poller) {
			if _, woken := waitOnce(t, p, 1000); !woken {
				t.Error("wake lost after EINTR")
			}
		}},
		{name: "eventfd write EAGAIN means already pending", run: func(t *testing.T, p *Poller, a int) error {
			eventfdWrite = func(int, []byte) (int, error) { return 0, unix.EAGAIN }
			return p.Wake()
		}, check: func(t *testing.T, p *Poller) {
			if p.wakePending.Load() != 1 {
				t.Error("EAGAIN cleared the pending flag")
			}
		}},
		{name: "eventfd write EBADF resets the flag", want: unix.EBADF, run: func(t *testing.T, p *Poller, a int) error {
			eventfdWrite = func(int, []byte) (int, error) { return 0, unix.EBADF }
			return p.Wake()
		}, check: func(t *testing.T, p *Poller) {
			eventfdWrite = realWrite
			if err := p.Wake(); err != nil {
				t.Fatal(err)
			}
			if _, woken := waitOnce(t, p, 1000); !woken {
				t.Error("a later wake did not get through")
			}
		}},
		{name: "eventfd read EINTR is retried and drains", run: func(t *testing.T, p *Poller, a int) error {
			calls := 0
			eventfdRead = func(fd int, b []byte) (int, error) {
				calls++
				if calls == 1 {
					return 0, unix.EINTR
				}
				return realRead(fd, b)
			}
			if err := p.Wake(); err != nil {
				return err
			}
			if _, woken := waitOnce(t, p, 1000); !woken {
				t.Error("not woken")
			}
			return nil
		}, check: func(t *testing.T, p *Poller) {
			if _, woken := waitOnce(t, p, 0); woken {
				t.Error("eventfd not drained after EINTR")
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			defer restore()
			p := openPoller(t)
			a, _ := socketpair(t)
			err := tc.run(t, p, a)
			switch {
			case tc.want == nil && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tc.want != nil && !errors.Is(err, tc.want):
				t.Fatalf("error %v, want one matching %v", err, tc.want)
			case tc.want != nil:
				var se *os.SyscallError
				if !errors.As(err, &se) {
					t.Fatalf("error %T %v is not an *os.SyscallError", err, err)
				}
			}
			restore()
			if tc.check != nil {
				tc.check(t, p)
			}
		})
	}
}

func TestOpenFailsCleanly(t *testing.T) {
	defer func() { epollCtl = ctl }()
	before := countFDs(t)
	epollCtl = func(int, int, int, unix.EpollEvent) error { return unix.ENOMEM }
	if _, err := Open(); !errors.Is(err, unix.ENOMEM) {
		t.Fatalf("Open with failing epoll_ctl: %v", err)
	}
	if after := countFDs(t); after != before {
		t.Fatalf("fds: %d before, %d after a failed Open", before, after)
	}
}

func countFDs(tb testing.TB) int {
	tb.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		tb.Skipf("no /proc/self/fd: %v", err)
	}
	return len(ents)
}

// TestWakeAfterCloseWritesNothing: once closed, the eventfd's number may be
// reused by any file; a late Wake must not write 8 bytes into it.
func TestWakeAfterCloseWritesNothing(t *testing.T) {
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
