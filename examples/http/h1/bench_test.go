package h1

import (
	"strings"
	"testing"
	"time"
)

func BenchmarkParse(b *testing.B) {
	buf := []byte(wrkRequest)
	var req Request
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		if n, err := Parse(buf, &req); n != len(buf) || err != nil {
			b.Fatalf("Parse = %d, %v", n, err)
		}
	}
}

func BenchmarkParsePipelined16(b *testing.B) {
	buf := []byte(strings.Repeat(wrkRequest, 16))
	var req Request
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		off := 0
		for i := 0; i < 16; i++ {
			n, err := Parse(buf[off:], &req)
			if n == 0 || err != nil {
				b.Fatalf("request %d: Parse = %d, %v", i, n, err)
			}
			off += n
		}
	}
}

func BenchmarkAppendResponse(b *testing.B) {
	date := AppendDate(nil, time.Now())
	contentType, body := []byte("text/plain"), []byte("Hello, World!")
	out := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		out = AppendResponse(out[:0], 200, date, contentType, body, true)
	}
	b.SetBytes(int64(len(out)))
}
