//go:build linux && !evloop_portable

package socket

import (
	"bytes"
	"errors"
	"testing"

	"golang.org/x/sys/unix"
)

func TestWritevCapsIovecs(t *testing.T) {
	checkNoFDLeak(t)
	tests := []struct {
		name    string
		buffers int
		empty   bool // an empty buffer between every two non-empty ones
	}{
		{name: "under the cap", buffers: MaxIovecs - 1},
		{name: "at the cap", buffers: MaxIovecs},
		{name: "over the cap", buffers: 3*MaxIovecs + 5},
		{name: "over the cap with empty buffers", buffers: 2*MaxIovecs + 1, empty: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := socketPair(t)
			var bufs [][]byte
			firstCall := 0
			for i := range tt.buffers {
				if tt.empty {
					bufs = append(bufs, nil)
				}
				bufs = append(bufs, pattern(1+i%50, i))
				if i < MaxIovecs {
					firstCall += 1 + i%50
				}
			}
			want := bytes.Join(bufs, nil)
			n, err := Writev(a, bufs)
			if err != nil || n != firstCall {
				t.Fatalf("first Writev = (%d, %v), want (%d, nil): the first %d non-empty buffers",
					n, err, firstCall, MaxIovecs)
			}
			writevAll(t, a, advance(bufs, n))
			if got := readN(t, b, len(want)); !bytes.Equal(got, want) {
				t.Fatal("peer received bytes that differ from the buffers in order")
			}
		})
	}
}

func TestWritevEdgeCases(t *testing.T) {
	checkNoFDLeak(t)
	a, _ := socketPair(t)
	tests := []struct {
		name    string
		fd      int
		bufs    [][]byte
		wantN   int
		wantErr error
	}{
		{name: "no buffers", fd: a, bufs: nil},
		{name: "all empty", fd: a, bufs: [][]byte{nil, {}, make([]byte, 0, 8)}},
		{name: "all empty on a bad fd", fd: -1, bufs: [][]byte{{}}},
		{name: "bad fd", fd: -1, bufs: [][]byte{[]byte("x")}, wantErr: unix.EBADF},
	}
	for _, tt := range tests {
		n, err := Writev(tt.fd, tt.bufs)
		if n != tt.wantN || !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
			t.Errorf("%s: Writev = (%d, %v), want (%d, %v)", tt.name, n, err, tt.wantN, tt.wantErr)
		}
	}
}

// TestWritevFullBuffer fills the socket buffer so writev reports EAGAIN
// with n == 0, and the bytes written before it still arrive intact.
func TestWritevFullBuffer(t *testing.T) {
	checkNoFDLeak(t)
	a, b := socketPair(t)
	chunk := pattern(64<<10, 9)
	var sent []byte
	var err error
	for i := 0; i < 10000; i++ {
		var n int
		n, err = Writev(a, [][]byte{chunk[:32<<10], chunk[32<<10:]})
		if err != nil {
			if n != 0 {
				t.Fatalf("Writev returned n = %d with error %v", n, err)
			}
			break
		}
		sent = append(sent, chunk[:n]...)
	}
	if !errors.Is(err, unix.EAGAIN) {
		t.Fatalf("Writev on a full socket: %v, want EAGAIN", err)
	}
	if got := readN(t, b, len(sent)); !bytes.Equal(got, sent) {
		t.Fatal("bytes written before EAGAIN arrived corrupted")
	}
}
