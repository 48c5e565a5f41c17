package resp

import (
	"bytes"
	"slices"
	"testing"
)

// seedStreams start every fuzz target; testdata/fuzz holds more, in the go
// test fuzz v1 format.
var seedStreams = []string{
	"*1\r\n$4\r\nPING\r\n",
	"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n",
	"PING\r\nSET k \"a b\"\r\nGET k\n",
	"*0\r\n*-1\r\n\r\n*1\r\n$4\r\nPING\r\n",
	"*2\r\n$4\r\nECHO\r\n$4\r\n\r\n\r\n\r\n",
	"*1\r\n$4\r\nPING\r\n*-5\r\n",
	"*1\r\n$4\r\nPING\r\n*1\r\n$999999999999\r\n",
	"*1\r\n$3\r\nfoobar\r\n",
	"*2\r\n$3\r\nGET\r\n:1\r\n",
	"ECHO 'unbalanced\r\nPING\r\n",
	"*1\r\n$4\r\nPING\r",
	"*1\r\n$10\r\n0123",
	"ECHO \"\\x41\\n\" 'it\\'s'\r\n",
	"*1\r\n$2\rXab\r\n",
}

// drainLimits are small, so that fuzzing reaches the limits quickly.
var drainParser = Parser{MaxBulk: 64, MaxCommand: 256}

// outcome is what a connection's handler observes: the commands in order,
// their sizes, then how the bytes ended.
type outcome struct {
	commands [][]string
	sizes    []int
	errMsg   string // the error that ended the stream, "" when it ran out
	leftover int    // unparsed bytes when the stream ran out
}

func (o *outcome) equal(p *outcome) bool {
	return slices.EqualFunc(o.commands, p.commands, slices.Equal[[]string]) &&
		slices.Equal(o.sizes, p.sizes) && o.errMsg == p.errMsg && o.leftover == p.leftover
}

// drain parses every complete command at the start of buf, as a traffic
// callback does, and returns the unparsed rest; failed reports that the
// stream ended in an error.
func drain(tb testing.TB, buf []byte, o *outcome) (rest []byte, failed bool) {
	tb.Helper()
	var cmd Command
	// Bounded: every command consumes at least one byte.
	for passes := len(buf) + 1; passes > 0; passes-- {
		n, err := drainParser.Parse(buf, &cmd)
		if err != nil {
			o.errMsg = err.Error()
			return nil, true
		}
		if n == 0 {
			if cmd.Need <= len(buf) {
				tb.Fatalf("incomplete with Need %d <= %d buffered bytes: %q", cmd.Need, len(buf), buf)
			}
			return buf, false
		}
		o.commands = append(o.commands, argsOf(&cmd))
		o.sizes = append(o.sizes, n)
		buf = buf[n:]
	}
	tb.Fatalf("Parse did not stop on %q", buf)
	return nil, true
}

// FuzzParseSplit is the split-stream equivalence: a stream cut in two at
// any point, the unparsed tail of the first part carried over to the
// second as a loop carries it in a connection's buffer, gives the same
// commands, the same sizes and the same ending as the stream parsed whole.
func FuzzParseSplit(f *testing.F) {
	for i, s := range seedStreams {
		f.Add([]byte(s), uint(i*5))
	}
	f.Fuzz(func(t *testing.T, stream []byte, split uint) {
		at := int(split % uint(len(stream)+1))
		var want outcome
		if rest, failed := drain(t, bytes.Clone(stream), &want); !failed {
			want.leftover = len(rest)
		}
		var got outcome
		rest, failed := drain(t, bytes.Clone(stream[:at]), &got)
		if !failed {
			// The unparsed tail moves to a fresh buffer, as it does when the
			// loop copies it into a ring.
			joined := append(bytes.Clone(rest), stream[at:]...)
			if rest, failed = drain(t, joined, &got); !failed {
				got.leftover = len(rest)
			}
		}
		if !got.equal(&want) {
			t.Fatalf("split at %d of %q:\ngot  %+v\nwant %+v", at, stream, got, want)
		}
	})
}

// FuzzParse checks what must hold for any input: a command lies within the
// bytes it consumed, re-parses the same from those bytes alone, and is
// incomplete one byte short; an error leaves nothing behind.
func FuzzParse(f *testing.F) {
	for _, s := range seedStreams {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, buf []byte) {
		var cmd Command
		n, err := drainParser.Parse(buf, &cmd)
		switch {
		case err != nil:
			if n != 0 || len(cmd.Args) != 0 {
				t.Fatalf("error %v with n = %d and %d arguments", err, n, len(cmd.Args))
			}
		case n == 0:
			if len(cmd.Args) != 0 || cmd.Need <= len(buf) {
				t.Fatalf("incomplete with %d arguments, Need %d for %d bytes", len(cmd.Args), cmd.Need, len(buf))
			}
		default:
			if n > len(buf) {
				t.Fatalf("n = %d > %d", n, len(buf))
			}
			args := argsOf(&cmd)
			var again Command
			if m, err := drainParser.Parse(buf[:n:n], &again); m != n || err != nil || !slices.Equal(argsOf(&again), args) {
				t.Fatalf("re-parsing the %d consumed bytes gave %d, %v, %q; want %q", n, m, err, argsOf(&again), args)
			}
			if m, err := drainParser.Parse(buf[:n-1], &again); m != 0 || err != nil {
				t.Fatalf("one byte short gave %d, %v; want 0, nil", m, err)
			}
			if buf[0] == '*' {
				for _, a := range cmd.Args {
					if len(a) > 0 && !within(buf[:n], a) {
						t.Fatalf("argument %q is not a view into the consumed bytes", a)
					}
				}
			}
		}
	})
}

// FuzzRoundTrip encodes arbitrary arguments as a client does and requires
// them back, byte for byte, in one command of exactly the encoded size.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte("SET"), []byte("k"), []byte("v"))
	f.Add([]byte(""), []byte("\r\n"), []byte("*1\r\n$4\r\nPING\r\n"))
	f.Fuzz(func(t *testing.T, a, b, c []byte) {
		args := [][]byte{a, b, c}
		buf := AppendCommand(nil, args...)
		var p Parser
		var cmd Command
		n, err := p.Parse(buf, &cmd)
		if n != len(buf) || err != nil || !slices.EqualFunc(cmd.Args, args, bytes.Equal) {
			t.Fatalf("Parse(%q) = %d, %v, %q", buf, n, err, cmd.Args)
		}
	})
}

// within reports whether view lies inside buf.
func within(buf, view []byte) bool {
	for i := range buf {
		if &buf[i] == &view[0] {
			return i+len(view) <= len(buf)
		}
	}
	return false
}
