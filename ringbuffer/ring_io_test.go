package ringbuffer

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

// limitWriter accepts at most limit bytes in total; a call it cannot
// complete returns err, which may be nil to model a silent short write.
type limitWriter struct {
	limit int
	err   error
	calls int
	got   bytes.Buffer
}

func (w *limitWriter) Write(p []byte) (int, error) {
	w.calls++
	n := min(len(p), w.limit-w.got.Len())
	w.got.Write(p[:n])
	if n < len(p) {
		return n, w.err
	}
	return n, nil
}

// countWriter reports a fixed count regardless of p, to model a writer that
// breaks the io.Writer contract.
type countWriter int

func (w countWriter) Write(p []byte) (int, error) {
	if w < 0 {
		return int(w), nil
	}
	return len(p) + int(w), nil
}

// zeroReader never makes progress.
type zeroReader struct{}

func (zeroReader) Read([]byte) (int, error) { return 0, nil }

// overReader claims more bytes than it was given room for.
type overReader struct{}

func (overReader) Read(p []byte) (int, error) { return len(p) + 1, nil }

func TestWriteTo(t *testing.T) {
	tests := []struct {
		name      string
		headLen   int
		tailLen   int
		w         io.Writer
		wantN     int64
		wantErr   error
		wantCalls int
	}{
		{name: "empty ring", w: &limitWriter{limit: 100}, wantCalls: 0},
		{name: "not wrapped", headLen: 10, w: &limitWriter{limit: 100}, wantN: 10, wantCalls: 1},
		{name: "wrapped, head then tail", headLen: 10, tailLen: 5, w: &limitWriter{limit: 100}, wantN: 15, wantCalls: 2},
		{name: "short write in head", headLen: 10, tailLen: 5, w: &limitWriter{limit: 4}, wantN: 4, wantErr: io.ErrShortWrite, wantCalls: 1},
		{name: "short write in tail", headLen: 10, tailLen: 5, w: &limitWriter{limit: 12}, wantN: 12, wantErr: io.ErrShortWrite, wantCalls: 2},
		{name: "error after some bytes", headLen: 10, tailLen: 5, w: &limitWriter{limit: 6, err: errBoom}, wantN: 6, wantErr: errBoom, wantCalls: 1},
		{name: "error before any byte", headLen: 10, tailLen: 5, w: &limitWriter{limit: 0, err: errBoom}, wantN: 0, wantErr: errBoom, wantCalls: 1},
		{name: "negative count", headLen: 10, tailLen: 5, w: countWriter(-1), wantErr: ErrInvalidWrite},
		{name: "count past len(p)", headLen: 10, tailLen: 5, w: countWriter(1), wantErr: ErrInvalidWrite},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Ring{}
			if tt.headLen > 0 {
				r = newWrapped(t, tt.headLen, tt.tailLen)
			}
			total := r.Buffered()
			capBefore := r.Cap()
			n, err := r.WriteTo(tt.w)
			if n != tt.wantN || !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("WriteTo = %d, %v; want %d, %v", n, err, tt.wantN, tt.wantErr)
			}
			if lw, ok := tt.w.(*limitWriter); ok {
				if got := lw.got.Bytes(); !bytes.Equal(got, pattern(0, int(n))) {
					t.Errorf("writer got %q, want %q", got, pattern(0, int(n)))
				}
				if lw.calls != tt.wantCalls {
					t.Errorf("writer called %d times, want %d", lw.calls, tt.wantCalls)
				}
			}
			if got, want := contents(t, r), pattern(int(n), total-int(n)); !bytes.Equal(got, want) {
				t.Errorf("kept %q, want %q", got, want)
			}
			if r.Cap() != capBefore {
				t.Errorf("WriteTo changed Cap() from %d to %d", capBefore, r.Cap())
			}
		})
	}
}

func TestReadFrom(t *testing.T) {
	tests := []struct {
		name    string
		headLen int // 0: start from the zero ring
		tailLen int
		rd      func(have int) io.Reader
		wantN   int64
		wantErr error
		wantCap int
	}{
		{
			name:    "data then EOF, growing from zero",
			rd:      func(have int) io.Reader { return bytes.NewReader(pattern(have, 5000)) },
			wantN:   5000,
			wantCap: 8 << 10,
		},
		{
			name:    "data and EOF together",
			headLen: 10,
			rd:      func(have int) io.Reader { return iotest.DataErrReader(bytes.NewReader(pattern(have, 100))) },
			wantN:   100,
			wantCap: MinCap,
		},
		{
			name:    "one byte at a time across the wrap and growth",
			headLen: 10,
			tailLen: 5,
			rd:      func(have int) io.Reader { return iotest.OneByteReader(bytes.NewReader(pattern(have, 1500))) },
			wantN:   1500,
			wantCap: 2 * MinCap,
		},
		{
			name:    "more than the free space of a wrapped ring",
			headLen: 10,
			tailLen: 5,
			rd:      func(have int) io.Reader { return bytes.NewReader(pattern(have, 3000)) },
			wantN:   3000,
			wantCap: 4 * MinCap,
		},
		{
			name:    "fills a wrapped ring exactly, then grows to see EOF",
			headLen: 10,
			tailLen: 5,
			rd:      func(have int) io.Reader { return bytes.NewReader(pattern(have, MinCap-have)) },
			wantN:   MinCap - 15,
			wantCap: 2 * MinCap,
		},
		{
			name:    "error keeps the bytes read before it",
			headLen: 10,
			tailLen: 5,
			rd: func(have int) io.Reader {
				return io.MultiReader(bytes.NewReader(pattern(have, 3)), iotest.ErrReader(errBoom))
			},
			wantN:   3,
			wantErr: errBoom,
			wantCap: MinCap,
		},
		{
			name:    "immediate EOF",
			rd:      func(int) io.Reader { return bytes.NewReader(nil) },
			wantCap: MinCap,
		},
		{
			name:    "no progress",
			rd:      func(int) io.Reader { return zeroReader{} },
			wantErr: io.ErrNoProgress,
			wantCap: MinCap,
		},
		{
			name:    "count past len(p)",
			headLen: 10,
			rd:      func(int) io.Reader { return overReader{} },
			wantErr: ErrInvalidRead,
			wantCap: MinCap,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Ring{}
			if tt.headLen > 0 {
				r = newWrapped(t, tt.headLen, tt.tailLen)
			}
			have := r.Buffered()
			n, err := r.ReadFrom(tt.rd(have))
			if n != tt.wantN || !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("ReadFrom = %d, %v; want %d, %v", n, err, tt.wantN, tt.wantErr)
			}
			if got, want := contents(t, r), pattern(0, have+int(n)); !bytes.Equal(got, want) {
				t.Errorf("contents = %q, want %q", got, want)
			}
			if r.Cap() != tt.wantCap {
				t.Errorf("Cap() = %d, want %d", r.Cap(), tt.wantCap)
			}
		})
	}
}
