//go:build !race

package resp

import (
	"strings"
	"testing"
)

// The race detector instruments allocations, so these run only without it.

func TestZeroAllocs(t *testing.T) {
	set := AppendCommand(nil, []byte("SET"), []byte("key:000000000001"), []byte("xxx"))
	pipelined := []byte(strings.Repeat(string(set), 16))
	mget := AppendCommand(nil, []byte("MGET"), []byte("a"), []byte("b"), []byte("c"), []byte("d"), []byte("e"),
		[]byte("f"), []byte("g"), []byte("h"), []byte("i"), []byte("j"))
	inline := []byte("SET \"a key\" 'a value' plain\r\n")
	bad := []byte("*-5\r\n")
	out := make([]byte, 0, 4096)
	var p Parser
	var cmd Command
	tests := []struct {
		name string
		run  func() bool // reports whether the result was as expected
	}{
		{name: "Parse SET", run: func() bool {
			n, err := p.Parse(set, &cmd)
			return n == len(set) && err == nil
		}},
		{name: "Parse 16 pipelined", run: func() bool {
			off := 0
			for range 16 {
				n, err := p.Parse(pipelined[off:], &cmd)
				if n == 0 || err != nil {
					return false
				}
				off += n
			}
			return off == len(pipelined)
		}},
		{name: "Parse MGET of 10 keys", run: func() bool {
			n, err := p.Parse(mget, &cmd)
			return n == len(mget) && len(cmd.Args) == 11 && err == nil
		}},
		{name: "Parse partial", run: func() bool {
			n, err := p.Parse(set[:len(set)-3], &cmd)
			return n == 0 && err == nil
		}},
		{name: "Parse inline with quotes", run: func() bool {
			n, err := p.Parse(inline, &cmd)
			return n == len(inline) && len(cmd.Args) == 4 && err == nil
		}},
		{name: "Parse error", run: func() bool {
			n, err := p.Parse(bad, &cmd)
			return n == 0 && err != nil
		}},
		{name: "ParseInt", run: func() bool {
			n, ok := ParseInt([]byte("-9223372036854775808"))
			return ok && n < 0
		}},
		{name: "Append replies", run: func() bool {
			out = AppendSimple(out[:0], "OK")
			out = AppendError(out, "ERR syntax error")
			out = AppendInt(out, 12345)
			out = AppendBulk(out, set)
			out = AppendNull(out)
			out = AppendArray(out, 2)
			return len(out) > 0
		}},
	}
	// Grow cmd once, as the first commands of a connection do.
	if _, err := p.Parse(mget, &cmd); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Parse(inline, &cmd); err != nil {
		t.Fatal(err)
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
