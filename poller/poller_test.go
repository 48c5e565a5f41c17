// The tests in files without a backend suffix are contract tests: they use
// only the poller API and the fd helpers (socketpair, mustWrite, closeFD,
// readAll, shutdownWrite) that every backend's test files provide, and must
// pass unchanged on every backend. On Linux `go test ./poller/` runs them
// against epoll, on macOS and the BSDs `go test ./poller/` runs them against
// kqueue, and `go test -tags evloop_portable ./poller/` against the portable
// backend. Files named *_epoll_test.go and *_kqueue_test.go test one
// backend's internals.

package poller

import (
	"errors"
	"os"
	"syscall"
	"testing"
)

func TestInterestTable(t *testing.T) {
	tests := []struct {
		name string
		// setup registers a (and may act on b) and returns what to expect for a.
		setup      func(t *testing.T, p *Poller, a, b int)
		wantEvent  bool
		mayEvent   bool   // the backend decides whether there is an event
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
				shutdownWrite(t, b)
			},
			wantEvent:  true,
			wantEvents: EventRead | EventReadHangup, notEvents: EventHangup,
		},
		{
			// Whether EventHangup comes too depends on the backend: epoll
			// reports it whatever the interest (hangup_epoll_test.go),
			// kqueue only through a watched write side.
			name: "peer closed: read hang-up",
			setup: func(t *testing.T, p *Poller, a, b int) {
				mustAdd(t, p, a, 7, Readable)
				closeFD(t, b)
			},
			wantEvent:  true,
			wantEvents: EventRead | EventReadHangup,
		},
		{
			name: "paused fd never reports data, even with the peer gone",
			setup: func(t *testing.T, p *Poller, a, b int) {
				mustAdd(t, p, a, 7, 0)
				mustWrite(t, b, []byte("x"))
				closeFD(t, b)
			},
			// epoll reports the hang-up, kqueue nothing until a side is
			// watched again; neither may report the unread data.
			mayEvent:  true,
			notEvents: EventRead | EventWrite,
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
			if ok != tc.wantEvent && !tc.mayEvent {
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

// TestOneEventPerFD: a readable and writable fd is one OnEvent call with
// both bits, not one per direction.
func TestOneEventPerFD(t *testing.T) {
	p := openPoller(t)
	a, b := socketpair(t)
	mustAdd(t, p, a, 3, Readable|Writable)
	mustWrite(t, b, []byte("x"))
	c, _ := waitOnce(t, p, 100)
	n := 0
	for _, ev := range c.events {
		if ev.FD != a {
			continue
		}
		n++
		if !ev.Events.Has(EventRead|EventWrite) || ev.Gen != 3 {
			t.Errorf("event %+v, want gen 3 with EventRead and EventWrite", ev)
		}
	}
	if n != 1 {
		t.Fatalf("%d events for the fd in %+v, want 1", n, c.events)
	}
}

// reuser is a handler that, on the first event of a batch, deletes and
// closes the other fd and opens a new socket that takes its number, as a
// loop does when it closes one connection and accepts another.
type reuser struct {
	t      *testing.T
	p      *Poller
	a, c   int
	acted  bool
	victim int
	reused bool
	events []Event
}

func (r *reuser) OnEvent(ev Event) {
	r.events = append(r.events, ev)
	if r.acted {
		return
	}
	r.acted = true
	r.victim = r.a
	if ev.FD == r.a {
		r.victim = r.c
	}
	if err := r.p.Del(r.victim); err != nil {
		r.t.Errorf("Del: %v", err)
	}
	closeFD(r.t, r.victim)
	fresh, _ := socketpair(r.t)
	if fresh != r.victim {
		return
	}
	r.reused = true
	mustAdd(r.t, r.p, fresh, 2, Readable|Writable)
}

// TestStaleGenerationWithinBatch: events already returned for an fd keep the
// generation they had when the kernel reported them, even when a handler
// earlier in the batch closed that fd and registered its number again.
func TestStaleGenerationWithinBatch(t *testing.T) {
	p := openPoller(t)
	a, peerA := socketpair(t)
	c, peerC := socketpair(t)
	mustAdd(t, p, a, 1, Readable|Writable)
	mustAdd(t, p, c, 1, Readable|Writable)
	mustWrite(t, peerA, []byte("x"))
	mustWrite(t, peerC, []byte("x"))
	r := &reuser{t: t, p: p, a: a, c: c}
	if _, err := p.Wait(100, r); err != nil {
		t.Fatal(err)
	}
	if !r.reused {
		t.Skipf("the number of fd %d was not reused", r.victim)
	}
	victimEvents := 0
	for _, ev := range r.events {
		if ev.FD == r.victim {
			victimEvents++
			if ev.Gen != 1 {
				t.Errorf("event %+v for the closed fd carries the new generation", ev)
			}
		}
	}
	if victimEvents == 0 {
		t.Fatalf("batch %+v has no event for fd %d, though both fds were ready", r.events, r.victim)
	}
	// The new registration reports with its own generation from now on.
	got, _ := waitOnce(t, p, 100)
	ev, ok := got.find(r.victim)
	if !ok || ev.Gen != 2 || !ev.Events.Has(EventWrite) {
		t.Fatalf("events %+v: want the reused fd writable with gen 2", got.events)
	}
}

// TestRegistrationErrors: misuse fails the same way on every backend, as an
// *os.SyscallError wrapping the errno epoll gives.
func TestRegistrationErrors(t *testing.T) {
	tests := []struct {
		name string
		run  func(p *Poller, a int) error
		want error
	}{
		{"double add", func(p *Poller, a int) error {
			if err := p.Add(a, 1, Readable); err != nil {
				return err
			}
			return p.Add(a, 1, Readable)
		}, syscall.EEXIST},
		{"mod of an unwatched fd", func(p *Poller, a int) error { return p.Mod(a, 1, Readable) }, syscall.ENOENT},
		{"del of an unwatched fd", func(p *Poller, a int) error { return p.Del(a) }, syscall.ENOENT},
		{"del twice", func(p *Poller, a int) error {
			if err := p.Add(a, 1, Readable); err != nil {
				return err
			}
			if err := p.Del(a); err != nil {
				return err
			}
			return p.Del(a)
		}, syscall.ENOENT},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := openPoller(t)
			a, _ := socketpair(t)
			err := tc.run(p, a)
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want one matching %v", err, tc.want)
			}
			var se *os.SyscallError
			if !errors.As(err, &se) {
				t.Fatalf("error %T %v is not an *os.SyscallError", err, err)
			}
		})
	}
	// Del frees the number for the next Add.
	p := openPoller(t)
	a, _ := socketpair(t)
	mustAdd(t, p, a, 1, Readable)
	if err := p.Del(a); err != nil {
		t.Fatal(err)
	}
	mustAdd(t, p, a, 2, Writable)
	c, _ := waitOnce(t, p, 100)
	if ev, ok := c.find(a); !ok || ev.Gen != 2 {
		t.Fatalf("events %+v: want fd %d re-added with gen 2", c.events, a)
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

// TestWakeAfterCloseReturnsErrClosed: once closed, the wake channel's
// numbers may be reused by any file; a late Wake reports ErrClosed and
// leaves whatever now has those numbers alone.
func TestWakeAfterCloseReturnsErrClosed(t *testing.T) {
	p, err := Open()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	// Take the freed numbers, as new connections would.
	a, b := socketpair(t)
	c, d := socketpair(t)
	if err := p.Wake(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Wake after Close: %v, want ErrClosed", err)
	}
	for _, fd := range []int{a, b, c, d} {
		if got := readAll(t, fd); len(got) != 0 {
			t.Fatalf("fd %d received %d stray bytes", fd, len(got))
		}
	}
}
