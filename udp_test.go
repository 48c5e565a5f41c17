package evloop

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// udpClient is one client socket talking to a udp:// engine.
func udpClient(tb testing.TB, addr net.Addr) *net.UDPConn {
	tb.Helper()
	c, err := net.DialUDP("udp", nil, addr.(*net.UDPAddr))
	if err != nil {
		tb.Fatalf("dial %v: %v", addr, err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// udpRoundTrip sends msg and waits for its echo, resending once after a
// timeout (loopback may drop under bursts). It reports whether the first
// send was lost, and an error for a wrong or missing reply.
func udpRoundTrip(c *net.UDPConn, msg, buf []byte, timeout time.Duration) (lost bool, err error) {
	for attempt := 0; attempt < 2; attempt++ {
		if _, err := c.Write(msg); err != nil {
			return lost, fmt.Errorf("write: %w", err)
		}
		_ = c.SetReadDeadline(time.Now().Add(timeout))
		n, err := c.Read(buf)
		if isTimeout(err) {
			lost = true
			continue
		}
		if err != nil {
			return lost, fmt.Errorf("read: %w", err)
		}
		if !bytes.Equal(buf[:n], msg) {
			return lost, fmt.Errorf("echo of %d bytes came back as %d different bytes", len(msg), n)
		}
		return lost, nil
	}
	return lost, fmt.Errorf("no echo of a %d-byte datagram after a resend", len(msg))
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// seqDatagram fills msg with a datagram that names its client and sequence
// number in its first 8 bytes and whose other bytes derive from them, so a
// reply can be checked on its own: a late echo is recognised, a corrupted
// one caught.
func seqDatagram(msg []byte, client, seq uint32) {
	binary.BigEndian.PutUint32(msg, client)
	if len(msg) >= 8 {
		binary.BigEndian.PutUint32(msg[4:], seq)
	}
	for k := 8; k < len(msg); k++ {
		msg[k] = byte(uint32(k)*7 + client*31 + seq)
	}
}

// seqValid reports whether b is an intact datagram of client, and its
// sequence number.
func seqValid(b []byte, client uint32) (seq uint32, ok bool) {
	if len(b) < 8 || binary.BigEndian.Uint32(b) != client {
		return 0, false
	}
	seq = binary.BigEndian.Uint32(b[4:])
	for k := 8; k < len(b); k++ {
		if b[k] != byte(uint32(k)*7+client*31+seq) {
			return seq, false
		}
	}
	return seq, true
}

// TestUDPEchoIntegrity: 50 sockets x 2,000 datagrams of random sizes from 8
// to 65,000 bytes, closed loop; every reply equals its request. Loopback
// drops datagrams when a receive buffer overflows: a datagram without an
// echo is resent once, and one lost twice is counted and skipped. Losses
// are reported; a corrupted or cut reply fails the test, and so does a
// loss rate that only a broken server would cause.
func TestUDPEchoIntegrity(t *testing.T) {
	s := startEngine(t, echoHandler{}, "udp://127.0.0.1:0", WithLoops(2), WithSocketRecvBuffer(4<<20))
	const clients = 50
	perClient := tbScale(2000, 20)
	var wg sync.WaitGroup
	var resent, lost, late atomic.Int64
	errc := make(chan error, clients)
	for i := range clients {
		c := udpClient(t, s.addr)
		_ = c.SetReadBuffer(1 << 20)
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := uint32(i)
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			buf := make([]byte, 65536)
			msg := make([]byte, 65000)
			for j := range perClient {
				n := 8 + rng.IntN(65000-8+1)
				seqDatagram(msg[:n], id, uint32(j))
				answered := false
				for attempt := 0; attempt < 2 && !answered; attempt++ {
					if attempt == 1 {
						resent.Add(1)
					}
					if _, err := c.Write(msg[:n]); err != nil {
						errc <- fmt.Errorf("client %d: write: %w", i, err)
						return
					}
					deadline := time.Now().Add(300 * time.Millisecond)
					for !answered {
						_ = c.SetReadDeadline(deadline)
						got, err := c.Read(buf)
						if isTimeout(err) {
							break
						}
						if err != nil {
							errc <- fmt.Errorf("client %d: read: %w", i, err)
							return
						}
						seq, ok := seqValid(buf[:got], id)
						switch {
						case !ok:
							errc <- fmt.Errorf("client %d datagram %d: a corrupted reply of %d bytes", i, j, got)
							return
						case seq != uint32(j):
							late.Add(1) // the echo of an earlier datagram given up on, or a duplicate
						case got != n:
							errc <- fmt.Errorf("client %d datagram %d: %d bytes came back as %d", i, j, n, got)
							return
						default:
							answered = true
						}
					}
				}
				if !answered {
					lost.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	total := int64(clients * perClient)
	st := s.eng.Stats()
	t.Logf("%d datagrams: %d resent after a loss, %d lost twice, %d late echoes; stats %+v",
		total, resent.Load(), lost.Load(), late.Load(), st)
	if lost.Load() > total/20 {
		t.Errorf("%d of %d datagrams lost twice: more than loopback drops explain", lost.Load(), total)
	}
	if st.DatagramsTruncated != 0 || st.DatagramsDropped != 0 {
		t.Errorf("stats %+v: want none truncated or dropped by the server", st)
	}
}

// TestUDPTruncatedDropped: with a slot smaller than a datagram, the
// datagram is dropped and counted, never delivered cut; one that fits
// still comes back whole.
func TestUDPTruncatedDropped(t *testing.T) {
	const slot = 1024
	s := startEngine(t, echoHandler{}, "udp://127.0.0.1:0", WithLoops(1), WithDatagramSlot(slot))
	c := udpClient(t, s.addr)
	if _, err := c.Write(tbPattern(0, slot+1)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 65536)
	_ = c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if n, err := c.Read(buf); err == nil {
		t.Fatalf("a %d-byte datagram with a %d-byte slot came back as %d bytes", slot+1, slot, n)
	}
	whole := tbPattern(5, slot)
	if _, err := udpRoundTrip(c, whole, buf, time.Second); err != nil {
		t.Fatalf("a datagram of exactly the slot size: %v", err)
	}
	tbStatsEventually(t, s.eng, "1 truncated, 1 in, 1 out", func(st Stats) bool {
		return st.DatagramsTruncated == 1 && st.DatagramsIn == 1 && st.DatagramsOut == 1
	})
}

// poolReplier answers every datagram from the pool, after a random pause,
// through the DatagramPeer it took inside the callback.
type poolReplier struct {
	BaseHandler
	cbErrs atomic.Int64
}

func (h *poolReplier) OnTraffic(c Conn) Action {
	msg, _ := c.Next(-1)
	msg = bytes.Clone(msg)
	peer, ok := DatagramPeerOf(c)
	if !ok {
		panic("DatagramPeerOf: not a datagram Conn")
	}
	_ = c.Submit(func() {
		time.Sleep(time.Duration(rand.IntN(200)) * time.Microsecond)
		err := peer.AsyncWrite(msg, func(c Conn, err error) {
			if err != nil || c.RemoteAddr().String() != peer.Addr().String() {
				h.cbErrs.Add(1)
			}
		})
		if err != nil {
			h.cbErrs.Add(1)
		}
	})
	return None
}

// TestUDPPoolRepliesManyPeers: replies sent later from pool goroutines go
// each to its own peer, with many peers at once.
func TestUDPPoolRepliesManyPeers(t *testing.T) {
	h := &poolReplier{}
	s := startEngine(t, h, "udp://127.0.0.1:0", WithLoops(2))
	const peers = 64
	rounds := tbScale(50, 5)
	var wg sync.WaitGroup
	errc := make(chan error, peers)
	for i := range peers {
		c := udpClient(t, s.addr)
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 2048)
			for j := range rounds {
				msg := fmt.Appendf(nil, "peer %d (%s) message %d", i, c.LocalAddr(), j)
				if _, err := udpRoundTrip(c, msg, buf, time.Second); err != nil {
					errc <- fmt.Errorf("peer %d: %w", i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	if n := h.cbErrs.Load(); n != 0 {
		t.Fatalf("%d AsyncWrite calls or callbacks failed or saw another peer", n)
	}
}

// loopCounter records which loop each datagram or connection arrived on.
type loopCounter struct {
	BaseHandler
	mu      sync.Mutex
	byLoop  map[string]map[int]int // local network -> loop -> count
	opened  chan struct{}
	udpSeen chan struct{}
}

func (h *loopCounter) count(c Conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := c.LocalAddr().Network()
	if h.byLoop[n] == nil {
		h.byLoop[n] = map[int]int{}
	}
	h.byLoop[n][c.Loop().Index()]++
}

func (h *loopCounter) OnOpen(c Conn) ([]byte, Action) {
	h.count(c)
	h.opened <- struct{}{}
	return nil, None
}

func (h *loopCounter) OnTraffic(c Conn) Action {
	if _, ok := DatagramPeerOf(c); ok {
		h.count(c)
		h.udpSeen <- struct{}{}
	}
	return None
}

// TestRunAddrsSpreadOverLoops: with a TCP, a Unix and a UDP address served
// by the same loops, the connections and datagram peers of each address
// are spread over every loop.
func TestRunAddrsSpreadOverLoops(t *testing.T) {
	const loops, peers = 2, 32
	h := &loopCounter{byLoop: map[string]map[int]int{}, opened: make(chan struct{}, 2*peers), udpSeen: make(chan struct{}, peers)}
	hook := &bootHook{EventHandler: h, booted: make(chan Engine, 1)}
	errc := make(chan error, 1)
	sock := t.TempDir() + "/s.sock"
	go func() {
		errc <- RunAddrs(hook.forwarding(h), []string{"tcp://127.0.0.1:0", "unix://" + sock, "udp://127.0.0.1:0"}, WithLoops(loops))
	}()
	eng := tbRecv(t, hook.booted, 10*time.Second, "boot")
	ts := &testServer{eng: eng, errc: errc}
	t.Cleanup(func() { ts.stop(t) })
	addrs := eng.Addrs()
	if len(addrs) != 3 || addrs[2].Network() != "udp" {
		t.Fatalf("Addrs() = %v, want tcp, unix and udp", addrs)
	}
	for range peers {
		tbDial(t, addrs[0])
		tbDial(t, addrs[1])
		c := udpClient(t, addrs[2])
		if _, err := c.Write([]byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 * peers {
		tbRecv(t, h.opened, 5*time.Second, "OnOpen")
	}
	for range peers {
		tbRecv(t, h.udpSeen, 5*time.Second, "a datagram")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, n := range []string{"tcp", "unix", "udp"} {
		if len(h.byLoop[n]) != loops {
			t.Errorf("%s: per loop %v, want every one of %d loops used", n, h.byLoop[n], loops)
		}
	}
}

// TestUDPConnSemantics: what a datagram Conn offers and refuses.
func TestUDPConnSemantics(t *testing.T) {
	var kept Conn
	var keptMu sync.Mutex
	results := make(chan []error, 1)
	h := &tbHandler{traffic: func(c Conn) Action {
		keptMu.Lock()
		kept = c
		keptMu.Unlock()
		if c.InboundBuffered() != 5 {
			results <- []error{fmt.Errorf("InboundBuffered = %d, want 5", c.InboundBuffered())}
			return None
		}
		b, err := c.Peek(10)
		if !errors.Is(err, ErrShortBuffer) || string(b) != "hello" {
			results <- []error{fmt.Errorf("Peek(10) = %q, %v", b, err)}
			return None
		}
		var errs []error
		for name, err := range map[string]error{
			"Close": c.Close(), "CloseWrite": c.CloseWrite(), "Abort": c.Abort(),
			"CloseWithCallback": c.CloseWithCallback(nil), "Wake": c.Wake(nil), "Execute": c.Execute(func() {}),
			"SetDeadline": c.SetDeadline(time.Now()), "SetReadDeadline": c.SetReadDeadline(time.Now()),
			"SetWriteDeadline": c.SetWriteDeadline(time.Now()), "SetIdleTimeout": c.SetIdleTimeout(time.Second),
		} {
			if !errors.Is(err, ErrNotStream) {
				errs = append(errs, fmt.Errorf("%s: %v, want ErrNotStream", name, err))
			}
		}
		c.SetContext("ctx")
		if c.Context() != "ctx" {
			errs = append(errs, errors.New("SetContext did not stick inside the callback"))
		}
		if c.RemoteAddr().Network() != "udp" || c.LocalAddr().Network() != "udp" {
			errs = append(errs, fmt.Errorf("addresses %v -> %v, want udp", c.RemoteAddr(), c.LocalAddr()))
		}
		msg, _ := c.Next(-1)
		if _, err := c.Writev([][]byte{msg[:2], msg[2:], []byte("!")}); err != nil {
			errs = append(errs, fmt.Errorf("Writev: %v", err))
		}
		results <- errs
		return None
	}}
	s := startEngine(t, h, "udp://127.0.0.1:0", WithLoops(1))
	c := udpClient(t, s.addr)
	buf := make([]byte, 100)
	for i := range 2 {
		if _, err := c.Write([]byte("hello")); err != nil {
			t.Fatal(err)
		}
		for _, err := range tbRecv(t, results, 5*time.Second, "the callback's checks") {
			t.Errorf("datagram %d: %v", i, err)
		}
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := c.Read(buf)
		if err != nil || string(buf[:n]) != "hello!" {
			t.Fatalf("reply = %q, %v; want one datagram \"hello!\" from Writev", buf[:n], err)
		}
		// The datagram Conn kept past its callback refuses to write.
		keptMu.Lock()
		v := kept
		keptMu.Unlock()
		if _, err := v.Write([]byte("late")); !errors.Is(err, ErrClosed) {
			t.Fatalf("Write after the callback: %v, want ErrClosed", err)
		}
		if err := v.AsyncWrite([]byte("late"), nil); !errors.Is(err, ErrClosed) {
			t.Fatalf("AsyncWrite after the callback: %v, want ErrClosed", err)
		}
	}
	var zero DatagramPeer
	if err := zero.AsyncWrite([]byte("x"), nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("zero DatagramPeer AsyncWrite: %v, want ErrClosed", err)
	}
	if _, ok := DatagramPeerOf(nil); ok {
		t.Fatal("DatagramPeerOf(nil) reported a datagram")
	}
}

// TestUDPIPv6: a udp6 socket echoes to an IPv6 peer.
func TestUDPIPv6(t *testing.T) {
	probe, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
	if err != nil {
		t.Skipf("no IPv6 loopback here: %v", err)
	}
	probe.Close()
	s := startEngine(t, echoHandler{}, "udp6://[::1]:0", WithLoops(2))
	c := udpClient(t, s.addr)
	if _, err := udpRoundTrip(c, []byte("over IPv6"), make([]byte, 64), time.Second); err != nil {
		t.Fatal(err)
	}
}

// slowPoolReply answers each datagram from the pool after delay.
type slowPoolReply struct {
	BaseHandler
	delay time.Duration
	got   chan struct{}
}

func (h *slowPoolReply) OnTraffic(c Conn) Action {
	b, _ := c.Next(-1)
	msg := bytes.Clone(b)
	peer, _ := DatagramPeerOf(c)
	_ = c.Submit(func() {
		time.Sleep(h.delay)
		_ = peer.AsyncWrite(msg, nil)
	})
	h.got <- struct{}{}
	return None
}

// TestUDPStopDrainsReplies: Stop stops reading the datagram sockets, waits
// for the pool job that replies, and sends its reply before closing them.
func TestUDPStopDrainsReplies(t *testing.T) {
	h := &slowPoolReply{delay: 100 * time.Millisecond, got: make(chan struct{}, 1)}
	s := startEngine(t, h, "udp://127.0.0.1:0", WithLoops(2))
	c := udpClient(t, s.addr)
	if _, err := c.Write([]byte("late reply")); err != nil {
		t.Fatal(err)
	}
	tbRecv(t, h.got, 5*time.Second, "the datagram")
	s.stop(t)
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 64)
	n, err := c.Read(buf)
	if err != nil || string(buf[:n]) != "late reply" {
		t.Fatalf("reply after Stop = %q, %v; want the pool job's reply", buf[:n], err)
	}
	if st := s.eng.Stats(); st.DatagramsOut != 1 || st.DatagramsDropped != 0 {
		t.Fatalf("stats %+v: want the reply out, none dropped", st)
	}
}

// TestUDPWriteTooLarge: a reply larger than a UDP datagram can carry is
// refused at Write with an error matching EMSGSIZE, and counted.
func TestUDPWriteTooLarge(t *testing.T) {
	errs := make(chan error, 1)
	h := &tbHandler{traffic: func(c Conn) Action {
		_, err := c.Write(make([]byte, 70000))
		errs <- err
		return None
	}}
	s := startEngine(t, h, "udp://127.0.0.1:0", WithLoops(1))
	c := udpClient(t, s.addr)
	if _, err := c.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := tbRecv(t, errs, 5*time.Second, "the Write's error"); !errors.Is(err, syscall.EMSGSIZE) {
		t.Fatalf("Write of 70,000 bytes: %v, want EMSGSIZE", err)
	}
	if st := s.eng.Stats(); st.DatagramsDropped != 1 || st.DatagramsOut != 0 {
		t.Fatalf("stats %+v: want 1 dropped, none out", st)
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
