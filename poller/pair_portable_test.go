//go:build evloop_portable || !(linux || darwin || dragonfly || freebsd || netbsd || openbsd)

package poller

import (
	"net"
	"testing"

	"github.com/evloop/evloop/internal/netfd"
)

// socketpair returns a connected pair of emulated stream descriptors over
// loopback TCP, closed at cleanup.
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
	tb.Cleanup(func() {
		netfd.Close(a)
		netfd.Close(b)
	})
	return a, b
}

func mustWrite(tb testing.TB, fd int, p []byte) {
	tb.Helper()
	if n, err := netfd.Write(fd, p); err != nil || n != len(p) {
		tb.Fatalf("write: n=%d err=%v", n, err)
	}
}

// shutdownWrite sends fd's FIN.
func shutdownWrite(tb testing.TB, fd int) {
	tb.Helper()
	if err := netfd.ShutdownWrite(fd); err != nil {
		tb.Fatalf("shutdown: %v", err)
	}
}
