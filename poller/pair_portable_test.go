//go:build evloop_portable || !(linux || darwin || dragonfly || freebsd || netbsd || openbsd)

package poller

import (
	"errors"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/evloop/evloop/internal/netfd"
)

// The fd helpers the contract tests use, over the emulated descriptors of
// package netfd: the same names every backend's test files provide.

// socketpair returns a connected pair of emulated stream descriptors over
// loopback TCP, closed at cleanup unless the test closes an end first with
// closeFD.
func socketpair(tb testing.TB) (a, b int) {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("listen: %v", err)
	}
	defer ln.Close()
	type accepted struct {
		c   net.Conn
		err error
	}
	ch := make(chan accepted, 1)
	go func() {
		c, err := ln.Accept()
		ch <- accepted{c, err}
	}()
	ca, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		tb.Fatalf("dial: %v", err)
	}
	r := <-ch
	if r.err != nil {
		ca.Close()
		tb.Fatalf("accept: %v", r.err)
	}
	a, b = netfd.Adopt(ca), netfd.Adopt(r.c)
	track(tb, a)
	track(tb, b)
	testFDs.Lock()
	testFDs.peer[a], testFDs.peer[b] = b, a
	testFDs.Unlock()
	return a, b
}

// peerOf returns the other end of fd's pair, or -1 once either is closed.
func peerOf(fd int) int {
	testFDs.Lock()
	defer testFDs.Unlock()
	if p, ok := testFDs.peer[fd]; ok {
		return p
	}
	return -1
}

// arrive waits until cond holds for the peer: a socketpair's write and
// shutdown reach the peer before they return, and the contract tests rely
// on that, while an emulated stream's bytes and FIN travel through
// goroutines and loopback TCP first.
func arrive(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			tb.Fatalf("%s did not reach the peer within 5s", what)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// testFDs maps each fd a helper opened to a token, so that the cleanup of an
// fd that closeFD already closed leaves alone whatever reuses its number.
var testFDs = struct {
	sync.Mutex
	next  uint64
	token map[int]uint64
	peer  map[int]int // the other end of each open pair
}{token: map[int]uint64{}, peer: map[int]int{}}

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
			forget(fd)
		}
		testFDs.Unlock()
		if mine {
			netfd.Close(fd)
		}
	})
}

// forget drops fd from testFDs, which is locked.
func forget(fd int) {
	delete(testFDs.token, fd)
	if p, ok := testFDs.peer[fd]; ok {
		delete(testFDs.peer, p)
		delete(testFDs.peer, fd)
	}
}

// closeFD closes an fd made by socketpair now, freeing its number for reuse.
func closeFD(tb testing.TB, fd int) {
	tb.Helper()
	testFDs.Lock()
	forget(fd)
	testFDs.Unlock()
	if err := netfd.Close(fd); err != nil {
		tb.Fatalf("close %d: %v", fd, err)
	}
}

// readAll returns what fd has buffered, without blocking.
func readAll(tb testing.TB, fd int) []byte {
	tb.Helper()
	var got []byte
	buf := make([]byte, 4096)
	for {
		n, err := netfd.Read(fd, buf)
		switch {
		case errors.Is(err, syscall.EAGAIN) || (err == nil && n == 0):
			return got
		case err != nil:
			tb.Fatalf("read %d: %v", fd, err)
		default:
			got = append(got, buf[:n]...)
		}
	}
}

// mustWrite writes p to fd and returns once the peer has it.
func mustWrite(tb testing.TB, fd int, p []byte) {
	tb.Helper()
	peer := peerOf(fd)
	before := netfd.Unread(peer)
	if n, err := netfd.Write(fd, p); err != nil || n != len(p) {
		tb.Fatalf("write: n=%d err=%v", n, err)
	}
	if peer >= 0 {
		arrive(tb, "a write", func() bool { return netfd.Unread(peer) >= before+len(p) })
	}
}

// shutdownWrite sends the peer a FIN: fd's writing side is shut down.
func shutdownWrite(tb testing.TB, fd int) {
	tb.Helper()
	if err := netfd.ShutdownWrite(fd); err != nil {
		tb.Fatalf("shutdown: %v", err)
	}
	if peer := peerOf(fd); peer >= 0 {
		arrive(tb, "a FIN", func() bool {
			r, err := netfd.Poll(peer)
			return err != nil || r&netfd.ReadHangup != 0
		})
	}
}
