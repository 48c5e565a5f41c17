package resp

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
)

// argsOf returns a copy of cmd's arguments as strings, for comparisons.
func argsOf(cmd *Command) []string {
	out := make([]string, len(cmd.Args))
	for i, a := range cmd.Args {
		out[i] = string(a)
	}
	return out
}

func TestParse(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		parser   Parser
		wantN    int // bytes of the first command; 0: incomplete or error
		wantArgs []string
		wantNeed int    // when incomplete
		wantErr  string // the error message, when the bytes are refused
	}{
		{name: "empty buffer", in: "", wantNeed: 1},
		{name: "get", in: "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", wantN: 20, wantArgs: []string{"GET", "k"}},
		{name: "empty bulk", in: "*2\r\n$4\r\nECHO\r\n$0\r\n\r\n", wantN: 20, wantArgs: []string{"ECHO", ""}},
		{name: "binary bulk with CRLF inside", in: "*2\r\n$4\r\nECHO\r\n$4\r\n\r\n\r\n\r\n", wantN: 24, wantArgs: []string{"ECHO", "\r\n\r\n"}},
		{name: "first of two", in: "*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING\r\n", wantN: 14, wantArgs: []string{"PING"}},
		{name: "empty array", in: "*0\r\n", wantN: 4},
		{name: "null array", in: "*-1\r\n", wantN: 5},
		{name: "count line incomplete", in: "*2\r", wantNeed: 4},
		{name: "bulk header incomplete", in: "*1\r\n$3", wantNeed: 7},
		{name: "bulk data incomplete: need is exact", in: "*1\r\n$10\r\nab", wantNeed: 21},
		{name: "bulk data without its CRLF yet", in: "*1\r\n$2\r\nab", wantNeed: 12},
		{name: "next bulk not started", in: "*2\r\n$1\r\na\r\n", wantNeed: 12},
		{name: "negative count", in: "*-5\r\n", wantErr: "Protocol error: invalid multibulk length"},
		{name: "count not a number", in: "*x\r\n", wantErr: "Protocol error: invalid multibulk length"},
		{name: "count with plus", in: "*+1\r\n", wantErr: "Protocol error: invalid multibulk length"},
		{name: "count with leading zero", in: "*01\r\n", wantErr: "Protocol error: invalid multibulk length"},
		{name: "empty count", in: "*\r\n", wantErr: "Protocol error: invalid multibulk length"},
		{name: "count above MaxArgs", in: "*1048577\r\n", wantErr: "Protocol error: invalid multibulk length"},
		{name: "count CR without LF", in: "*1\rX$4\r\nPING\r\n", wantErr: "Protocol error: invalid multibulk length"},
		{name: "bulk length too large", in: "*1\r\n$999999999999\r\n", wantErr: "Protocol error: invalid bulk length"},
		{name: "bulk length above a small limit", in: "*1\r\n$11\r\n", parser: Parser{MaxBulk: 10}, wantErr: "Protocol error: invalid bulk length"},
		{name: "bulk length at a small limit", in: "*1\r\n$10\r\n0123456789\r\n", parser: Parser{MaxBulk: 10}, wantN: 21, wantArgs: []string{"0123456789"}},
		{name: "negative bulk length", in: "*1\r\n$-1\r\n", wantErr: "Protocol error: invalid bulk length"},
		{name: "bulk length not a number", in: "*1\r\n$abc\r\n", wantErr: "Protocol error: invalid bulk length"},
		{name: "bulk longer than its length", in: "*1\r\n$3\r\nfoobar\r\n", wantErr: "Protocol error: invalid bulk length"},
		{name: "bulk shorter than its length", in: "*2\r\n$5\r\nfoo\r\n$1\r\na\r\n", wantErr: "Protocol error: invalid bulk length"},
		{name: "bulk length CR without LF", in: "*1\r\n$1\rXa\r\n", wantErr: "Protocol error: invalid bulk length"},
		{name: "argument not a bulk", in: "*1\r\n:1\r\n", wantErr: "Protocol error: expected '$', got ':'"},
		{name: "argument starts with CR", in: "*1\r\n\r\n", wantErr: "Protocol error: expected '$', got ' '"},
		{name: "command above the limit", in: "*2\r\n$1\r\na\r\n$10\r\n", parser: Parser{MaxCommand: 24}, wantErr: "Protocol error: too big multibulk request"},
		{name: "command at the limit", in: "*2\r\n$1\r\na\r\n$1\r\nb\r\n", parser: Parser{MaxCommand: 18}, wantN: 18, wantArgs: []string{"a", "b"}},
		{name: "count line too long", in: "*" + strings.Repeat("1", MaxInline), wantErr: "Protocol error: too big mbulk count string"},
		{name: "count line long but may still end", in: "*" + strings.Repeat("1", MaxInline-1), wantNeed: MaxInline + 1},
		{name: "bulk line too long", in: "*1\r\n$" + strings.Repeat("1", MaxInline), wantErr: "Protocol error: too big bulk count string"},
		{name: "inline", in: "PING\r\n", wantN: 6, wantArgs: []string{"PING"}},
		{name: "inline with bare LF", in: "SET k v\n", wantN: 8, wantArgs: []string{"SET", "k", "v"}},
		{name: "inline blank line", in: "\r\n", wantN: 2},
		{name: "inline spaces only", in: "  \t \r\n", wantN: 6},
		{name: "inline incomplete", in: "PIN", wantNeed: 4},
		{name: "inline CR not yet LF", in: "PING\r", wantNeed: 6},
		{name: "inline quotes", in: "SET \"a b\" 'c d'\r\n", wantN: 17, wantArgs: []string{"SET", "a b", "c d"}},
		{name: "inline unbalanced", in: "SET \"a\r\n", wantErr: "Protocol error: unbalanced quotes in request"},
		{name: "inline line too long", in: strings.Repeat("a", MaxInline+1), wantErr: "Protocol error: too big inline request"},
		{name: "inline line at the limit", in: strings.Repeat("a", MaxInline) + "\n", wantN: MaxInline + 1, wantArgs: []string{strings.Repeat("a", MaxInline)}},
		{name: "dollar first is inline", in: "$3\r\n", wantN: 4, wantArgs: []string{"$3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			buf := []byte(tt.in)
			var cmd Command
			n, err := tt.parser.Parse(buf, &cmd)
			if tt.wantErr != "" {
				var pe *Error
				if n != 0 || !errors.As(err, &pe) || err.Error() != tt.wantErr {
					t.Fatalf("Parse = %d, %v; want 0, %q", n, err, tt.wantErr)
				}
				return
			}
			if err != nil || n != tt.wantN {
				t.Fatalf("Parse = %d, %v; want %d, nil", n, err, tt.wantN)
			}
			if got := argsOf(&cmd); !slices.Equal(got, tt.wantArgs) && (len(got) != 0 || len(tt.wantArgs) != 0) {
				t.Fatalf("args %q, want %q", got, tt.wantArgs)
			}
			if n == 0 && cmd.Need != tt.wantNeed {
				t.Fatalf("Need = %d, want %d", cmd.Need, tt.wantNeed)
			}
			if n > 0 {
				for _, a := range cmd.Args {
					if cap(a) != len(a) {
						t.Fatalf("argument %q has room to append into the buffer", a)
					}
				}
			}
		})
	}
}

// TestParseViewsIntoBuffer checks that multibulk arguments are not copies.
func TestParseViewsIntoBuffer(t *testing.T) {
	buf := []byte("*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n")
	var p Parser
	var cmd Command
	if n, err := p.Parse(buf, &cmd); n != len(buf) || err != nil {
		t.Fatalf("Parse = %d, %v", n, err)
	}
	if &cmd.Args[1][0] != &buf[len(buf)-5] {
		t.Fatal("the argument is a copy, not a view into the buffer")
	}
}

// TestParseEveryPrefix parses every prefix of a stream of commands: each is
// incomplete, with a Need beyond its length, until the first command is
// whole.
func TestParseEveryPrefix(t *testing.T) {
	stream := []byte("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n")
	var p Parser
	var cmd Command
	for i := range len(stream) {
		n, err := p.Parse(stream[:i], &cmd)
		if n != 0 || err != nil || cmd.Need <= i || cmd.Need > len(stream) {
			t.Fatalf("prefix of %d bytes: Parse = %d, %v, Need %d", i, n, err, cmd.Need)
		}
	}
	if n, err := p.Parse(stream, &cmd); n != len(stream) || err != nil {
		t.Fatalf("whole: Parse = %d, %v", n, err)
	}
}

// TestParseReusesCommand checks that a Command reused for a shorter command
// holds only that command's arguments.
func TestParseReusesCommand(t *testing.T) {
	var p Parser
	var cmd Command
	long := AppendCommand(nil, []byte("MSET"), []byte("a"), []byte("1"), []byte("b"), []byte("2"))
	if n, err := p.Parse(long, &cmd); n == 0 || err != nil {
		t.Fatalf("Parse = %d, %v", n, err)
	}
	short := []byte("*1\r\n$4\r\nPING\r\n")
	if n, err := p.Parse(short, &cmd); n == 0 || err != nil || !slices.Equal(argsOf(&cmd), []string{"PING"}) {
		t.Fatalf("Parse = %d, %v, %q", n, err, argsOf(&cmd))
	}
	if n, err := p.Parse([]byte("*2\r\n$3\r\nGET"), &cmd); n != 0 || err != nil || len(cmd.Args) != 0 {
		t.Fatalf("incomplete: Parse = %d, %v, %d args left", n, err, len(cmd.Args))
	}
}

func TestAppendCommandRoundTrip(t *testing.T) {
	args := [][]byte{[]byte("SET"), []byte("key with spaces"), {0, '\r', '\n', 0xff}, {}}
	buf := AppendCommand(nil, args...)
	var p Parser
	var cmd Command
	n, err := p.Parse(buf, &cmd)
	if n != len(buf) || err != nil {
		t.Fatalf("Parse = %d, %v", n, err)
	}
	if !slices.EqualFunc(cmd.Args, args, bytes.Equal) {
		t.Fatalf("args %q, want %q", cmd.Args, args)
	}
}
