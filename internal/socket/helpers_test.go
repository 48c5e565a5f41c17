//go:build linux && !evloop_portable

package socket

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

const ioTimeout = 5 * time.Second

// swapHook replaces a seam for one test and restores it in Cleanup. Tests in
// this package never run in parallel, so the swap cannot race a caller.
func swapHook[T any](tb testing.TB, hook *T, fake T) {
	tb.Helper()
	old := *hook
	*hook = fake
	tb.Cleanup(func() { *hook = old })
}

// countFDs returns the number of open descriptors of this process.
func countFDs(tb testing.TB) int {
	tb.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		tb.Skipf("cannot list /proc/self/fd: %v", err)
	}
	return len(ents)
}

// checkNoFDLeak records the descriptor count now and fails the test if it
// differs when the test's other cleanups have run. Call it first so its
// cleanup runs last.
func checkNoFDLeak(tb testing.TB) {
	tb.Helper()
	// The runtime opens its netpoller descriptors on first network use;
	// do that now so they are not mistaken for a leak.
	if ln, err := net.Listen("tcp", "127.0.0.1:0"); err == nil {
		ln.Close()
	}
	before := countFDs(tb)
	tb.Cleanup(func() {
		if after := countFDs(tb); after != before {
			tb.Errorf("open descriptors: %d before, %d after", before, after)
		}
	})
}

func skipWithoutIPv6(tb testing.TB) {
	tb.Helper()
	ln, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		tb.Skipf("IPv6 loopback unavailable: %v", err)
	}
	ln.Close()
}

func mustListen(tb testing.TB, network, address string, o Options) *Listener {
	tb.Helper()
	l, err := Listen(network, address, o)
	if err != nil {
		tb.Fatalf("Listen(%q, %q): %v", network, address, err)
	}
	tb.Cleanup(func() { l.Close() })
	return l
}

// socketPair returns a connected non-blocking stream pair closed at cleanup.
func socketPair(tb testing.TB) (a, b int) {
	tb.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		tb.Fatalf("socketpair: %v", err)
	}
	tb.Cleanup(func() {
		unix.Close(fds[0])
		unix.Close(fds[1])
	})
	return fds[0], fds[1]
}

// waitFD blocks until fd reports events or fails the test after ioTimeout.
func waitFD(tb testing.TB, fd int, events int16) {
	tb.Helper()
	deadline := time.Now().Add(ioTimeout)
	for time.Now().Before(deadline) {
		pfd := []unix.PollFd{{Fd: int32(fd), Events: events}}
		n, err := unix.Poll(pfd, int(time.Until(deadline)/time.Millisecond)+1)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			tb.Fatalf("poll fd %d: %v", fd, err)
		}
		if n > 0 {
			return
		}
	}
	tb.Fatalf("fd %d not ready for %#x within %v", fd, events, ioTimeout)
}

// readN reads exactly n bytes from the non-blocking fd with the real read(2),
// so it keeps working while a test has swapped ReadFunc.
func readN(tb testing.TB, fd, n int) []byte {
	tb.Helper()
	out := make([]byte, 0, n)
	buf := make([]byte, 64<<10)
	deadline := time.Now().Add(ioTimeout)
	for len(out) < n && time.Now().Before(deadline) {
		m, err := unix.Read(fd, buf[:min(len(buf), n-len(out))])
		switch {
		case errors.Is(err, unix.EAGAIN):
			waitFD(tb, fd, unix.POLLIN)
		case errors.Is(err, unix.EINTR):
		case err != nil:
			tb.Fatalf("read fd %d: %v", fd, err)
		case m == 0:
			tb.Fatalf("read fd %d: EOF after %d of %d bytes", fd, len(out), n)
		default:
			out = append(out, buf[:m]...)
		}
	}
	if len(out) < n {
		tb.Fatalf("read fd %d: %d of %d bytes within %v", fd, len(out), n, ioTimeout)
	}
	return out
}

// advance drops the first n bytes from bufs the way an engine's flush loop
// does after a short writev. bufs itself is not modified.
func advance(bufs [][]byte, n int) [][]byte {
	bufs = append([][]byte(nil), bufs...)
	for len(bufs) > 0 && n >= len(bufs[0]) {
		n -= len(bufs[0])
		bufs = bufs[1:]
	}
	if len(bufs) > 0 {
		bufs[0] = bufs[0][n:]
	}
	return bufs
}

func totalLen(bufs [][]byte) int {
	n := 0
	for _, b := range bufs {
		n += len(b)
	}
	return n
}

// writevAll is the caller loop the package expects: Writev, advance by n,
// wait on EAGAIN, retry EINTR, until nothing is left. It returns how many
// calls it made.
func writevAll(tb testing.TB, fd int, bufs [][]byte) int {
	tb.Helper()
	calls := 0
	for limit := 0; totalLen(bufs) > 0; limit++ {
		if limit > 100000 {
			tb.Fatalf("writev loop made no progress after %d calls", limit)
		}
		calls++
		n, err := Writev(fd, bufs)
		switch {
		case errors.Is(err, unix.EAGAIN):
			waitFD(tb, fd, unix.POLLOUT)
		case errors.Is(err, unix.EINTR):
		case err != nil:
			tb.Fatalf("writev: %v", err)
		case n <= 0:
			tb.Fatalf("writev returned %d with no error", n)
		default:
			bufs = advance(bufs, n)
		}
	}
	return calls
}

// acceptOne waits for a connection on l and accepts it through Accept,
// closing the new fd at cleanup.
func acceptOne(tb testing.TB, l *Listener) (int, netip.AddrPort) {
	tb.Helper()
	for range 100 {
		nfd, sa, err := Accept(l.FD)
		switch {
		case errors.Is(err, unix.EAGAIN):
			waitFD(tb, l.FD, unix.POLLIN)
		case errors.Is(err, unix.EINTR), errors.Is(err, unix.ECONNABORTED):
		case err != nil:
			tb.Fatalf("accept: %v", err)
		default:
			tb.Cleanup(func() { unix.Close(nfd) })
			return nfd, sa
		}
	}
	tb.Fatalf("accept: no connection after 100 attempts")
	return -1, netip.AddrPort{}
}

func dial(tb testing.TB, network, address string) net.Conn {
	tb.Helper()
	c, err := net.DialTimeout(network, address, ioTimeout)
	if err != nil {
		tb.Fatalf("dial %s %s: %v", network, address, err)
	}
	tb.Cleanup(func() { c.Close() })
	if err := c.SetDeadline(time.Now().Add(ioTimeout)); err != nil {
		tb.Fatalf("set deadline: %v", err)
	}
	return c
}

func getInt(tb testing.TB, fd, level, opt int) int {
	tb.Helper()
	v, err := unix.GetsockoptInt(fd, level, opt)
	if err != nil {
		tb.Fatalf("getsockopt(%d, %d): %v", level, opt, err)
	}
	return v
}

// pattern returns n deterministic bytes that differ at every offset modulo
// 251, so a reordered or dropped chunk shows up in a comparison.
func pattern(n, seed int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte((i + seed) % 251)
	}
	return b
}
