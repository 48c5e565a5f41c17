//go:build !race

package plaintext

import (
	"strings"
	"testing"
)

// The race detector instruments allocations, so this runs only without it.

func TestAnswerAllocs(t *testing.T) {
	in := []byte(strings.Repeat(get, 16))
	out := make([]byte, 0, 8<<10)
	date := []byte("Mon, 02 Jan 2006 15:04:05 GMT")
	allocs := testing.AllocsPerRun(100, func() {
		out, _, _ = Answer(out[:0], in, date)
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per 16 requests, want 0", allocs)
	}
}
