package ringbuffer

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"unsafe"
)

var errBoom = errors.New("boom")

// pattern returns n bytes starting at offset off of a repeating sequence, so
// any reordering or duplication of ring content shows up in a comparison.
func pattern(off, n int) []byte {
	p := make([]byte, n)
	filled := min(n, 26)
	for i := range filled {
		p[i] = byte('a' + (off+i)%26)
	}
	// The sequence has period 26, so doubling copies extend it; this keeps
	// per-byte work out of instrumented fuzz loops.
	for filled < n {
		filled += copy(p[filled:], p[:filled])
	}
	return p
}

// contents returns everything buffered in r without consuming it.
func contents(tb testing.TB, r *Ring) []byte {
	tb.Helper()
	head, tail := r.Peek(-1)
	if len(head)+len(tail) != r.Buffered() {
		tb.Fatalf("Peek(-1) returned %d+%d bytes, Buffered() = %d", len(head), len(tail), r.Buffered())
	}
	return append(append([]byte{}, head...), tail...)
}

// newWrapped returns a MinCap ring holding pattern(0, headLen+tailLen), laid
// out so the first headLen bytes end at the end of memory and the remaining
// tailLen bytes start at its beginning. headLen must be in [1, MinCap].
func newWrapped(tb testing.TB, headLen, tailLen int) *Ring {
	tb.Helper()
	r := &Ring{}
	pad := MinCap - headLen
	mustWrite(tb, r, bytes.Repeat([]byte{'#'}, pad))
	mustWrite(tb, r, pattern(0, headLen))
	if _, err := r.Discard(pad); err != nil {
		tb.Fatalf("Discard(%d): %v", pad, err)
	}
	mustWrite(tb, r, pattern(headLen, tailLen))
	if r.Cap() != MinCap {
		tb.Fatalf("newWrapped: Cap() = %d, want %d", r.Cap(), MinCap)
	}
	return r
}

func mustWrite(tb testing.TB, r *Ring, p []byte) {
	tb.Helper()
	if n, err := r.Write(p); n != len(p) || err != nil {
		tb.Fatalf("Write(%d bytes) = %d, %v", len(p), n, err)
	}
}

func TestWrite(t *testing.T) {
	tests := []struct {
		name    string
		writes  []int
		wantCap int
	}{
		{name: "nothing keeps the ring memoryless", writes: []int{0}, wantCap: 0},
		{name: "one byte takes MinCap", writes: []int{1}, wantCap: MinCap},
		{name: "exactly MinCap", writes: []int{MinCap}, wantCap: MinCap},
		{name: "one past MinCap doubles", writes: []int{MinCap + 1}, wantCap: 2 * MinCap},
		{name: "many small writes grow step by step", writes: []int{700, 700, 700}, wantCap: 4 * MinCap},
		{name: "large write jumps to its power of two", writes: []int{10, 100_000}, wantCap: 128 << 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Ring
			var want []byte
			for i, n := range tt.writes {
				p := pattern(len(want), n)
				var got int
				var err error
				if i%2 == 0 {
					got, err = r.Write(p)
				} else {
					got, err = r.WriteString(string(p))
				}
				if got != n || err != nil {
					t.Fatalf("write %d: got %d, %v; want %d, nil", i, got, err, n)
				}
				want = append(want, p...)
			}
			if r.Cap() != tt.wantCap {
				t.Errorf("Cap() = %d, want %d", r.Cap(), tt.wantCap)
			}
			if got := contents(t, &r); !bytes.Equal(got, want) {
				t.Errorf("contents = %q, want %q", got, want)
			}
			if r.Available() != r.Cap()-len(want) {
				t.Errorf("Available() = %d, want %d", r.Available(), r.Cap()-len(want))
			}
		})
	}
}

// TestWriteSplitsAtEnd covers a single write that must be split between the
// end of memory and its start.
func TestWriteSplitsAtEnd(t *testing.T) {
	tests := []struct {
		name     string
		n        int
		wantHead int
		wantTail int
	}{
		{name: "fits before the end", n: 20, wantHead: 30},
		{name: "ends exactly at the end", n: 24, wantHead: 34},
		{name: "one byte wraps", n: 25, wantHead: 34, wantTail: 1},
		{name: "fills the ring", n: MinCap - 10, wantHead: 34, wantTail: MinCap - 34},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Ring
			mustWrite(t, &r, pattern(0, 1000))
			if _, err := r.Discard(990); err != nil {
				t.Fatalf("Discard: %v", err)
			}
			mustWrite(t, &r, pattern(1000, tt.n))
			head, tail := r.Peek(-1)
			if len(head) != tt.wantHead || len(tail) != tt.wantTail || r.Cap() != MinCap {
				t.Fatalf("layout %d+%d cap %d, want %d+%d cap %d",
					len(head), len(tail), r.Cap(), tt.wantHead, tt.wantTail, MinCap)
			}
			if got, want := contents(t, &r), pattern(990, 10+tt.n); !bytes.Equal(got, want) {
				t.Errorf("contents = %q, want %q", got, want)
			}
		})
	}
}

func TestPeek(t *testing.T) {
	tests := []struct {
		name     string
		headLen  int // bytes before the end of memory
		tailLen  int // bytes wrapped to the start
		n        int
		wantHead int
		wantTail int
	}{
		{name: "not wrapped, all", headLen: 10, n: -1, wantHead: 10},
		{name: "not wrapped, prefix", headLen: 10, n: 4, wantHead: 4},
		{name: "wrapped, all", headLen: 10, tailLen: 5, n: -1, wantHead: 10, wantTail: 5},
		{name: "wrapped, within head", headLen: 10, tailLen: 5, n: 7, wantHead: 7},
		{name: "wrapped, exactly head", headLen: 10, tailLen: 5, n: 10, wantHead: 10},
		{name: "wrapped, across the wrap", headLen: 10, tailLen: 5, n: 12, wantHead: 10, wantTail: 2},
		{name: "more than buffered", headLen: 10, tailLen: 5, n: 100, wantHead: 10, wantTail: 5},
		{name: "zero", headLen: 10, tailLen: 5, n: 0},
		{name: "full ring, wrapped", headLen: 1, tailLen: MinCap - 1, n: -1, wantHead: 1, wantTail: MinCap - 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newWrapped(t, tt.headLen, tt.tailLen)
			head, tail := r.Peek(tt.n)
			if len(head) != tt.wantHead || len(tail) != tt.wantTail {
				t.Fatalf("Peek(%d) lengths = %d, %d; want %d, %d", tt.n, len(head), len(tail), tt.wantHead, tt.wantTail)
			}
			got := append(append([]byte{}, head...), tail...)
			if want := pattern(0, tt.wantHead+tt.wantTail); !bytes.Equal(got, want) {
				t.Errorf("Peek(%d) = %q, want %q", tt.n, got, want)
			}
			if cap(head) != len(head) || cap(tail) != len(tail) {
				t.Errorf("Peek results expose ring memory past their length: cap %d, %d", cap(head), cap(tail))
			}
			if r.Buffered() != tt.headLen+tt.tailLen {
				t.Errorf("Peek consumed bytes: Buffered() = %d", r.Buffered())
			}
		})
	}
}

func TestPeekEmpty(t *testing.T) {
	var r Ring
	if head, tail := r.Peek(-1); head != nil || tail != nil {
		t.Fatalf("Peek on zero ring = %q, %q; want nil, nil", head, tail)
	}
}

func TestGrowWhileWrapped(t *testing.T) {
	tests := []struct {
		name    string
		headLen int
		tailLen int
		extra   int
		wantCap int
	}{
		{name: "one byte over", headLen: 100, tailLen: MinCap - 100, extra: 1, wantCap: 2 * MinCap},
		{name: "half full, big write", headLen: 300, tailLen: 200, extra: 3000, wantCap: 4 * MinCap},
		{name: "head only at the end", headLen: 24, tailLen: 0, extra: 1500, wantCap: 2 * MinCap},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newWrapped(t, tt.headLen, tt.tailLen)
			have := tt.headLen + tt.tailLen
			mustWrite(t, r, pattern(have, tt.extra))
			if r.Cap() != tt.wantCap {
				t.Errorf("Cap() = %d, want %d", r.Cap(), tt.wantCap)
			}
			if _, tail := r.Peek(-1); len(tail) != 0 {
				t.Errorf("content still wrapped after growth: tail of %d bytes", len(tail))
			}
			if got, want := contents(t, r), pattern(0, have+tt.extra); !bytes.Equal(got, want) {
				t.Errorf("order lost in growth:\n got %q\nwant %q", got, want)
			}
		})
	}
}

func TestRead(t *testing.T) {
	tests := []struct {
		name     string
		headLen  int
		tailLen  int
		bufLen   int
		wantN    int
		wantErr  error
		wantLeft int
	}{
		{name: "empty ring, non-empty buffer", bufLen: 8, wantErr: io.EOF},
		{name: "empty ring, empty buffer", bufLen: 0},
		{name: "data, empty buffer", headLen: 5, bufLen: 0, wantLeft: 5},
		{name: "partial", headLen: 10, bufLen: 4, wantN: 4, wantLeft: 6},
		{name: "across the wrap", headLen: 10, tailLen: 5, bufLen: 12, wantN: 12, wantLeft: 3},
		{name: "all, buffer larger", headLen: 10, tailLen: 5, bufLen: 64, wantN: 15},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Ring{}
			if tt.headLen > 0 {
				r = newWrapped(t, tt.headLen, tt.tailLen)
			}
			capBefore := r.Cap()
			buf := make([]byte, tt.bufLen)
			n, err := r.Read(buf)
			if n != tt.wantN || !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("Read = %d, %v; want %d, %v", n, err, tt.wantN, tt.wantErr)
			}
			if want := pattern(0, n); !bytes.Equal(buf[:n], want) {
				t.Errorf("Read data = %q, want %q", buf[:n], want)
			}
			if r.Buffered() != tt.wantLeft {
				t.Errorf("Buffered() = %d, want %d", r.Buffered(), tt.wantLeft)
			}
			if r.Cap() != capBefore {
				t.Errorf("Read changed Cap() from %d to %d", capBefore, r.Cap())
			}
			if tt.wantLeft == 0 && (r.r != 0 || r.w != 0) {
				t.Errorf("emptied ring kept indices r=%d w=%d, want 0, 0", r.r, r.w)
			}
		})
	}
}

func TestDiscard(t *testing.T) {
	tests := []struct {
		name     string
		n        int
		wantN    int
		wantErr  error
		wantLeft int
	}{
		{name: "negative", n: -1, wantErr: ErrNegativeCount, wantLeft: 15},
		{name: "zero", n: 0, wantLeft: 15},
		{name: "within head", n: 3, wantN: 3, wantLeft: 12},
		{name: "across the wrap", n: 12, wantN: 12, wantLeft: 3},
		{name: "exact", n: 15, wantN: 15},
		{name: "more than buffered", n: 1000, wantN: 15},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newWrapped(t, 10, 5)
			n, err := r.Discard(tt.n)
			if n != tt.wantN || !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("Discard(%d) = %d, %v; want %d, %v", tt.n, n, err, tt.wantN, tt.wantErr)
			}
			if got, want := contents(t, r), pattern(n, tt.wantLeft); !bytes.Equal(got, want) {
				t.Errorf("left = %q, want %q", got, want)
			}
			if r.Cap() != MinCap {
				t.Errorf("Discard changed Cap() to %d", r.Cap())
			}
		})
	}
}

func TestReleaseAndReset(t *testing.T) {
	tests := []struct {
		name    string
		before  int // bytes written first
		op      func(*Ring)
		wantCap int
	}{
		{name: "Release drops memory", before: 2000, op: (*Ring).Release, wantCap: 0},
		{name: "Release on zero ring", before: 0, op: (*Ring).Release, wantCap: 0},
		{name: "Reset keeps memory", before: 2000, op: (*Ring).Reset, wantCap: 2 * MinCap},
		{name: "Reset on zero ring", before: 0, op: (*Ring).Reset, wantCap: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Ring
			mustWrite(t, &r, pattern(0, tt.before))
			tt.op(&r)
			if r.Cap() != tt.wantCap || r.Buffered() != 0 || !r.IsEmpty() {
				t.Fatalf("after op: Cap()=%d Buffered()=%d IsEmpty()=%v; want %d, 0, true",
					r.Cap(), r.Buffered(), r.IsEmpty(), tt.wantCap)
			}
			mustWrite(t, &r, pattern(0, 10))
			if got := contents(t, &r); !bytes.Equal(got, pattern(0, 10)) {
				t.Errorf("ring unusable after op: contents %q", got)
			}
		})
	}
}

func TestFits(t *testing.T) {
	tests := []struct {
		name     string
		buffered int
		n        int
		want     bool
	}{
		{name: "empty, small", buffered: 0, n: 1, want: true},
		{name: "empty, exactly MaxCap", buffered: 0, n: MaxCap, want: true},
		{name: "empty, MaxCap+1", buffered: 0, n: MaxCap + 1, want: false},
		{name: "full, one more", buffered: MaxCap, n: 1, want: false},
		{name: "one short of full", buffered: MaxCap - 1, n: 1, want: true},
		{name: "huge n does not overflow", buffered: 10, n: int(^uint(0) >> 1), want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fits(tt.buffered, tt.n); got != tt.want {
				t.Errorf("fits(%d, %d) = %v, want %v", tt.buffered, tt.n, got, tt.want)
			}
		})
	}
}

// TestTooLargeIsAllOrNothing forges the counters of a nearly full ring, so the
// MaxCap path of the real methods runs without allocating 1 GiB: the size
// check must reject before touching memory.
func TestTooLargeIsAllOrNothing(t *testing.T) {
	tests := []struct {
		name     string
		buffered uint32
		op       func(*Ring) (int64, error)
	}{
		{name: "Write", buffered: MaxCap - 10, op: func(r *Ring) (int64, error) {
			n, err := r.Write(make([]byte, 11))
			return int64(n), err
		}},
		{name: "WriteString", buffered: MaxCap - 10, op: func(r *Ring) (int64, error) {
			n, err := r.WriteString(strings.Repeat("x", 11))
			return int64(n), err
		}},
		{name: "ReadFrom when full", buffered: MaxCap, op: func(r *Ring) (int64, error) {
			return r.ReadFrom(strings.NewReader("x"))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Ring{w: tt.buffered}
			n, err := tt.op(&r)
			if n != 0 || !errors.Is(err, ErrTooLarge) {
				t.Fatalf("got %d, %v; want 0, ErrTooLarge", n, err)
			}
			if r.Buffered() != int(tt.buffered) || r.c != nil {
				t.Errorf("ring changed: Buffered()=%d, memory %v", r.Buffered(), r.c != nil)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	for _, err := range []error{ErrTooLarge, ErrNegativeCount, ErrInvalidWrite, ErrInvalidRead} {
		if !strings.HasPrefix(err.Error(), "ringbuffer: ") {
			t.Errorf("error %q lacks the package prefix", err)
		}
	}
}

// TestRingSize guards the footprint: every connection embeds two rings.
func TestRingSize(t *testing.T) {
	const want = 16
	if got := unsafe.Sizeof(Ring{}); got > want {
		t.Errorf("unsafe.Sizeof(Ring{}) = %d, want <= %d", got, want)
	}
}
