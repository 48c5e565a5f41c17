package evloop

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// cwRecord returns the bytes of producer g's record seq: a 9-byte header
// (g, seq, payload length) and a payload that depends on all three.
func cwRecord(g, seq, size int) []byte {
	rec := make([]byte, 9+size)
	rec[0] = byte(g)
	binary.BigEndian.PutUint32(rec[1:], uint32(seq))
	binary.BigEndian.PutUint32(rec[5:], uint32(size))
	for i := range rec[9:] {
		rec[9+i] = byte(i*7 + g*31 + seq*13)
	}
	return rec
}

// cwCut splits rec into up to 5 buffers at random points, empty ones
// included.
func cwCut(r *rand.Rand, rec []byte) [][]byte {
	n := 1 + r.IntN(5)
	bufs := make([][]byte, 0, n)
	for i := 0; i < n-1; i++ {
		k := r.IntN(len(rec) + 1)
		bufs = append(bufs, rec[:k])
		rec = rec[k:]
	}
	return append(bufs, rec)
}

// cwMaxRecord bounds a record's payload: all the records of
// TestAsyncWritevAtomic (4 x 200 x under 16 KiB) stay below the outbound
// cap even if none is sent before the last is queued.
const cwMaxRecord = 16 << 10

// TestAsyncWritevAtomic: AsyncWritev from several goroutines at once, of
// records cut into up to 5 buffers and large enough to go through the
// pending output (64 KiB socket buffer): every callback reports success,
// and the client reads each record whole, in one piece (never interleaved
// with another AsyncWritev), each producer's records in order.
func TestAsyncWritevAtomic(t *testing.T) {
	const producers = 4
	perProducer := tbScale(200, 4)
	opened := make(chan Conn, 1)
	h := &tbHandler{open: func(c Conn) ([]byte, Action) { opened <- c; return nil, None }}
	s := startEngine(t, h, "tcp://127.0.0.1:0", WithLoops(1), WithSocketSendBuffer(64<<10))
	nc := s.dial(t)
	c := tbRecv(t, opened, 5*time.Second, "OnOpen")

	cbErrs := make(chan error, producers*perProducer)
	errc := make(chan error, producers)
	var wg sync.WaitGroup
	for g := range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), 7))
			for seq := range perProducer {
				rec := cwRecord(g, seq, r.IntN(cwMaxRecord))
				if err := c.AsyncWritev(cwCut(r, rec), func(_ Conn, err error) { cbErrs <- err }); err != nil {
					errc <- fmt.Errorf("producer %d: AsyncWritev %d = %v", g, seq, err)
					return
				}
			}
		}()
	}
	defer wg.Wait()

	if err := nc.SetReadDeadline(time.Now().Add(60 * time.Second)); err != nil {
		t.Fatal(err)
	}
	next := make([]int, producers)
	hdr := make([]byte, 9)
	for n := 0; n < producers*perProducer; n++ {
		if _, err := io.ReadFull(nc, hdr); err != nil {
			t.Fatalf("record %d: header: %v", n, err)
		}
		g, seq, size := int(hdr[0]), int(binary.BigEndian.Uint32(hdr[1:])), int(binary.BigEndian.Uint32(hdr[5:]))
		if g >= producers || seq != next[g] || size >= cwMaxRecord {
			t.Fatalf("record %d: header says producer %d, record %d, %d bytes; want a producer's next record (%v): bytes interleaved", n, g, seq, size, next)
		}
		next[g]++
		rec := make([]byte, 9+size)
		copy(rec, hdr)
		if _, err := io.ReadFull(nc, rec[9:]); err != nil {
			t.Fatalf("record %d: payload: %v", n, err)
		}
		if i := tbFirstDiff(rec, cwRecord(g, seq, size)); i >= 0 {
			t.Fatalf("producer %d's record %d differs at byte %d: another write landed inside it", g, seq, i)
		}
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	for range producers * perProducer {
		if err := tbRecv(t, cbErrs, 5*time.Second, "an AsyncWritev callback"); err != nil {
			t.Errorf("AsyncWritev callback: %v", err)
		}
	}
	if err := itExpectNoMore(nc, 50*time.Millisecond); err != nil {
		t.Error(err)
	}
}

// TestFlushOnLoop: Flush inside a callback returns nil with nothing
// pending and with output pending (a 2 MiB Write to a client not reading
// yet), from OnTraffic and from a Wake callback; it never loses or
// reorders what is pending: the client reads every byte.
func TestFlushOnLoop(t *testing.T) {
	size := tbScale(2<<20, 4)
	type flushed struct {
		before, after int
		err           error
	}
	results := make(chan flushed, 4)
	flush := func(c Conn) {
		before := c.OutboundBuffered()
		err := c.Flush()
		results <- flushed{before: before, after: c.OutboundBuffered(), err: err}
	}
	opened := make(chan Conn, 1)
	h := &tbHandler{
		open: func(c Conn) ([]byte, Action) { opened <- c; return nil, None },
		traffic: func(c Conn) Action {
			if b, _ := c.Next(-1); string(b) != "go" {
				return None
			}
			flush(c) // nothing pending
			if _, err := c.Write(tbPattern(0, size)); err != nil {
				results <- flushed{err: fmt.Errorf("Write: %w", err)}
				return Close
			}
			flush(c)
			return None
		},
	}
	s := startEngine(t, h, "tcp://127.0.0.1:0", WithLoops(1), WithSocketSendBuffer(64<<10))
	nc := s.dial(t)
	fcSmallBuffers(t, nc)
	c := tbRecv(t, opened, 5*time.Second, "OnOpen")
	if _, err := nc.Write([]byte("go")); err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"with nothing pending", "after the 2 MiB Write"} {
		r := tbRecv(t, results, 5*time.Second, "Flush in OnTraffic")
		t.Logf("Flush in OnTraffic %s: %d bytes pending before, %d after, %v", want, r.before, r.after, r.err)
		switch {
		case r.err != nil:
			t.Errorf("Flush in OnTraffic %s = %v, want nil", want, r.err)
		case r.after > r.before:
			t.Errorf("Flush in OnTraffic %s: pending grew from %d to %d", want, r.before, r.after)
		case i == 1 && r.before == 0:
			t.Errorf("nothing pending after a %d-byte Write to a client not reading: the test shows nothing", size)
		}
	}
	if err := c.Wake(func(c Conn, err error) {
		if err != nil {
			results <- flushed{err: fmt.Errorf("Wake: %w", err)}
			return
		}
		flush(c)
	}); err != nil {
		t.Fatal(err)
	}
	if r := tbRecv(t, results, 5*time.Second, "Flush in a Wake callback"); r.err != nil || r.after > r.before {
		t.Errorf("Flush in a Wake callback = %v, pending %d then %d; want nil and no growth", r.err, r.before, r.after)
	}
	if err := nc.SetReadDeadline(time.Now().Add(30 * time.Second)); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, size)
	if _, err := io.ReadFull(nc, got); err != nil {
		t.Fatalf("client read: %v", err)
	}
	if i := tbFirstDiff(got, tbPattern(0, size)); i >= 0 {
		t.Fatalf("the output differs at byte %d", i)
	}
	if err := itExpectNoMore(nc, 50*time.Millisecond); err != nil && !errors.Is(err, io.EOF) {
		t.Error(err)
	}
}
