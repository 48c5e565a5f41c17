package main

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/evloop/evloop/benchmarks/internal/loadgen"
)

// sink is a UDP socket that nobody reads from: a destination for a worker
// whose replies the test makes up.
func sink(t *testing.T) *net.UDPConn {
	t.Helper()
	s, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// testWorker is a worker of socket id 7 with k slots of size-byte
// datagrams, each slot's first datagram sent at time 0, sending to a sink.
func testWorker(t *testing.T, size, k int, timeout time.Duration) *worker {
	t.Helper()
	c, err := net.DialUDP("udp", nil, sink(t).LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	w, err := newWorker(c, 7, size, k, timeout, newPattern(size), new(atomic.Int32))
	if err != nil {
		t.Fatal(err)
	}
	for j := 0; j < k; j++ {
		w.seq[j] = uint64(j)
		if err := w.send(j, 0); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

// datagram is what socket id sends as its datagram seq.
func datagram(p pattern, size int, id uint32, seq uint64) []byte {
	b := make([]byte, size)
	binary.LittleEndian.PutUint32(b, id)
	binary.LittleEndian.PutUint64(b[4:], seq)
	copy(b[headerSize:], p.payload(id, seq))
	return b
}

func TestTheWorkerSendsWhatItChecks(t *testing.T) {
	w := testWorker(t, 64, 4, time.Second)
	if w.pending != 4 {
		t.Fatalf("pending = %d after sending 4 datagrams", w.pending)
	}
	// The last datagram sent is slot 3's, seq 3.
	if got, want := w.out, datagram(w.pattern, 64, 7, 3); string(got) != string(want) {
		t.Fatalf("sent %x, want %x", got, want)
	}
	// Distinct datagrams carry distinct payloads.
	a, b := w.pattern.payload(7, 3), w.pattern.payload(7, 7)
	c := w.pattern.payload(8, 3)
	if string(a) == string(b) || string(a) == string(c) {
		t.Fatal("payloads do not depend on the socket id and sequence number")
	}
}

// answer passes w the reply to socket 7's datagram seq at now and, as the
// run does, sends the freed slot's next datagram.
func answer(t *testing.T, w *worker, seq uint64, now time.Duration, ph int32) {
	t.Helper()
	j, err := w.reply(datagram(w.pattern, w.size, 7, seq), now, ph)
	if err == nil && j >= 0 {
		err = w.next(j, now, ph)
	}
	if err != nil {
		t.Fatal(err)
	}
}

func TestReplyIsCheckedAndReplaced(t *testing.T) {
	w := testWorker(t, 64, 4, time.Second)
	answer(t, w, 2, 100*time.Microsecond, loadgen.Measuring)
	if w.msgs != 1 || w.hist.Count() != 1 || w.seq[2] != 6 || w.pending != 4 {
		t.Fatalf("after a good reply: msgs %d, recorded %d, slot 2 at %d, pending %d; want 1, 1, 6, 4",
			w.msgs, w.hist.Count(), w.seq[2], w.pending)
	}
	// A reply in the warm-up counts nothing but moves the slot on.
	answer(t, w, 6, time.Millisecond, loadgen.Warming)
	if w.msgs != 1 || w.seq[2] != 10 {
		t.Fatalf("after a warm-up reply: msgs %d, slot 2 at %d; want 1 and 10", w.msgs, w.seq[2])
	}
}

func TestCorruptRepliesAreErrors(t *testing.T) {
	for _, c := range []struct {
		name, want string
		make       func(p pattern) []byte
	}{
		{"a changed byte", "other bytes", func(p pattern) []byte {
			b := datagram(p, 64, 7, 1)
			b[40]++
			return b
		}},
		{"another datagram's payload", "other bytes", func(p pattern) []byte {
			b := datagram(p, 64, 7, 1)
			copy(b[headerSize:], p.payload(7, 2))
			return b
		}},
		{"a short reply", "of 63 bytes", func(p pattern) []byte { return datagram(p, 64, 7, 1)[:63] }},
		{"a long reply", "of 65 bytes", func(p pattern) []byte { return append(datagram(p, 64, 7, 1), 0) }},
		{"another socket's", "socket id 8", func(p pattern) []byte { return datagram(p, 64, 8, 1) }},
		{"never sent", "never sent", func(p pattern) []byte { return datagram(p, 64, 7, 5) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := testWorker(t, 64, 4, time.Second)
			j, err := w.reply(c.make(w.pattern), time.Millisecond, loadgen.Measuring)
			if j != -1 || err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want one saying %q", err, c.want)
			}
			if w.msgs != 0 {
				t.Fatalf("a wrong reply counted as a message")
			}
		})
	}
}

func TestGivenUpDatagramsAreLostAndTheirRepliesLate(t *testing.T) {
	const timeout = 100 * time.Millisecond
	w := testWorker(t, 64, 2, timeout)
	// Slot 1 is answered at 50 ms and its next datagram sent then.
	answer(t, w, 1, 50*time.Millisecond, loadgen.Measuring)
	// At 120 ms only slot 0's datagram has waited for the timeout.
	if err := w.scan(120*time.Millisecond, loadgen.Measuring); err != nil {
		t.Fatal(err)
	}
	if w.lost != 1 || w.seq[0] != 2 || w.seq[1] != 3 || w.pending != 2 {
		t.Fatalf("after giving up: lost %d, slots at %d and %d, pending %d; want 1, 2, 3, 2", w.lost, w.seq[0], w.seq[1], w.pending)
	}
	// Its reply comes after all: ignored, counted late.
	answer(t, w, 0, 130*time.Millisecond, loadgen.Measuring)
	if w.late != 1 || w.msgs != 1 || w.seq[0] != 2 {
		t.Fatalf("a late reply: late %d, msgs %d, slot 0 at %d; want 1, 1, 2", w.late, w.msgs, w.seq[0])
	}
	// A late reply is still checked.
	bad := datagram(w.pattern, 64, 7, 0)
	bad[20] ^= 1
	if _, err := w.reply(bad, 140*time.Millisecond, loadgen.Measuring); err == nil {
		t.Fatal("a corrupt late reply passed")
	}
	// Once the window has closed, replies and give-ups empty the slots.
	answer(t, w, 3, 150*time.Millisecond, loadgen.Stopping)
	if err := w.scan(time.Second, loadgen.Stopping); err != nil {
		t.Fatal(err)
	}
	if w.pending != 0 || w.lost != 1 || w.msgs != 1 {
		t.Fatalf("after the window: pending %d, lost %d, msgs %d; want 0, 1, 1", w.pending, w.lost, w.msgs)
	}
}

func TestNoAllocationPerDatagram(t *testing.T) {
	w := testWorker(t, 64, 8, time.Second)
	in := make([]byte, 64)
	now := time.Duration(0)
	allocs := testing.AllocsPerRun(2000, func() {
		// The reply to slot 3's current datagram, then its next one out.
		seq := w.seq[3]
		binary.LittleEndian.PutUint32(in, w.id)
		binary.LittleEndian.PutUint64(in[4:], seq)
		copy(in[headerSize:], w.pattern.payload(w.id, seq))
		now += time.Microsecond
		j, err := w.reply(in, now, loadgen.Measuring)
		if err != nil || j != 3 {
			t.Fatalf("slot %d, %v", j, err)
		}
		if err := w.next(j, now, loadgen.Measuring); err != nil {
			t.Fatal(err)
		}
		if err := w.scan(now, loadgen.Measuring); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%.2f allocations per datagram, want 0", allocs)
	}
}

func TestRepliesWaitingInTheSocketAreNotLost(t *testing.T) {
	// A worker whose replies have all come back, but which was late to
	// read them: at its scan, long after the timeout, none is lost.
	addr := echoServer(t, func(_ int, b []byte, reply func([]byte)) { reply(b) })
	raddr, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.DialUDP("udp", nil, raddr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const timeout = 10 * time.Millisecond
	w, err := newWorker(c, 7, 64, 4, timeout, newPattern(64), new(atomic.Int32))
	if err != nil {
		t.Fatal(err)
	}
	for j := 0; j < 4; j++ {
		w.seq[j] = uint64(j)
		if err := w.send(j, 0); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(100 * time.Millisecond) // the echoes wait in the socket
	if err := w.scan(time.Second, loadgen.Measuring); err != nil {
		t.Fatal(err)
	}
	if w.lost != 0 || w.msgs != 4 || w.pending != 4 || w.seq[0] != 4 || w.seq[3] != 7 {
		t.Fatalf("after the scan: lost %d, msgs %d, pending %d, slots at %v; want 0, 4, 4, [4 5 6 7]", w.lost, w.msgs, w.pending, w.seq)
	}
	// The next scan, with nothing queued, gives up on whatever is still
	// waiting: here the echoes of the next four are queued too, so none.
	time.Sleep(100 * time.Millisecond)
	if err := w.scan(2*time.Second, loadgen.Measuring); err != nil {
		t.Fatal(err)
	}
	if w.lost != 0 || w.msgs != 8 {
		t.Fatalf("second scan: lost %d, msgs %d; want 0 and 8", w.lost, w.msgs)
	}
}

// echoServer answers on a loopback UDP socket with what serve returns for
// each datagram (nil: no answer), until the test ends.
func echoServer(t *testing.T, serve func(n int, b []byte, reply func([]byte))) string {
	t.Helper()
	s, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() {
		s.Close()
		<-done
	})
	go func() {
		defer close(done)
		buf := make([]byte, 64<<10)
		for n := 0; ; n++ {
			k, peer, err := s.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			b := append([]byte(nil), buf[:k]...)
			serve(n, b, func(b []byte) { _, _ = s.WriteToUDPAddrPort(b, peer) })
		}
	}()
	return s.LocalAddr().String()
}

func testConfig(addr string) config {
	return config{addr: addr, conns: 4, size: 64, pipeline: 4,
		warmup: 100 * time.Millisecond, duration: 400 * time.Millisecond, timeout: 40 * time.Millisecond}
}

func TestRunCountsLossesAndLateReplies(t *testing.T) {
	addr := echoServer(t, func(n int, b []byte, reply func([]byte)) {
		if n%50 == 49 {
			// Lost for now, answered after the client has given up.
			time.AfterFunc(100*time.Millisecond, func() { reply(b) })
			return
		}
		reply(b)
	})
	start := time.Now()
	res, err := run(testConfig(addr))
	if err != nil {
		t.Fatal(err)
	}
	if res.Msgs == 0 || res.Lost == 0 || res.Late == 0 || res.Errors != 0 || res.P99us <= 0 {
		t.Fatalf("result %+v: want messages, losses, late replies and no error", res)
	}
	// About one datagram in 50 is lost.
	if share := float64(res.Lost) / float64(res.Msgs+res.Lost); share > 0.05 {
		t.Fatalf("lost %d of %d", res.Lost, res.Msgs+res.Lost)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("the run took %v", d)
	}
}

func TestRunFailsOnACorruptReply(t *testing.T) {
	addr := echoServer(t, func(n int, b []byte, reply func([]byte)) {
		if n == 300 {
			b[len(b)-1] ^= 0x80
		}
		reply(b)
	})
	res, err := run(testConfig(addr))
	if err == nil || !strings.Contains(err.Error(), "other bytes") || res.Errors != 1 {
		t.Fatalf("err = %v, errors %d; want one socket failed with other bytes", err, res.Errors)
	}
}

func TestRunAgainstASilentServerEnds(t *testing.T) {
	addr := echoServer(t, func(int, []byte, func([]byte)) {})
	start := time.Now()
	res, err := run(testConfig(addr))
	if err == nil || !strings.Contains(err.Error(), "no datagram came back") {
		t.Fatalf("err = %v, want no datagram came back", err)
	}
	if res.Lost == 0 || res.Msgs != 0 {
		t.Fatalf("result %+v: want only losses", res)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("the run took %v", d)
	}
}

func TestRunWithoutAServerFails(t *testing.T) {
	// A port nobody listens on: the kernel answers with port unreachable.
	s, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	addr := s.LocalAddr().String()
	s.Close()
	_, err = run(testConfig(addr))
	var opErr *net.OpError
	if err == nil || !errors.As(err, &opErr) {
		t.Fatalf("err = %v, want the socket's error", err)
	}
}

func TestValidate(t *testing.T) {
	good := testConfig(netip.MustParseAddrPort("127.0.0.1:9").String())
	if err := good.validate(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []func(*config){
		func(c *config) { c.size = headerSize - 1 },
		func(c *config) { c.size = maxSize + 1 },
		func(c *config) { c.pipeline = 0 },
		func(c *config) { c.conns = 0 },
		func(c *config) { c.timeout = 0 },
	} {
		bad := good
		c(&bad)
		if bad.validate() == nil {
			t.Errorf("%+v passed", bad)
		}
	}
	small := good
	small.size = headerSize // a header and no payload
	if err := small.validate(); err != nil {
		t.Fatal(err)
	}
	if p := newPattern(headerSize); len(p.payload(1, 2)) != 0 {
		t.Fatal("a header-only datagram has a payload")
	}
}
