package evloop

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"
)

// TestConnInboundSemantics checks Peek, Next, Read and Discard on ten
// buffered bytes, both while they are a view of the loop's read buffer (one
// read) and after they were kept in the connection's ring (two reads, the
// first left unconsumed).
func TestConnInboundSemantics(t *testing.T) {
	const msg = "0123456789"
	expect := func(what string, got []byte, gotErr error, want string, wantErr error) error {
		if string(got) != want || !errors.Is(gotErr, wantErr) || (wantErr == nil && gotErr != nil) {
			return fmt.Errorf("%s = (%q, %v), want (%q, %v)", what, got, gotErr, want, wantErr)
		}
		return nil
	}
	buffered := func(c Conn, want int) error {
		if got := c.InboundBuffered(); got != want {
			return fmt.Errorf("InboundBuffered() = %d, want %d", got, want)
		}
		return nil
	}
	tests := []struct {
		name  string
		check func(c Conn) error
	}{
		{name: "peek n", check: func(c Conn) error {
			b, err := c.Peek(4)
			return errors.Join(expect("Peek(4)", b, err, "0123", nil), buffered(c, 10))
		}},
		{name: "peek all", check: func(c Conn) error {
			b, err := c.Peek(-1)
			return errors.Join(expect("Peek(-1)", b, err, msg, nil), buffered(c, 10))
		}},
		{name: "peek zero", check: func(c Conn) error {
			b, err := c.Peek(0)
			return errors.Join(expect("Peek(0)", b, err, "", nil), buffered(c, 10))
		}},
		{name: "peek exact", check: func(c Conn) error {
			b, err := c.Peek(10)
			return expect("Peek(10)", b, err, msg, nil)
		}},
		{name: "peek short", check: func(c Conn) error {
			b, err := c.Peek(11)
			return errors.Join(expect("Peek(11)", b, err, msg, ErrShortBuffer), buffered(c, 10))
		}},
		{name: "peek repeats", check: func(c Conn) error {
			b1, err1 := c.Peek(3)
			e1 := expect("Peek(3)", b1, err1, "012", nil)
			b2, err2 := c.Peek(5)
			return errors.Join(e1, expect("second Peek(5)", b2, err2, "01234", nil))
		}},
		{name: "next", check: func(c Conn) error {
			b, err := c.Next(3)
			e1 := errors.Join(expect("Next(3)", b, err, "012", nil), buffered(c, 7))
			b, err = c.Next(-1)
			e2 := errors.Join(expect("Next(-1)", b, err, "3456789", nil), buffered(c, 0))
			b, err = c.Next(1)
			return errors.Join(e1, e2, expect("Next(1) when empty", b, err, "", ErrShortBuffer))
		}},
		{name: "next short", check: func(c Conn) error {
			b, err := c.Next(20)
			return errors.Join(expect("Next(20)", b, err, msg, ErrShortBuffer), buffered(c, 0))
		}},
		{name: "read", check: func(c Conn) error {
			p := make([]byte, 4)
			n, err := c.Read(p)
			e1 := expect("Read(4)", p[:n], err, "0123", nil)
			p = make([]byte, 16)
			n, err = c.Read(p)
			e2 := expect("Read(16)", p[:n], err, "456789", nil)
			n, err = c.Read(p)
			return errors.Join(e1, e2, expect("Read when empty", p[:n], err, "", io.EOF))
		}},
		{name: "read nothing", check: func(c Conn) error {
			n, err := c.Read(nil)
			return errors.Join(expect("Read(nil)", make([]byte, n), err, "", nil), buffered(c, 10))
		}},
		{name: "discard", check: func(c Conn) error {
			n, err := c.Discard(2)
			e1 := expect("Discard(2)", make([]byte, n), err, "\x00\x00", nil)
			b, err := c.Peek(1)
			e2 := expect("Peek(1) after Discard(2)", b, err, "2", nil)
			n, err = c.Discard(100)
			e3 := expect("Discard(100)", make([]byte, n), err, string(make([]byte, 8)), nil)
			return errors.Join(e1, e2, e3, buffered(c, 0))
		}},
		{name: "discard negative", check: func(c Conn) error {
			n, err := c.Discard(-1)
			if n != 0 || !errors.Is(err, ErrNegativeSize) {
				return fmt.Errorf("Discard(-1) = (%d, %v), want (0, ErrNegativeSize)", n, err)
			}
			return buffered(c, 10)
		}},
	}
	modes := []struct {
		name  string
		split bool // send in two pieces, the first one left in the ring
	}{
		{name: "view", split: false},
		{name: "ring", split: true},
	}
	for _, tt := range tests {
		for _, m := range modes {
			t.Run(tt.name+"/"+m.name, func(t *testing.T) {
				results := make(chan error, 1)
				h := &tbHandler{traffic: func(c Conn) Action {
					if c.InboundBuffered() < len(msg) {
						if m.split {
							_, _ = c.Write([]byte("A"))
						}
						return None
					}
					inRing := c.(*conn).inbound.Buffered() == len(msg)
					err := tt.check(c)
					if inRing != m.split {
						err = errors.Join(err, fmt.Errorf("bytes in the ring: %v, want %v", inRing, m.split))
					}
					results <- err
					_, _ = c.Discard(c.InboundBuffered())
					_, _ = c.Write([]byte("D"))
					return None
				}}
				s := startEngine(t, h, "tcp://127.0.0.1:0", WithLoops(1))
				cl := s.dial(t)
				if err := cl.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
					t.Fatal(err)
				}
				ack := make([]byte, 1)
				if m.split {
					if _, err := cl.Write([]byte(msg[:5])); err != nil {
						t.Fatal(err)
					}
					if _, err := io.ReadFull(cl, ack); err != nil || ack[0] != 'A' {
						t.Fatalf("ack of the first piece: %q, %v", ack, err)
					}
					if _, err := cl.Write([]byte(msg[5:])); err != nil {
						t.Fatal(err)
					}
				} else if _, err := cl.Write([]byte(msg)); err != nil {
					t.Fatal(err)
				}
				if err := tbRecv(t, results, 5*time.Second, "the check"); err != nil {
					t.Error(err)
				}
				if _, err := io.ReadFull(cl, ack); err != nil || ack[0] != 'D' {
					t.Fatalf("done ack: %q, %v", ack, err)
				}
			})
		}
	}
}

// TestConnInboundRingWrap streams a long pattern in pieces of varying size
// and consumes all but a few bytes each time, so the connection's ring is
// never empty and its content wraps around the end of its memory again and
// again; every Peek must still show the stream in order.
func TestConnInboundRingWrap(t *testing.T) {
	total := tbScale(256<<10, 4)
	type report struct {
		wraps, turns int
		err          error
	}
	done := make(chan report, 1)
	var consumed, turns, wraps int
	var failed bool
	readBuf := make([]byte, 64<<10)
	fail := func(err error) Action {
		if !failed {
			failed = true
			done <- report{err: err}
		}
		return Close
	}
	h := &tbHandler{traffic: func(c Conn) Action {
		turns++
		if _, tail := c.(*conn).inbound.Peek(-1); len(tail) > 0 {
			wraps++
		}
		b, err := c.Peek(-1)
		if err != nil {
			return fail(fmt.Errorf("Peek(-1): %v", err))
		}
		if !bytes.Equal(b, tbPattern(consumed, len(b))) {
			return fail(fmt.Errorf("turn %d: %d bytes at offset %d differ from the stream", turns, len(b), consumed))
		}
		keep := min(len(b), 1+turns%29)
		if consumed+len(b) == total {
			keep = 0
		}
		n := len(b) - keep
		switch turns % 3 {
		case 0:
			got, err := c.Next(n)
			if err != nil || len(got) != n || !bytes.Equal(got, tbPattern(consumed, n)) {
				return fail(fmt.Errorf("Next(%d) = %d bytes, %v", n, len(got), err))
			}
		case 1:
			if d, err := c.Discard(n); d != n || err != nil {
				return fail(fmt.Errorf("Discard(%d) = %d, %v", n, d, err))
			}
		case 2:
			r, err := c.Read(readBuf[:n])
			if n > 0 && (err != nil || r != n || !bytes.Equal(readBuf[:n], tbPattern(consumed, n))) {
				return fail(fmt.Errorf("Read(%d bytes) = %d, %v", n, r, err))
			}
		}
		consumed += n
		if got := c.InboundBuffered(); got != keep {
			return fail(fmt.Errorf("InboundBuffered() = %d after consuming, want %d", got, keep))
		}
		var ack [8]byte
		binary.BigEndian.PutUint64(ack[:], uint64(consumed+keep))
		_, _ = c.Write(ack[:])
		if consumed == total {
			done <- report{wraps: wraps, turns: turns}
		}
		return None
	}}
	s := startEngine(t, h, "tcp://127.0.0.1:0", WithLoops(1))
	cl := s.dial(t)
	if err := cl.SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
		t.Fatal(err)
	}
	stream := tbPattern(0, total)
	var ack [8]byte
	clientFailed := func(format string, args ...any) {
		t.Helper()
		select { // the handler's error, if it closed the connection
		case r := <-done:
			if r.err != nil {
				t.Fatal(r.err)
			}
		default:
		}
		t.Fatalf(format, args...)
	}
	for sent, i := 0, 0; sent < total; i++ {
		piece := stream[sent:min(total, sent+1+(i*977)%3001)]
		if _, err := cl.Write(piece); err != nil {
			clientFailed("write piece %d: %v", i, err)
		}
		sent += len(piece)
		// Wait until the handler has seen the piece, so that the next one
		// arrives in a read of its own and lands behind the kept bytes.
		for received := 0; received < sent; {
			if _, err := io.ReadFull(cl, ack[:]); err != nil {
				clientFailed("ack after piece %d: %v", i, err)
			}
			received = int(binary.BigEndian.Uint64(ack[:]))
		}
	}
	r := tbRecv(t, done, 5*time.Second, "the handler's report")
	if r.err != nil {
		t.Fatal(r.err)
	}
	t.Logf("%d bytes in %d turns, %d with the ring wrapped", total, r.turns, r.wraps)
	if r.wraps == 0 {
		t.Error("the ring never wrapped: the test did not exercise the wrap")
	}
}

// TestReadBufferSizes streams more than the read buffer holds through
// handlers that consume everything or only whole frames, with the smallest
// allowed read buffer, an odd size, and the default.
func TestReadBufferSizes(t *testing.T) {
	total := tbScale(1<<20, 8)
	frame := func(size int) func(c Conn) Action {
		return func(c Conn) Action {
			for c.InboundBuffered() >= size {
				b, _ := c.Next(size)
				if _, err := c.Write(b); err != nil {
					return Close
				}
			}
			return None
		}
	}
	echo := func(c Conn) Action {
		b, _ := c.Next(-1)
		if _, err := c.Write(b); err != nil {
			return Close
		}
		return None
	}
	tests := []struct {
		name    string
		bufSize int
		traffic func(c Conn) Action
		// total is rounded down to whole frames of this size.
		frameSize int
	}{
		{name: "echo/512", bufSize: 512, traffic: echo, frameSize: 1},
		{name: "echo/777", bufSize: 777, traffic: echo, frameSize: 1},
		{name: "echo/default", bufSize: DefaultReadBufferSize, traffic: echo, frameSize: 1},
		{name: "frames/512", bufSize: 512, traffic: frame(1000), frameSize: 1000},
		{name: "frames/777", bufSize: 777, traffic: frame(4096), frameSize: 4096},
		{name: "frames/default", bufSize: DefaultReadBufferSize, traffic: frame(100_000), frameSize: 100_000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startEngine(t, &tbHandler{traffic: tt.traffic}, "tcp://127.0.0.1:0",
				WithLoops(1), WithReadBufferSize(tt.bufSize))
			cl := s.dial(t)
			if err := cl.SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
				t.Fatal(err)
			}
			n := total / tt.frameSize * tt.frameSize
			want := tbPattern(0, n)
			writeErr := make(chan error, 1)
			go func() { // write and read at once: the echo may fill both directions
				_, err := cl.Write(want)
				writeErr <- err
			}()
			got := make([]byte, n)
			_, err := io.ReadFull(cl, got)
			if werr := tbRecv(t, writeErr, 30*time.Second, "the writer"); werr != nil {
				t.Fatalf("write: %v", werr)
			}
			if err != nil {
				t.Fatalf("read %d bytes: %v", n, err)
			}
			if i := tbFirstDiff(got, want); i >= 0 {
				t.Fatalf("%d bytes echoed, first difference at offset %d", n, i)
			}
		})
	}
}

// TestScratchReleasedAfterBigPeek: the contiguous copy a big Peek across a
// ring's wrap needs is not kept by the loop once the callback returns.
func TestScratchReleasedAfterBigPeek(t *testing.T) {
	const big = 1 << 20
	kept := make(chan int, 1)
	h := &tbHandler{traffic: func(c Conn) Action {
		l := c.(*conn).loop
		_ = l.scratchFor(big) // what Peek takes for a wrapped 1 MiB message
		_, _ = c.Next(-1)
		c.Loop().AfterFunc(0, func() { kept <- cap(l.scratch) })
		return None
	}}
	s := startEngine(t, h, "tcp://127.0.0.1:0", WithLoops(1))
	if _, err := s.dial(t).Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if n := tbRecv(t, kept, 5*time.Second, "the scratch size"); n > maxScratch {
		t.Fatalf("the loop keeps a %d-byte scratch buffer after the callback, want at most %d", n, maxScratch)
	}
}
