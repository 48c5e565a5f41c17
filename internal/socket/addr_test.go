package socket

import (
	"errors"
	"runtime"
	"strings"
	"testing"
)

func TestParseAddr(t *testing.T) {
	tests := []struct {
		name        string
		in          string
		wantNetwork string
		wantAddress string
		wantErr     string // substring of the error; "" means success
	}{
		{name: "tcp scheme", in: "tcp://127.0.0.1:9000", wantNetwork: "tcp", wantAddress: "127.0.0.1:9000"},
		{name: "no scheme", in: "127.0.0.1:9000", wantNetwork: "tcp", wantAddress: "127.0.0.1:9000"},
		{name: "no host", in: ":9000", wantNetwork: "tcp", wantAddress: ":9000"},
		{name: "ephemeral port", in: "tcp4://127.0.0.1:0", wantNetwork: "tcp4", wantAddress: "127.0.0.1:0"},
		{name: "max port", in: "udp://127.0.0.1:65535", wantNetwork: "udp", wantAddress: "127.0.0.1:65535"},
		{name: "host name", in: "tcp://localhost:80", wantNetwork: "tcp", wantAddress: "localhost:80"},
		{name: "ipv6 no scheme", in: "[::1]:9000", wantNetwork: "tcp", wantAddress: "[::1]:9000"},
		{name: "tcp6", in: "tcp6://[::1]:9000", wantNetwork: "tcp6", wantAddress: "[::1]:9000"},
		{name: "ipv6 zone", in: "udp6://[fe80::1%eth0]:53", wantNetwork: "udp6", wantAddress: "[fe80::1%eth0]:53"},
		{name: "ipv6 wildcard", in: "udp6://[::]:1", wantNetwork: "udp6", wantAddress: "[::]:1"},
		{name: "v4-mapped", in: "tcp://[::ffff:127.0.0.1]:80", wantNetwork: "tcp", wantAddress: "[::ffff:127.0.0.1]:80"},
		{name: "scheme case", in: "TCP://127.0.0.1:1", wantNetwork: "tcp", wantAddress: "127.0.0.1:1"},
		{name: "unix path", in: "unix:///tmp/x.sock", wantNetwork: "unix", wantAddress: "/tmp/x.sock"},
		{name: "unix relative", in: "unix://x.sock", wantNetwork: "unix", wantAddress: "x.sock"},
		{name: "unix abstract", in: "unix://@name", wantNetwork: "unix", wantAddress: "@name"},
		{name: "unixgram", in: "unixgram:///tmp/g.sock", wantNetwork: "unixgram", wantAddress: "/tmp/g.sock"},
		{name: "unixpacket", in: "UNIXPACKET://@p", wantNetwork: "unixpacket", wantAddress: "@p"},

		{name: "empty", in: "", wantErr: "empty address"},
		{name: "scheme only", in: "tcp://", wantErr: "empty address"},
		{name: "unknown scheme", in: "http://127.0.0.1:80", wantErr: `unknown scheme "http"`},
		{name: "empty scheme", in: "://127.0.0.1:80", wantErr: `unknown scheme ""`},
		{name: "missing port", in: "127.0.0.1", wantErr: "missing port"},
		{name: "empty port", in: "tcp://127.0.0.1:", wantErr: "missing port"},
		{name: "named port", in: "localhost:http", wantErr: `port "http" is not a number`},
		{name: "port too big", in: "127.0.0.1:65536", wantErr: `port "65536"`},
		{name: "negative port", in: "127.0.0.1:-1", wantErr: `port "-1"`},
		{name: "ipv6 without brackets", in: "::1:9000", wantErr: "must be in brackets"},
		{name: "ipv6 open bracket", in: "[::1:9000", wantErr: "unbalanced IPv6 brackets"},
		{name: "ipv6 close bracket", in: "tcp6://::1]:9000", wantErr: "unbalanced IPv6 brackets"},
		{name: "ipv6 no port", in: "[::1]", wantErr: "missing port"},
		{name: "ipv4 in brackets", in: "[127.0.0.1]:80", wantErr: "not an IPv6 address"},
		{name: "garbage in brackets", in: "[zz::1]:80", wantErr: "not an IPv6 address"},
		{name: "empty brackets", in: "[]:80", wantErr: "not an IPv6 address"},
		{name: "unix empty", in: "unix://", wantErr: "empty unix socket path"},
		{name: "unix abstract empty", in: "unix://@", wantErr: "empty abstract socket name"},
		{name: "unix NUL", in: "unix:///tmp/a\x00b", wantErr: "NUL byte"},
		{name: "unixgram empty", in: "unixgram://", wantErr: "empty unix socket path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if strings.HasPrefix(tt.wantAddress, "@") && abstractUnixProblem(runtime.GOOS) != "" {
				tt.wantErr = "only on Linux" // abstract sockets
			}
			network, address, err := ParseAddr(tt.in)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("ParseAddr(%q): %v", tt.in, err)
				}
				if network != tt.wantNetwork || address != tt.wantAddress {
					t.Fatalf("ParseAddr(%q) = (%q, %q), want (%q, %q)", tt.in, network, address, tt.wantNetwork, tt.wantAddress)
				}
				return
			}
			if err == nil {
				t.Fatalf("ParseAddr(%q) = (%q, %q), want an error", tt.in, network, address)
			}
			if !errors.Is(err, ErrBadAddress) {
				t.Errorf("ParseAddr(%q) error %v does not wrap ErrBadAddress", tt.in, err)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseAddr(%q) error %q does not mention %q", tt.in, err, tt.wantErr)
			}
			if quoted := strings.ReplaceAll(tt.in, "\x00", `\x00`); !strings.Contains(err.Error(), quoted) {
				t.Errorf("ParseAddr(%q) error %q does not name the input", tt.in, err)
			}
			if network != "" || address != "" {
				t.Errorf("ParseAddr(%q) returned (%q, %q) with an error", tt.in, network, address)
			}
		})
	}
}

func TestIsStream(t *testing.T) {
	tests := []struct {
		network string
		want    bool
	}{
		{network: "tcp", want: true},
		{network: "tcp4", want: true},
		{network: "tcp6", want: true},
		{network: "unix", want: true},
		{network: "udp", want: false},
		{network: "udp4", want: false},
		{network: "udp6", want: false},
		{network: "unixgram", want: false},
		{network: "", want: false},
	}
	for _, tt := range tests {
		if got := IsStream(tt.network); got != tt.want {
			t.Errorf("IsStream(%q) = %v, want %v", tt.network, got, tt.want)
		}
	}
}
