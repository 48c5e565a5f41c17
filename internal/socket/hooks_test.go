//go:build linux && !evloop_portable

package socket

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"
)

// The tests below swap one seam each to show that the wrappers pass
// injected results through untouched and that the caller loops this package
// expects recover from them without losing or reordering bytes.

func TestAcceptSeamTransientErrors(t *testing.T) {
	checkNoFDLeak(t)
	l := mustListen(t, "tcp", "127.0.0.1:0", Options{})
	injected := []error{unix.EMFILE, unix.ECONNABORTED}
	var gotFlags []int
	real := Accept4Func
	swapHook(t, &Accept4Func, func(fd, flags int) (int, netip.AddrPort, error) {
		gotFlags = append(gotFlags, flags)
		if len(injected) > 0 {
			err := injected[0]
			injected = injected[1:]
			return -1, netip.AddrPort{}, err
		}
		return real(fd, flags)
	})
	c := dial(t, "tcp", l.Addr.String())
	waitFD(t, l.FD, unix.POLLIN)

	var seen []error
	nfd := -1
	var sa netip.AddrPort
	for i := 0; nfd < 0 && i < 10; i++ {
		fd, s, err := Accept(l.FD)
		switch {
		case errors.Is(err, unix.EMFILE), errors.Is(err, unix.ECONNABORTED):
			seen = append(seen, err)
		case err != nil:
			t.Fatalf("Accept: %v", err)
		default:
			nfd, sa = fd, s
		}
	}
	if nfd < 0 {
		t.Fatal("Accept never returned the pending connection")
	}
	defer unix.Close(nfd)
	if want := []error{unix.EMFILE, unix.ECONNABORTED}; fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Fatalf("errors seen = %v, want %v", seen, want)
	}
	for _, f := range gotFlags {
		if f != unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC {
			t.Fatalf("Accept4Func flags = %#x, want SOCK_NONBLOCK|SOCK_CLOEXEC", f)
		}
	}
	if got, want := sa, netip.MustParseAddrPort(c.LocalAddr().String()); got != want {
		t.Fatalf("accepted peer %v, want %v", got, want)
	}
}

func TestReadSeamEINTR(t *testing.T) {
	checkNoFDLeak(t)
	a, b := socketPair(t)
	interrupts := 2
	real := ReadFunc
	swapHook(t, &ReadFunc, func(fd int, p []byte) (int, error) {
		if interrupts > 0 {
			interrupts--
			return 0, unix.EINTR
		}
		return real(fd, p)
	})
	msg := []byte("after the signal")
	if _, err := unix.Write(a, msg); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	var eintrs, n int
	for i := 0; n == 0 && i < 10; i++ {
		m, err := Read(b, buf)
		switch {
		case errors.Is(err, unix.EINTR):
			eintrs++
		case err != nil:
			t.Fatalf("Read: %v", err)
		default:
			n = m
		}
	}
	if eintrs != 2 || !bytes.Equal(buf[:n], msg) {
		t.Fatalf("read %q after %d EINTRs, want %q after 2", buf[:n], eintrs, msg)
	}
}

func TestWriteSeamShortThenEAGAIN(t *testing.T) {
	checkNoFDLeak(t)
	a, b := socketPair(t)
	var results []string
	call := 0
	real := WriteFunc
	swapHook(t, &WriteFunc, func(fd int, p []byte) (int, error) {
		call++
		switch call {
		case 1:
			n, err := real(fd, p[:len(p)/3])
			results = append(results, fmt.Sprintf("short %d of %d", n, len(p)))
			return n, err
		case 2:
			results = append(results, "EAGAIN")
			return 0, unix.EAGAIN
		}
		return real(fd, p)
	})
	msg := pattern(999, 7)
	p := msg
	for i := 0; len(p) > 0 && i < 10; i++ {
		n, err := Write(a, p)
		switch {
		case errors.Is(err, unix.EAGAIN):
			waitFD(t, a, unix.POLLOUT)
		case err != nil:
			t.Fatalf("Write: %v", err)
		default:
			p = p[n:]
		}
	}
	if want := []string{"short 333 of 999", "EAGAIN"}; fmt.Sprint(results) != fmt.Sprint(want) {
		t.Fatalf("injected results %v, want %v", results, want)
	}
	if len(p) != 0 || call != 3 {
		t.Fatalf("%d bytes left after %d calls, want 0 after 3", len(p), call)
	}
	if got := readN(t, b, len(msg)); !bytes.Equal(got, msg) {
		t.Fatal("peer received bytes that differ from those written")
	}
}

func TestWritevSeamShort(t *testing.T) {
	checkNoFDLeak(t)
	a, b := socketPair(t)
	real := WritevFunc
	var sizes []int
	swapHook(t, &WritevFunc, func(fd int, bufs [][]byte) (int, error) {
		// Take at most 5 bytes of the first buffer: short on every call.
		first := bufs[0]
		n, err := real(fd, [][]byte{first[:min(len(first), 5)]})
		sizes = append(sizes, n)
		return n, err
	})
	bufs := [][]byte{[]byte("abcdefgh"), []byte("ij"), []byte("klmnopqrstu")}
	want := bytes.Join(bufs, nil)
	calls := writevAll(t, a, bufs)
	if calls != len(sizes) || calls != 6 {
		t.Fatalf("caller loop made %d calls (sizes %v), want 6 short writes", calls, sizes)
	}
	if got := readN(t, b, len(want)); !bytes.Equal(got, want) {
		t.Fatalf("peer received %q, want %q", got, want)
	}
	if !bytes.Equal(bytes.Join(bufs, nil), want) {
		t.Fatal("the caller loop modified the caller's buffers")
	}
}

func TestCloseSeamCountsListenerClose(t *testing.T) {
	checkNoFDLeak(t)
	var closed []int
	real := CloseFunc
	swapHook(t, &CloseFunc, func(fd int) error {
		closed = append(closed, fd)
		return real(fd)
	})
	l, err := Listen("tcp", "127.0.0.1:0", Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := l.Close(); err != nil {
			t.Fatalf("Close #%d: %v", i+1, err)
		}
	}
	if len(closed) != 1 || closed[0] != l.FD {
		t.Fatalf("CloseFunc calls = %v, want exactly one for fd %d", closed, l.FD)
	}

	a, _ := socketPair(t)
	dup, err := unix.Dup(a)
	if err != nil {
		t.Fatal(err)
	}
	if err := Close(dup); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if len(closed) != 2 || closed[1] != dup {
		t.Fatalf("CloseFunc calls = %v, want the wrapper's call for fd %d", closed, dup)
	}
}

func TestCloseSeamErrorReported(t *testing.T) {
	checkNoFDLeak(t)
	real := CloseFunc
	swapHook(t, &CloseFunc, func(fd int) error {
		real(fd)
		return unix.EIO
	})
	l, err := Listen("tcp", "127.0.0.1:0", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); !errors.Is(err, unix.EIO) {
		t.Fatalf("Close error = %v, want EIO", err)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("second Close = %v, want nil", err)
	}
}

func TestSocketSeamEMFILE(t *testing.T) {
	tests := []struct {
		name    string
		network string
		address func(testing.TB) string
	}{
		{name: "tcp", network: "tcp", address: func(testing.TB) string { return "127.0.0.1:0" }},
		{name: "udp", network: "udp", address: func(testing.TB) string { return "127.0.0.1:0" }},
		{name: "unix", network: "unix", address: func(tb testing.TB) string { return tb.TempDir() + "/e.sock" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkNoFDLeak(t)
			calls := 0
			swapHook(t, &SocketFunc, func(domain, typ, proto int) (int, error) {
				calls++
				return -1, unix.EMFILE
			})
			l, err := Listen(tt.network, tt.address(t), Options{})
			if !errors.Is(err, unix.EMFILE) {
				t.Fatalf("Listen = (%v, %v), want EMFILE", l, err)
			}
			if calls != 1 {
				t.Fatalf("SocketFunc called %d times, want 1", calls)
			}
		})
	}
}

// TestSocketSeamStaleProbeEMFILE covers the unix liveness probe: running out
// of descriptors there must fail Listen and must not remove the file.
func TestSocketSeamStaleProbeEMFILE(t *testing.T) {
	checkNoFDLeak(t)
	path := t.TempDir() + "/p.sock"
	staleSocket(t, path)
	swapHook(t, &SocketFunc, func(domain, typ, proto int) (int, error) { return -1, unix.EMFILE })
	if _, err := Listen("unix", path, Options{}); !errors.Is(err, unix.EMFILE) {
		t.Fatalf("Listen error = %v, want EMFILE", err)
	}
	if !isSocketFile(t, path) {
		t.Fatal("stale socket removed although the probe never ran")
	}
}

func TestShutdownSeam(t *testing.T) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fds[0])
	defer unix.Close(fds[1])
	var calls []int
	ShutdownFunc = func(fd, how int) error {
		calls = append(calls, how)
		return unix.Shutdown(fd, how)
	}
	defer func() { ShutdownFunc = unix.Shutdown }()
	if err := ShutdownWrite(fds[0]); err != nil {
		t.Fatal(err)
	}
	if len(calls) != 1 || calls[0] != unix.SHUT_WR {
		t.Fatalf("shutdown calls %v, want one SHUT_WR", calls)
	}
	buf := make([]byte, 1)
	if n, err := unix.Read(fds[1], buf); n != 0 || err != nil {
		t.Fatalf("peer read after SHUT_WR: n=%d err=%v, want EOF", n, err)
	}
	if _, err := unix.Write(fds[1], []byte("x")); err != nil {
		t.Fatalf("the shut-down side must still read: peer write failed: %v", err)
	}
	if n, err := unix.Read(fds[0], buf); n != 1 || err != nil {
		t.Fatalf("read after SHUT_WR: n=%d err=%v", n, err)
	}
}
