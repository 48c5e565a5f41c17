package resp

import (
	"strings"
	"testing"
)

func BenchmarkParseSet(b *testing.B) {
	buf := AppendCommand(nil, []byte("SET"), []byte("key:__rand_int__"), []byte("xxx"))
	var p Parser
	var cmd Command
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		if n, err := p.Parse(buf, &cmd); n != len(buf) || err != nil {
			b.Fatalf("Parse = %d, %v", n, err)
		}
	}
}

func BenchmarkParsePipelined16(b *testing.B) {
	buf := []byte(strings.Repeat(string(AppendCommand(nil, []byte("GET"), []byte("key:__rand_int__"))), 16))
	var p Parser
	var cmd Command
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		off := 0
		for range 16 {
			n, err := p.Parse(buf[off:], &cmd)
			if n == 0 || err != nil {
				b.Fatalf("Parse = %d, %v", n, err)
			}
			off += n
		}
	}
}

func BenchmarkParseInline(b *testing.B) {
	buf := []byte("SET key:__rand_int__ xxx\r\n")
	var p Parser
	var cmd Command
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		if n, err := p.Parse(buf, &cmd); n != len(buf) || err != nil {
			b.Fatalf("Parse = %d, %v", n, err)
		}
	}
}
