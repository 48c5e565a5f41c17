//go:build (linux || darwin || dragonfly || freebsd || netbsd || openbsd) && !evloop_portable

package poller

import (
	"errors"
	"sync"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// The fd helpers the contract tests use; every backend's test files provide
// the same ones.

// testFDs maps each fd a helper opened to a token, so that the cleanup of an
// fd that closeFD already closed leaves alone whatever reuses its number.
var testFDs = struct {
	sync.Mutex
	next  uint64
	token map[int]uint64
}{token: map[int]uint64{}}

// socketpair returns a connected non-blocking stream pair, closed at
// cleanup unless the test closes an end first with closeFD. SOCK_NONBLOCK
// and SOCK_CLOEXEC do not exist on macOS, hence the separate calls.
func socketpair(tb testing.TB) (a, b int) {
	tb.Helper()
	syscall.ForkLock.RLock()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err == nil {
		unix.CloseOnExec(fds[0])
		unix.CloseOnExec(fds[1])
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		tb.Fatalf("socketpair: %v", err)
	}
	for _, fd := range fds {
		track(tb, fd)
		if err := unix.SetNonblock(fd, true); err != nil {
			tb.Fatalf("set non-blocking: %v", err)
		}
	}
	return fds[0], fds[1]
}

func track(tb testing.TB, fd int) {
	testFDs.Lock()
	testFDs.next++
	token := testFDs.next
	testFDs.token[fd] = token
	testFDs.Unlock()
	tb.Cleanup(func() {
		testFDs.Lock()
		mine := testFDs.token[fd] == token
		if mine {
			delete(testFDs.token, fd)
		}
		testFDs.Unlock()
		if mine {
			unix.Close(fd)
		}
	})
}

// closeFD closes an fd made by socketpair now, freeing its number for reuse.
func closeFD(tb testing.TB, fd int) {
	tb.Helper()
	testFDs.Lock()
	delete(testFDs.token, fd)
	testFDs.Unlock()
	if err := unix.Close(fd); err != nil {
		tb.Fatalf("close %d: %v", fd, err)
	}
}

func mustWrite(tb testing.TB, fd int, p []byte) {
	tb.Helper()
	if n, err := unix.Write(fd, p); err != nil || n != len(p) {
		tb.Fatalf("write: n=%d err=%v", n, err)
	}
}

// readAll returns what fd has buffered, without blocking.
func readAll(tb testing.TB, fd int) []byte {
	tb.Helper()
	var got []byte
	buf := make([]byte, 4096)
	for {
		n, err := unix.Read(fd, buf)
		switch {
		case errors.Is(err, unix.EAGAIN) || (err == nil && n == 0):
			return got
		case errors.Is(err, unix.EINTR):
		case err != nil:
			tb.Fatalf("read %d: %v", fd, err)
		default:
			got = append(got, buf[:n]...)
		}
	}
}

// shutdownWrite sends the peer a FIN: fd's writing side is shut down.
func shutdownWrite(tb testing.TB, fd int) {
	tb.Helper()
	if err := unix.Shutdown(fd, unix.SHUT_WR); err != nil {
		tb.Fatalf("shutdown %d: %v", fd, err)
	}
}
