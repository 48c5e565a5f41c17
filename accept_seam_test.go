//go:build linux && !evloop_portable

package evloop

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/evloop/evloop/internal/socket"
)

// tbFaultyAccept replaces socket.Accept4Func for one test: the first
// emfile calls fail with pause (a back-off error: EMFILE, ENFILE, ENOBUFS
// or ENOMEM), the next three with ECONNABORTED, EINTR and EPROTO, and the
// rest reach the real accept4. The test's cleanup restores the real
// function after the engine has stopped.
type tbFaultyAccept struct {
	emfile int64
	pause  unix.Errno
	calls  atomic.Int64
}

func tbInstallFaultyAccept(tb testing.TB, emfile int, pause unix.Errno) *tbFaultyAccept {
	tb.Helper()
	f := &tbFaultyAccept{emfile: int64(emfile), pause: pause}
	real := socket.Accept4Func
	socket.Accept4Func = func(fd int, flags int) (int, netip.AddrPort, error) {
		n := f.calls.Add(1)
		switch {
		case n <= f.emfile:
			return -1, netip.AddrPort{}, f.pause
		case n == f.emfile+1:
			return -1, netip.AddrPort{}, unix.ECONNABORTED
		case n == f.emfile+2:
			return -1, netip.AddrPort{}, unix.EINTR
		case n == f.emfile+3:
			return -1, netip.AddrPort{}, unix.EPROTO
		}
		return real(fd, flags)
	}
	tb.Cleanup(func() { socket.Accept4Func = real })
	return f
}

// TestAcceptTransientErrorsSeam injects accept failures through the
// accept4 syscall seam (Linux's; darwin and OpenBSD accept differently): every one is survived, EMFILE, ENFILE, ENOBUFS and ENOMEM are
// counted as back-offs, and the connection that was waiting is served.
func TestAcceptTransientErrorsSeam(t *testing.T) {
	tests := []struct {
		name   string
		emfile int        // calls failing with pause before the retryable errors
		pause  unix.Errno // EMFILE when zero
		opts   []Option
	}{
		{name: "acceptor", emfile: 3, opts: []Option{WithLoops(2)}},
		{name: "reuseport", emfile: 3, opts: []Option{WithLoops(1), WithReusePort(true)}},
		{name: "no EMFILE", emfile: 0, opts: []Option{WithLoops(1)}},
		{name: "acceptor ENFILE", emfile: 2, pause: unix.ENFILE, opts: []Option{WithLoops(2)}},
		{name: "acceptor ENOMEM", emfile: 2, pause: unix.ENOMEM, opts: []Option{WithLoops(2)}},
		{name: "acceptor ENOBUFS", emfile: 1, pause: unix.ENOBUFS, opts: []Option{WithLoops(2)}},
		{name: "reuseport ENFILE", emfile: 2, pause: unix.ENFILE, opts: []Option{WithLoops(1), WithReusePort(true)}},
		{name: "reuseport ENOMEM", emfile: 2, pause: unix.ENOMEM, opts: []Option{WithLoops(1), WithReusePort(true)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Installed first so that it is restored after the engine stops.
			pause := tt.pause
			if pause == 0 {
				pause = unix.EMFILE
			}
			fault := tbInstallFaultyAccept(t, tt.emfile, pause)
			opts := append([]Option{WithLogger(tbQuietLogger())}, tt.opts...)
			s := startEngine(t, echoHandler{}, "tcp://127.0.0.1:0", opts...)
			start := time.Now()
			c := s.dial(t)
			if err := tbEcho(c, []byte("through the faults"), 10*time.Second); err != nil {
				t.Fatalf("first client: %v", err)
			}
			t.Logf("served after %v and %d accept calls", time.Since(start).Round(time.Millisecond), fault.calls.Load())
			if got, want := fault.calls.Load(), int64(tt.emfile+4); got < want {
				t.Errorf("accept4 called %d times, want at least %d", got, want)
			}
			st := s.eng.Stats()
			if st.AcceptBackoffs < uint64(tt.emfile) {
				t.Errorf("Stats().AcceptBackoffs = %d, want at least %d", st.AcceptBackoffs, tt.emfile)
			}
			if tt.emfile == 0 && st.AcceptBackoffs != 0 {
				t.Errorf("Stats().AcceptBackoffs = %d after only retryable errors, want 0", st.AcceptBackoffs)
			}
			if st.Accepted != 1 {
				t.Errorf("Stats().Accepted = %d, want 1", st.Accepted)
			}
			select {
			case err := <-s.errc:
				s.errc = nil
				t.Fatalf("Run returned %v after accept errors", err)
			default:
			}
			// The engine still accepts.
			var wg sync.WaitGroup
			errs := make(chan error, 4)
			for i := 0; i < 4; i++ {
				c := s.dial(t)
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs <- tbEcho(c, []byte(fmt.Sprintf("later %d", i)), 10*time.Second)
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Errorf("later client: %v", err)
				}
			}
			if got := s.eng.Stats().Accepted; got != 5 {
				t.Errorf("Stats().Accepted = %d, want 5", got)
			}
		})
	}
}

// TestErrorShapeAcceptSeam: the error an accept back-off is logged with is a
// *net.OpError for "accept" on the listener's network and address,
// wrapping the accept4 *os.SyscallError. The failure is injected through
// Linux's accept4 seam.
func TestErrorShapeAcceptSeam(t *testing.T) {
	tbInstallFaultyAccept(t, 1, syscall.EMFILE)
	rec := &tbLogRecorder{}
	s := startEngine(t, echoHandler{}, "tcp://127.0.0.1:0", WithLoops(1), WithLogger(slog.New(rec)))
	if err := tbEcho(s.dial(t), []byte("after the back-off"), 10*time.Second); err != nil {
		t.Fatal(err)
	}
	s.stop(t)
	errs := rec.errs("evloop: accept failed; backing off")
	if len(errs) == 0 {
		t.Fatalf("no accept back-off was logged; records: %v", rec.messages())
	}
	for _, err := range errs {
		tbCheckOpError(t, err, "accept", "tcp", s.addr.String())
		var se *os.SyscallError
		if !errors.As(err, &se) || se.Syscall != "accept4" || !errors.Is(err, syscall.EMFILE) {
			t.Errorf("logged error %v does not wrap accept4's EMFILE as an *os.SyscallError", err)
		}
	}
}
