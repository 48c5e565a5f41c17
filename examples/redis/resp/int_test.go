package resp

import (
	"math"
	"strconv"
	"testing"
)

func TestParseInt(t *testing.T) {
	tests := []struct {
		in     string
		want   int64
		wantOK bool
	}{
		{in: "0", want: 0, wantOK: true},
		{in: "1", want: 1, wantOK: true},
		{in: "-1", want: -1, wantOK: true},
		{in: "9223372036854775807", want: math.MaxInt64, wantOK: true},
		{in: "-9223372036854775808", want: math.MinInt64, wantOK: true},
		{in: "9223372036854775808"},
		{in: "-9223372036854775809"},
		{in: "18446744073709551615"},
		{in: "99999999999999999999"},
		{in: "000000000000000000001"},
		{in: ""},
		{in: "-"},
		{in: "-0"},
		{in: "01"},
		{in: "+1"},
		{in: " 1"},
		{in: "1 "},
		{in: "1a"},
		{in: "1.5"},
		{in: "0x10"},
	}
	for _, tt := range tests {
		got, ok := ParseInt([]byte(tt.in))
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("ParseInt(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}

// FuzzParseInt checks ParseInt against strconv on the canonical decimal
// form, which is the only form it accepts.
func FuzzParseInt(f *testing.F) {
	for _, s := range []string{"0", "-1", "123", "9223372036854775807", "-9223372036854775808", "01", "-0", "+5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := ParseInt([]byte(s))
		std, err := strconv.ParseInt(s, 10, 64)
		canonical := err == nil && strconv.FormatInt(std, 10) == s
		if ok != canonical || (ok && got != std) {
			t.Fatalf("ParseInt(%q) = %d, %v; strconv says %d, %v (canonical %v)", s, got, ok, std, err, canonical)
		}
	})
}
