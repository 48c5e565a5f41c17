package ringbuffer

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

// Fuzz ops. Each op is three input bytes: the op, then a 12-bit count k
// (low byte, then the low 4 bits of the third byte) and two flag bits
// (flagAlt 0x40, flagNeg 0x80) whose meaning depends on the op.
const (
	opWrite = iota
	opWriteString
	opRead
	opPeek        // flagAlt: Peek(-1)
	opDiscard     // flagNeg: Discard(-k-1)
	opWriteTo     // everything, into a plain buffer
	opWriteToSome // at most k bytes; flagAlt: fail with an error instead of a short write
	opReadFrom    // k bytes; flagAlt: one byte per Read
	opReset
	opRelease
	opCount
)

const (
	flagAlt = 0x40
	flagNeg = 0x80
	// fuzzMaxBuffered keeps a single input from growing the ring without
	// bound; writes past it are skipped.
	fuzzMaxBuffered = 1 << 16
	// fuzzMaxOps caps the ops taken from one input. The fuzzer's minimizer
	// is quadratic in input length, so short, cheap inputs keep it from
	// stalling the search.
	fuzzMaxOps = 64
)

// encodeOp is the inverse of the decoding in FuzzRing, used for seeds.
func encodeOp(op byte, k int, flags byte) []byte {
	return []byte{op, byte(k), byte(k>>8)&0x0f | flags}
}

func encodeOps(ops ...[]byte) []byte {
	return bytes.Join(ops, nil)
}

// FuzzRing runs a sequence of operations on a Ring and on a bytes.Buffer
// model and requires both to agree after every step.
func FuzzRing(f *testing.F) {
	f.Add(encodeOps(
		encodeOp(opWrite, 1000, 0),
		encodeOp(opDiscard, 990, 0),
		encodeOp(opWriteString, 100, 0),
		encodeOp(opPeek, 0, flagAlt),
		encodeOp(opRead, 50, 0),
		encodeOp(opWriteTo, 0, 0),
	))
	f.Add(encodeOps(
		encodeOp(opWrite, 1000, 0),
		encodeOp(opDiscard, 900, 0),
		encodeOp(opWrite, 500, 0),
		encodeOp(opWrite, 1000, 0),
		encodeOp(opPeek, 700, 0),
		encodeOp(opWriteToSome, 300, flagAlt),
		encodeOp(opRelease, 0, 0),
		encodeOp(opDiscard, 3, flagNeg),
	))
	f.Fuzz(func(t *testing.T, data []byte) {
		var (
			r     Ring
			model bytes.Buffer
			seq   int
		)
		next := func(k int) []byte {
			p := pattern(seq, k)
			seq += k
			return p
		}
		for i := 0; i+3 <= len(data) && i < 3*fuzzMaxOps; i += 3 {
			op := data[i] % opCount
			k := int(data[i+1]) | int(data[i+2]&0x0f)<<8
			alt, neg := data[i+2]&flagAlt != 0, data[i+2]&flagNeg != 0
			capBefore := r.Cap()
			switch op {
			case opWrite, opWriteString, opReadFrom:
				if model.Len()+k > fuzzMaxBuffered {
					continue
				}
				p := next(k)
				var n int64
				var err error
				switch {
				case op == opWrite:
					var m int
					m, err = r.Write(p)
					n = int64(m)
				case op == opWriteString:
					var m int
					m, err = r.WriteString(string(p))
					n = int64(m)
				case alt:
					n, err = r.ReadFrom(iotest.OneByteReader(bytes.NewReader(p)))
				default:
					n, err = r.ReadFrom(bytes.NewReader(p))
				}
				if n != int64(k) || err != nil {
					t.Fatalf("op %d (%d): wrote %d, %v; want %d, nil", i/3, op, n, err, k)
				}
				model.Write(p)
			case opRead:
				got, want := make([]byte, k), make([]byte, k)
				n, err := r.Read(got)
				wn, werr := model.Read(want)
				if n != wn || err != werr || !bytes.Equal(got[:n], want[:wn]) {
					t.Fatalf("op %d: Read(%d) = %d, %v, %q; model %d, %v, %q", i/3, k, n, err, got[:n], wn, werr, want[:wn])
				}
			case opPeek:
				if alt {
					k = -1
				}
				head, tail := r.Peek(k)
				want := model.Bytes()
				if k >= 0 && k < len(want) {
					want = want[:k]
				}
				if len(want) > 0 && len(head) == 0 {
					t.Fatalf("op %d: Peek(%d) returned an empty head with %d bytes due", i/3, k, len(want))
				}
				if got := append(append([]byte{}, head...), tail...); !bytes.Equal(got, want) {
					t.Fatalf("op %d: Peek(%d) = %q, want %q", i/3, k, got, want)
				}
			case opDiscard:
				if neg {
					if n, err := r.Discard(-k - 1); n != 0 || !errors.Is(err, ErrNegativeCount) {
						t.Fatalf("op %d: Discard(%d) = %d, %v; want 0, ErrNegativeCount", i/3, -k-1, n, err)
					}
					break
				}
				want := min(k, model.Len())
				if n, err := r.Discard(k); n != want || err != nil {
					t.Fatalf("op %d: Discard(%d) = %d, %v; want %d, nil", i/3, k, n, err, want)
				}
				model.Next(want)
			case opWriteTo:
				var sink bytes.Buffer
				want := model.Len()
				n, err := r.WriteTo(&sink)
				if n != int64(want) || err != nil || !bytes.Equal(sink.Bytes(), model.Bytes()) {
					t.Fatalf("op %d: WriteTo = %d, %v, %q; want %d, nil, %q", i/3, n, err, sink.Bytes(), want, model.Bytes())
				}
				model.Reset()
			case opWriteToSome:
				w := &limitWriter{limit: k}
				var wantErr error
				if k < model.Len() {
					wantErr = io.ErrShortWrite
					if alt {
						w.err, wantErr = errBoom, errBoom
					}
				}
				want := min(k, model.Len())
				n, err := r.WriteTo(w)
				if n != int64(want) || !errors.Is(err, wantErr) || (wantErr == nil && err != nil) {
					t.Fatalf("op %d: WriteTo(limit %d) = %d, %v; want %d, %v", i/3, k, n, err, want, wantErr)
				}
				if !bytes.Equal(w.got.Bytes(), model.Next(want)) {
					t.Fatalf("op %d: WriteTo(limit %d) wrote the wrong bytes", i/3, k)
				}
			case opReset:
				r.Reset()
				model.Reset()
				if r.Cap() != capBefore {
					t.Fatalf("op %d: Reset changed Cap() from %d to %d", i/3, capBefore, r.Cap())
				}
			case opRelease:
				r.Release()
				model.Reset()
				if r.Cap() != 0 {
					t.Fatalf("op %d: Cap() = %d after Release", i/3, r.Cap())
				}
			}
			checkAgainstModel(t, &r, &model)
		}
	})
}

// checkAgainstModel compares every observable property of r with model.
func checkAgainstModel(tb testing.TB, r *Ring, model *bytes.Buffer) {
	tb.Helper()
	if r.Buffered() != model.Len() {
		tb.Fatalf("Buffered() = %d, model has %d", r.Buffered(), model.Len())
	}
	head, tail := r.Peek(-1)
	want := model.Bytes()
	if len(head)+len(tail) != len(want) || !bytes.Equal(head, want[:len(head)]) || !bytes.Equal(tail, want[len(head):]) {
		tb.Fatalf("contents differ from model:\n got %q + %q\nwant %q", head, tail, want)
	}
	c := r.Cap()
	if c != 0 && (c < MinCap || c > MaxCap || c&(c-1) != 0) {
		tb.Fatalf("Cap() = %d, want 0 or a power of two in [MinCap, MaxCap]", c)
	}
	if r.Available() != c-r.Buffered() || r.Available() < 0 {
		tb.Fatalf("Available() = %d with Cap() %d and Buffered() %d", r.Available(), c, r.Buffered())
	}
	if r.IsEmpty() != (model.Len() == 0) {
		tb.Fatalf("IsEmpty() = %v with %d bytes in the model", r.IsEmpty(), model.Len())
	}
	if r.IsEmpty() && (r.r != 0 || r.w != 0) {
		tb.Fatalf("empty ring kept indices r=%d w=%d; the next write would not be contiguous", r.r, r.w)
	}
}
