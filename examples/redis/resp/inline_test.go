package resp

import (
	"slices"
	"testing"
)

// The expectations are what redis-server 7.0 makes of each line (checked
// against it by hand with an inline command whose reply shows the
// arguments, e.g. ECHO).
func TestSplitArgs(t *testing.T) {
	tests := []struct {
		line    string
		want    []string
		wantErr bool
	}{
		{line: "", want: nil},
		{line: "PING", want: []string{"PING"}},
		{line: "  SET\tk  v ", want: []string{"SET", "k", "v"}},
		{line: "\v\fGET k", want: []string{"GET", "k"}},
		{line: "a\vb", want: []string{"a\vb"}},
		{line: "a\rb", want: []string{"a", "b"}},
		{line: `"hello world"`, want: []string{"hello world"}},
		{line: `""`, want: []string{""}},
		{line: `'' x`, want: []string{"", "x"}},
		{line: `"a\nb\r\t\b\a\"\\\q"`, want: []string{"a\nb\r\t\b\a\"\\q"}},
		{line: `"\x41\x4a\x6b\xzz\x4"`, want: []string{"AJkxzzx4"}},
		{line: `'it\'s \n'`, want: []string{"it's \\n"}},
		{line: `ab"c d"`, want: []string{"abc d"}},
		{line: `ab"c d" e`, want: []string{"abc d", "e"}},
		{line: `"a"b`, wantErr: true},
		{line: `'a'b`, wantErr: true},
		{line: `"a`, wantErr: true},
		{line: `'a`, wantErr: true},
		{line: `"a\"`, wantErr: true},
		{line: `"trailing backslash\`, wantErr: true},
		{line: `"a"` + "\v" + `b`, want: []string{"a", "b"}},
		{line: "nul\x00inside", want: []string{"nul\x00inside"}},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			var cmd Command
			err := splitArgs([]byte(tt.line), &cmd)
			if tt.wantErr {
				if err != errUnbalancedQuotes {
					t.Fatalf("splitArgs = %q, %v; want the unbalanced-quotes error", argsOf(&cmd), err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := argsOf(&cmd); !slices.Equal(got, tt.want) && (len(got) != 0 || len(tt.want) != 0) {
				t.Fatalf("splitArgs = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestSplitArgsDecodedStayValid: decoded arguments share one buffer, which
// must not move while a line is split, or earlier arguments would point
// into freed memory.
func TestSplitArgsDecodedStayValid(t *testing.T) {
	var cmd Command
	line := []byte(`"one" "two" "three" "four" "five"`)
	if err := splitArgs(line, &cmd); err != nil {
		t.Fatal(err)
	}
	if got, want := argsOf(&cmd), []string{"one", "two", "three", "four", "five"}; !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}
