package netfd

import (
	"errors"
	"net"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// pair returns two connected stream descriptors over loopback TCP.
func pair(tb testing.TB) (a, b int) {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	lfd := Listen(ln)
	defer Close(lfd)
	cfd, err := Connect("tcp", ln.Addr().String())
	if !errors.Is(err, syscall.EINPROGRESS) {
		tb.Fatalf("Connect: %v", err)
	}
	waitReady(tb, cfd, Writable)
	if err := ConnectResult(cfd); err != nil {
		tb.Fatalf("ConnectResult: %v", err)
	}
	waitReady(tb, lfd, Readable)
	sfd, _, err := Accept(lfd)
	if err != nil {
		tb.Fatalf("Accept: %v", err)
	}
	tb.Cleanup(func() { Close(cfd); Close(sfd) })
	return cfd, sfd
}

func waitReady(tb testing.TB, fd int, want Ready) Ready {
	tb.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		r, err := Poll(fd)
		if err != nil {
			tb.Fatalf("Poll(%d): %v", fd, err)
		}
		if r&want == want {
			return r
		}
		time.Sleep(time.Millisecond)
	}
	r, _ := Poll(fd)
	tb.Fatalf("fd %d: readiness %05b, want %05b", fd, r, want)
	return 0
}

func TestDescriptorsAreSmallAndReused(t *testing.T) {
	a, b := pair(t)
	if a < firstFD || b < firstFD {
		t.Fatalf("fds %d, %d below %d", a, b, firstFD)
	}
	Close(a)
	c, d := pair(t)
	if c != a && d != a {
		t.Fatalf("fd %d not reused: got %d, %d", a, c, d)
	}
	if _, err := Read(1000, nil); !errors.Is(err, syscall.EBADF) {
		t.Fatalf("read of a closed fd: %v", err)
	}
}

func TestReadWriteEOF(t *testing.T) {
	a, b := pair(t)
	buf := make([]byte, 16)
	if _, err := Read(b, buf); !errors.Is(err, syscall.EAGAIN) {
		t.Fatalf("empty read: %v, want EAGAIN", err)
	}
	if n, err := Write(a, []byte("hello")); n != 5 || err != nil {
		t.Fatalf("write: %d, %v", n, err)
	}
	if err := ShutdownWrite(a); err != nil {
		t.Fatal(err)
	}
	if _, err := Write(a, []byte("x")); !errors.Is(err, syscall.EPIPE) {
		t.Fatalf("write after shutdown: %v, want EPIPE", err)
	}
	waitReady(t, b, Readable|ReadHangup)
	if n, err := Read(b, buf); n != 5 || err != nil || string(buf[:n]) != "hello" {
		t.Fatalf("read: %q, %v", buf[:n], err)
	}
	if n, err := Read(b, buf); n != 0 || err != nil {
		t.Fatalf("read at EOF: %d, %v", n, err)
	}
	if r, _ := Poll(b); r&Hangup != 0 {
		t.Fatalf("hang-up before our own shutdown: %05b", r)
	}
	if err := ShutdownWrite(b); err != nil {
		t.Fatal(err)
	}
	waitReady(t, b, Hangup)
}

// TestBackpressure: a reader that does not read fills the emulated receive
// buffer, then TCP, then the writer's emulated send buffer, and Write says
// EAGAIN; reading frees room and everything arrives in order.
func TestBackpressure(t *testing.T) {
	a, b := pair(t)
	if err := SetSendBuffer(a, 64<<10); err != nil {
		t.Fatal(err)
	}
	if err := SetRecvBuffer(b, 64<<10); err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 16<<10)
	var sent int
	deadline := time.Now().Add(5 * time.Second)
	for {
		for i := range chunk {
			chunk[i] = byte(sent + i)
		}
		n, err := Write(a, chunk)
		sent += n
		if errors.Is(err, syscall.EAGAIN) {
			// Full, unless the writer is still moving bytes to TCP.
			time.Sleep(20 * time.Millisecond)
			if _, err := Write(a, chunk[:1]); errors.Is(err, syscall.EAGAIN) {
				break
			}
			sent++
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("wrote %d bytes without backpressure", sent)
		}
	}
	if u := Unread(b); u > 64<<10 {
		t.Fatalf("receiver holds %d bytes, over its 64 KiB buffer", u)
	}
	buf := make([]byte, 8<<10)
	var got int
	for got < sent {
		n, err := Read(b, buf)
		if errors.Is(err, syscall.EAGAIN) {
			waitReady(t, b, Readable)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < n; i++ {
			if buf[i] != byte(got+i) {
				t.Fatalf("byte %d = %d, want %d", got+i, buf[i], byte(got+i))
			}
		}
		got += n
	}
}

func TestCloseSendsPendingThenEOF(t *testing.T) {
	a, b := pair(t)
	msg := make([]byte, 100<<10)
	n, err := Write(a, msg)
	if err != nil {
		t.Fatal(err)
	}
	Close(a)
	buf := make([]byte, 64<<10)
	got := 0
	for {
		k, err := Read(b, buf)
		if errors.Is(err, syscall.EAGAIN) {
			waitReady(t, b, Readable)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if k == 0 {
			break
		}
		got += k
	}
	if got != n {
		t.Fatalf("received %d of %d bytes", got, n)
	}
}

func TestLingerZeroResets(t *testing.T) {
	a, b := pair(t)
	if err := SetLinger(a, 0); err != nil {
		t.Fatal(err)
	}
	Close(a)
	r := waitReady(t, b, Readable|ReadHangup)
	if r&Failed == 0 {
		t.Fatalf("readiness after reset %05b, want an error", r)
	}
	if _, err := Read(b, make([]byte, 1)); !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("read after reset: %v, want ECONNRESET", err)
	}
	if _, err := Write(b, []byte("x")); err == nil {
		t.Fatal("write after reset succeeded")
	}
}

func TestConnectRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	fd, err := Connect("tcp", addr)
	if !errors.Is(err, syscall.EINPROGRESS) {
		t.Fatal(err)
	}
	defer Close(fd)
	waitReady(t, fd, Writable|Failed)
	if err := ConnectResult(fd); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("ConnectResult: %v, want ECONNREFUSED", err)
	}
}

func TestDatagram(t *testing.T) {
	c1, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	c2, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	a, b := ListenPacket(c1), ListenPacket(c2)
	defer Close(a)
	defer Close(b)
	to := c2.LocalAddr().(*net.UDPAddr).AddrPort()
	if _, err := SendTo(a, []byte("ping"), to); err != nil {
		t.Fatal(err)
	}
	waitReady(t, b, Readable)
	buf := make([]byte, 2)
	n, peer, err := RecvFrom(b, buf)
	if err != nil || n != 4 || peer != c1.LocalAddr().(*net.UDPAddr).AddrPort() {
		t.Fatalf("RecvFrom = %d, %v, %v (want 4 bytes, cut to 2)", n, peer, err)
	}
	if _, _, err := RecvFrom(b, buf); !errors.Is(err, syscall.EAGAIN) {
		t.Fatalf("empty RecvFrom: %v", err)
	}
}

func TestCloseAbortsDial(t *testing.T) {
	// A listener that never accepts still completes handshakes; dial a
	// blackhole-ish address instead and close at once: the dial goroutine
	// must exit (goleak checks at the end).
	fd, err := Connect("tcp", "127.0.0.1:1")
	if !errors.Is(err, syscall.EINPROGRESS) {
		t.Fatal(err)
	}
	Close(fd)
}
