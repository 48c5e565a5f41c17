//go:build !race

package h1

import (
	"strings"
	"testing"
	"time"
)

// The race detector instruments allocations, so these run only without it.

func TestZeroAllocs(t *testing.T) {
	wrk := []byte(wrkRequest)
	pipelined := []byte(strings.Repeat(wrkRequest, 16) + "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nbody")
	bad := []byte("GET / HTTP/1.1\r\nHost : h\r\n\r\n")
	date := AppendDate(nil, time.Now())
	out := make([]byte, 0, 4096)
	var cache DateCache
	cache.Refresh(time.Now())
	var req Request
	tests := []struct {
		name string
		run  func() bool // reports whether the result was as expected
	}{
		{name: "Parse wrk request", run: func() bool {
			n, err := Parse(wrk, &req)
			return n == len(wrk) && err == nil
		}},
		{name: "Parse 17 pipelined requests", run: func() bool {
			off := 0
			for i := 0; i < 17; i++ {
				n, err := Parse(pipelined[off:], &req)
				if n == 0 || err != nil {
					return false
				}
				off += n
			}
			return off == len(pipelined)
		}},
		{name: "Parse partial request", run: func() bool {
			n, err := Parse(wrk[:len(wrk)-1], &req)
			return n == 0 && err == nil
		}},
		{name: "Parse bad request", run: func() bool {
			n, err := Parse(bad, &req)
			return n == 0 && err != nil
		}},
		{name: "AppendResponse into reused buffer", run: func() bool {
			out = AppendResponse(out[:0], 200, date, []byte("text/plain"), []byte("Hello, World!"), true)
			return len(out) > 0
		}},
		{name: "AppendDate into reused buffer", run: func() bool {
			out = AppendDate(out[:0], time.Now())
			return len(out) == dateLen
		}},
		{name: "DateCache Get", run: func() bool {
			return len(cache.Get()) == dateLen
		}},
		{name: "StatusFor", run: func() bool {
			return StatusFor(errTransferCoding) == 501
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok := true
			allocs := testing.AllocsPerRun(100, func() {
				ok = ok && tt.run()
			})
			if !ok {
				t.Fatal("unexpected result")
			}
			if allocs != 0 {
				t.Errorf("%v allocations per run, want 0", allocs)
			}
		})
	}
}
