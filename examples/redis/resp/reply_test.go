package resp

import (
	"math"
	"testing"
)

func TestAppendReplies(t *testing.T) {
	tests := []struct {
		name string
		got  []byte
		want string
	}{
		{name: "simple", got: AppendSimple(nil, "OK"), want: "+OK\r\n"},
		{name: "error", got: AppendError(nil, "ERR syntax error"), want: "-ERR syntax error\r\n"},
		{name: "int", got: AppendInt(nil, -42), want: ":-42\r\n"},
		{name: "min int", got: AppendInt(nil, math.MinInt64), want: ":-9223372036854775808\r\n"},
		{name: "bulk", got: AppendBulk(nil, []byte("a\r\nb")), want: "$4\r\na\r\nb\r\n"},
		{name: "empty bulk", got: AppendBulk(nil, nil), want: "$0\r\n\r\n"},
		{name: "bulk string", got: AppendBulkString(nil, "hi"), want: "$2\r\nhi\r\n"},
		{name: "null", got: AppendNull(nil), want: "$-1\r\n"},
		{name: "array", got: AppendArray(nil, 3), want: "*3\r\n"},
		{name: "command", got: AppendCommand(nil, []byte("GET"), []byte("k")), want: "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"},
		{name: "appends", got: AppendInt([]byte("+OK\r\n"), 1), want: "+OK\r\n:1\r\n"},
	}
	for _, tt := range tests {
		if string(tt.got) != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}
