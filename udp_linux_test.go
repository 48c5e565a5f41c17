//go:build linux && !evloop_portable

package evloop

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/evloop/evloop/internal/socket"
)

// Tests that count or fake datagram syscalls through the socket seams:
// epoll-backend specific.

// mmsgCounter counts the datagram syscalls and what they carried.
type mmsgCounter struct {
	recvCalls, sendCalls, recvd, sent atomic.Int64
}

func (m *mmsgCounter) install(tb testing.TB) {
	recv, send := socket.RecvmmsgFunc, socket.SendmmsgFunc
	tb.Cleanup(func() { socket.RecvmmsgFunc, socket.SendmmsgFunc = recv, send })
	socket.RecvmmsgFunc = func(fd int, msgs []socket.Mmsghdr) (int, error) {
		m.recvCalls.Add(1)
		n, err := recv(fd, msgs)
		if n > 0 {
			m.recvd.Add(int64(n))
		}
		return n, err
	}
	socket.SendmmsgFunc = func(fd int, msgs []socket.Mmsghdr) (int, error) {
		m.sendCalls.Add(1)
		n, err := send(fd, msgs)
		if n > 0 {
			m.sent.Add(int64(n))
		}
		return n, err
	}
}

// pausingEcho echoes datagrams, and pauses its socket on a datagram that
// says "pause", keeping the datagram Conn so the test can resume it.
type pausingEcho struct {
	BaseHandler
	mu   sync.Mutex
	view Conn
}

func (h *pausingEcho) OnTraffic(c Conn) Action {
	msg, _ := c.Next(-1)
	if string(msg) == "pause" {
		h.mu.Lock()
		h.view = c
		h.mu.Unlock()
		_ = c.PauseReading()
		_, _ = c.Write(msg)
		return None
	}
	_, _ = c.Write(msg)
	return None
}

// TestUDPBatchesSyscallsLinux: 50 clients with 8 datagrams each waiting in
// the socket are read with one recvmmsg per batch of WithDatagramBatch and
// answered with one sendmmsg per batch: far fewer than 0.25 syscalls per
// datagram.
func TestUDPBatchesSyscallsLinux(t *testing.T) {
	var m mmsgCounter
	m.install(t)
	h := &pausingEcho{}
	s := startEngine(t, h, "udp://127.0.0.1:0", WithLoops(1), WithSocketRecvBuffer(4<<20))
	ctl := udpClient(t, s.addr)
	if _, err := udpRoundTrip(ctl, []byte("pause"), make([]byte, 16), time.Second); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond) // the pause task runs on the loop
	const clients, inFlight = 50, 8
	var cs []*net.UDPConn
	for i := range clients {
		c := udpClient(t, s.addr)
		cs = append(cs, c)
		for j := range inFlight {
			if _, err := c.Write(fmt.Appendf(nil, "%d/%d", i, j)); err != nil {
				t.Fatal(err)
			}
		}
	}
	time.Sleep(50 * time.Millisecond) // every datagram is in the socket now
	recv0, send0 := m.recvCalls.Load(), m.sendCalls.Load()
	h.mu.Lock()
	v := h.view
	h.mu.Unlock()
	if err := v.ResumeReading(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	for i, c := range cs {
		for j := range inFlight {
			_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
			n, err := c.Read(buf)
			if want := fmt.Sprintf("%d/%d", i, j); err != nil || string(buf[:n]) != want {
				t.Fatalf("client %d reply %d = %q, %v; want %q", i, j, buf[:n], err, want)
			}
		}
	}
	recvCalls, sendCalls := m.recvCalls.Load()-recv0, m.sendCalls.Load()-send0
	perDatagram := float64(recvCalls+sendCalls) / (clients * inFlight)
	t.Logf("%d datagrams: %d recvmmsg + %d sendmmsg = %.3f syscalls per datagram",
		clients*inFlight, recvCalls, sendCalls, perDatagram)
	if perDatagram >= 0.25 {
		t.Fatalf("%.3f syscalls per datagram, want fewer than 0.25", perDatagram)
	}
}

// TestUDPQueueBoundLinux: replies the kernel refuses with EAGAIN wait in the
// socket's queue, up to WithOutboundLimit bytes; beyond it they are dropped
// and counted; once the kernel takes them again the queued ones go out in
// order. (The seam refuses a socket that is in fact writable, so EPOLLOUT
// fires on every iteration meanwhile; with a really full socket it fires
// only once there is room.)
func TestUDPQueueBoundLinux(t *testing.T) {
	send := socket.SendmmsgFunc
	t.Cleanup(func() { socket.SendmmsgFunc = send })
	var refuse atomic.Bool
	var refused atomic.Int64
	socket.SendmmsgFunc = func(fd int, msgs []socket.Mmsghdr) (int, error) {
		if refuse.Load() {
			refused.Add(1)
			return -1, unix.EAGAIN
		}
		return send(fd, msgs)
	}
	const size, limit = 1000, 10 * 1000 // room for 10 replies
	s := startEngine(t, echoHandler{}, "udp://127.0.0.1:0", WithLoops(1),
		WithOutboundWatermarks(5000, 1000), WithOutboundLimit(limit))
	c := udpClient(t, s.addr)
	refuse.Store(true)
	for i := range 15 {
		if _, err := c.Write(bytes.Repeat([]byte{byte(i)}, size)); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for s.eng.Stats().DatagramsIn < 15 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	st := s.eng.Stats()
	if st.DatagramsIn != 15 || st.DatagramsDropped != 5 {
		t.Fatalf("stats %+v: want 15 in and 5 dropped beyond the queue's bound", st)
	}
	if refused.Load() == 0 {
		t.Fatal("no sendmmsg was refused: the test did not exercise the queue")
	}
	refuse.Store(false)
	buf := make([]byte, 2*size)
	for i := range 10 {
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := c.Read(buf)
		if err != nil || n != size || buf[0] != byte(i) || buf[n-1] != byte(i) {
			t.Fatalf("reply %d: %d bytes starting %d, %v; want %d bytes of %d", i, n, buf[0], err, size, i)
		}
	}
	for deadline := time.Now().Add(5 * time.Second); s.eng.Stats().DatagramsOut != 10; {
		if time.Now().After(deadline) {
			t.Fatalf("stats %+v: want the 10 queued replies out", s.eng.Stats())
		}
		time.Sleep(time.Millisecond)
	}
}

// panicky panics on a datagram that says so and echoes the others.
type panicky struct{ BaseHandler }

func (panicky) OnTraffic(c Conn) Action {
	msg, _ := c.Next(-1)
	if string(msg) == "panic" {
		panic(errors.New("boom"))
	}
	_, _ = c.Write(msg)
	return None
}

// TestUDPPanicInHandler: a panic in OnTraffic for a datagram is recovered,
// logged and counted; the socket keeps serving.
func TestUDPPanicInHandler(t *testing.T) {
	s := startEngine(t, panicky{}, "udp://127.0.0.1:0", WithLoops(1), WithLogger(tbQuietLogger()))
	c := udpClient(t, s.addr)
	if _, err := c.Write([]byte("panic")); err != nil {
		t.Fatal(err)
	}
	if _, err := udpRoundTrip(c, []byte("after"), make([]byte, 16), time.Second); err != nil {
		t.Fatal(err)
	}
	if p := s.eng.Stats().Panics; p != 1 {
		t.Fatalf("Panics = %d, want 1", p)
	}
}
