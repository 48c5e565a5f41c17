package main

import (
	"io"
	"testing"
)

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    config
		wantErr bool
	}{
		{name: "defaults", args: nil, want: config{addr: "tcp://127.0.0.1:9000", maxValue: 512 << 20}},
		{name: "all", args: []string{"-addr", "unix:///tmp/r.sock", "-loops", "3", "-reuseport", "-blocking", "-max-value", "16mb"},
			want: config{addr: "unix:///tmp/r.sock", loops: 3, reusePort: true, blocking: true, maxValue: 16 << 20}},
		{name: "max-value in bytes", args: []string{"-max-value", "1000"}, want: config{addr: "tcp://127.0.0.1:9000", maxValue: 1000}},
		{name: "max-value 1k is 1000", args: []string{"-max-value", "1k"}, want: config{addr: "tcp://127.0.0.1:9000", maxValue: 1000}},
		{name: "max-value 512MB", args: []string{"-max-value", "512MB"}, want: config{addr: "tcp://127.0.0.1:9000", maxValue: 512 << 20}},
		{name: "max-value too large", args: []string{"-max-value", "1gb"}, wantErr: true},
		{name: "max-value zero", args: []string{"-max-value", "0"}, wantErr: true},
		{name: "max-value negative", args: []string{"-max-value", "-1"}, wantErr: true},
		{name: "max-value not a size", args: []string{"-max-value", "lots"}, wantErr: true},
		{name: "extra argument", args: []string{"extra"}, wantErr: true},
		{name: "unknown flag", args: []string{"-nope"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseFlags(tt.args, io.Discard)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("parseFlags(%q) = %+v, want an error", tt.args, got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.want.loops == 0 {
				tt.want.loops = got.loops // the machine's GOMAXPROCS
			}
			if got != tt.want {
				t.Fatalf("parseFlags(%q) = %+v, want %+v", tt.args, got, tt.want)
			}
		})
	}
}

func TestSizeFlag(t *testing.T) {
	tests := []struct {
		in      string
		want    int
		wantStr string
		wantErr bool
	}{
		{in: "0", want: 0, wantStr: "0"},
		{in: "1500", want: 1500, wantStr: "1500"},
		{in: "2b", want: 2, wantStr: "2"},
		{in: "3k", want: 3000, wantStr: "3000"},
		{in: "3kb", want: 3 << 10, wantStr: "3kb"},
		{in: "3KB", want: 3 << 10, wantStr: "3kb"},
		{in: "5m", want: 5_000_000, wantStr: "5000000"},
		{in: "5mb", want: 5 << 20, wantStr: "5mb"},
		{in: "1g", want: 1_000_000_000, wantStr: "1000000000"},
		{in: "1gb", want: 1 << 30, wantStr: "1gb"},
		{in: "1536kb", want: 1536 << 10, wantStr: "1536kb"},
		{in: "", wantErr: true},
		{in: "mb", wantErr: true},
		{in: "+5", wantErr: true},
		{in: "-5", wantErr: true},
		{in: "5 mb", wantErr: true},
		{in: "5tb", wantErr: true},
		{in: "3gb", wantErr: true},
	}
	for _, tt := range tests {
		var s size
		err := s.Set(tt.in)
		if tt.wantErr {
			if err == nil {
				t.Errorf("Set(%q) = %d, want an error", tt.in, s)
			}
			continue
		}
		if err != nil || int(s) != tt.want || s.String() != tt.wantStr {
			t.Errorf("Set(%q): %d (%q), %v; want %d (%q)", tt.in, s, s.String(), err, tt.want, tt.wantStr)
		}
	}
	if d := size(defaultMaxValue); d.String() != "512mb" {
		t.Errorf("the default prints as %q, want 512mb", d.String())
	}
}
