//go:build linux && !evloop_portable

package poller

import (
	"errors"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// TestEpollSyscallFaults injects errors through the syscall seams; the
// errors a real kernel gives for misuse are in TestRegistrationErrors.
func TestEpollSyscallFaults(t *testing.T) {
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

func TestEpollOpenFailsCleanly(t *testing.T) {
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

// setEventArray gives p an epoll event array of n entries.
func setEventArray(p *Poller, n int) { p.events = make([]unix.EpollEvent, n) }
