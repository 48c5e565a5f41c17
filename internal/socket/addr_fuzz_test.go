package socket

import (
	"errors"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"testing"
)

// FuzzParseAddr checks ParseAddr on any input: it never panics; the
// scheme's case does not change the outcome; a rejected input gives an
// error wrapping ErrBadAddress that quotes the input and nothing else; an
// accepted one splits the input exactly at its scheme,
// names a known network, is a usable address for that network, and parses
// again, with the scheme spelled out, to the same result. The seed corpus
// is in testdata/fuzz/FuzzParseAddr.
func FuzzParseAddr(f *testing.F) {
	for _, s := range []string{
		"tcp://127.0.0.1:9000", "127.0.0.1:9000", "[::1]:9000", "udp6://[::1]:53",
		"unix:///tmp/x.sock", "unix://@name", "TCP://localhost:0", "tcp6://[fe80::1%eth0]:80",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		network, address, err := ParseAddr(s)
		// The scheme's case does not matter.
		if scheme, rest, ok := strings.Cut(s, "://"); ok && scheme != strings.ToLower(scheme) {
			n2, a2, err2 := ParseAddr(strings.ToLower(scheme) + "://" + rest)
			if n2 != network || a2 != address || (err == nil) != (err2 == nil) {
				t.Fatalf("ParseAddr(%q) = (%q, %q, %v), but with the scheme in lower case (%q, %q, %v)", s, network, address, err, n2, a2, err2)
			}
		}
		if err != nil {
			if !errors.Is(err, ErrBadAddress) {
				t.Fatalf("ParseAddr(%q) error %v does not wrap ErrBadAddress", s, err)
			}
			if !strings.Contains(err.Error(), strconv.Quote(s)) {
				t.Fatalf("ParseAddr(%q) error %q does not quote the input", s, err)
			}
			if network != "" || address != "" {
				t.Fatalf("ParseAddr(%q) = (%q, %q) with an error", s, network, address)
			}
			return
		}
		wantNetwork, wantAddress := "tcp", s
		if scheme, rest, ok := strings.Cut(s, "://"); ok {
			wantNetwork, wantAddress = strings.ToLower(scheme), rest
		}
		if network != wantNetwork || address != wantAddress {
			t.Fatalf("ParseAddr(%q) = (%q, %q), want the input split at its scheme: (%q, %q)", s, network, address, wantNetwork, wantAddress)
		}
		n2, a2, err := ParseAddr(network + "://" + address)
		if err != nil || n2 != network || a2 != address {
			t.Fatalf("ParseAddr(%q) = (%q, %q), but with the scheme spelled out: (%q, %q, %v)", s, network, address, n2, a2, err)
		}
		switch network {
		case "unix", "unixgram", "unixpacket":
			if address == "" || address == "@" || strings.IndexByte(address, 0) >= 0 {
				t.Fatalf("ParseAddr(%q) accepted the unusable unix path %q", s, address)
			}
			return
		case "tcp", "tcp4", "tcp6", "udp", "udp4", "udp6":
		default:
			t.Fatalf("ParseAddr(%q) accepted the unknown network %q", s, network)
		}
		host, port, err := net.SplitHostPort(address)
		if err != nil {
			t.Fatalf("ParseAddr(%q) accepted %q, which net.SplitHostPort rejects: %v", s, address, err)
		}
		if _, err := strconv.ParseUint(port, 10, 16); err != nil {
			t.Fatalf("ParseAddr(%q) accepted the port %q: %v", s, port, err)
		}
		ip, ipErr := netip.ParseAddr(host)
		if strings.HasPrefix(address, "[") && (ipErr != nil || !ip.Is6()) {
			t.Fatalf("ParseAddr(%q) accepted %q in brackets, which is not an IPv6 address", s, host)
		}
		// A literal host (or none) resolves without a lookup; the family
		// of a numbered network must fit the literal for it to resolve.
		if host != "" && ipErr != nil {
			return
		}
		if (strings.HasSuffix(network, "4") && ip.Is6() && !ip.Is4In6()) || (strings.HasSuffix(network, "6") && ip.Is4()) {
			return
		}
		if strings.HasPrefix(network, "tcp") {
			if _, err := net.ResolveTCPAddr(network, address); err != nil {
				t.Fatalf("ParseAddr(%q) accepted (%q, %q), which net.ResolveTCPAddr rejects: %v", s, network, address, err)
			}
		} else if _, err := net.ResolveUDPAddr(network, address); err != nil {
			t.Fatalf("ParseAddr(%q) accepted (%q, %q), which net.ResolveUDPAddr rejects: %v", s, network, address, err)
		}
	})
}
