//go:build linux && !evloop_portable

package socket

import (
	"errors"
	"net"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestSockaddrRoundTrip(t *testing.T) {
	tests := []struct {
		name     string
		network  string
		sa       unix.Sockaddr
		wantAP   string // "" means the invalid AddrPort
		wantAddr string // net.Addr.String(); "" means nil
		wantType string // "tcp", "udp" or "unix"
		wantBack unix.Sockaddr
	}{
		{name: "ipv4 tcp", network: "tcp", sa: &unix.SockaddrInet4{Port: 80, Addr: [4]byte{127, 0, 0, 1}},
			wantAP: "127.0.0.1:80", wantAddr: "127.0.0.1:80", wantType: "tcp",
			wantBack: &unix.SockaddrInet4{Port: 80, Addr: [4]byte{127, 0, 0, 1}}},
		{name: "ipv4 udp", network: "udp4", sa: &unix.SockaddrInet4{Port: 65535, Addr: [4]byte{10, 1, 2, 3}},
			wantAP: "10.1.2.3:65535", wantAddr: "10.1.2.3:65535", wantType: "udp",
			wantBack: &unix.SockaddrInet4{Port: 65535, Addr: [4]byte{10, 1, 2, 3}}},
		{name: "ipv6", network: "tcp6", sa: &unix.SockaddrInet6{Port: 443, Addr: netip.MustParseAddr("2001:db8::1").As16()},
			wantAP: "[2001:db8::1]:443", wantAddr: "[2001:db8::1]:443", wantType: "tcp",
			wantBack: &unix.SockaddrInet6{Port: 443, Addr: netip.MustParseAddr("2001:db8::1").As16()}},
		{name: "ipv6 zone", network: "udp", sa: &unix.SockaddrInet6{Port: 5353, ZoneId: 2, Addr: netip.MustParseAddr("fe80::1").As16()},
			wantAP: "[fe80::1%2]:5353", wantAddr: "[fe80::1%2]:5353", wantType: "udp",
			wantBack: &unix.SockaddrInet6{Port: 5353, ZoneId: 2, Addr: netip.MustParseAddr("fe80::1").As16()}},
		{name: "v4-mapped becomes ipv4", network: "tcp", sa: &unix.SockaddrInet6{Port: 1, Addr: netip.MustParseAddr("::ffff:10.0.0.1").As16()},
			wantAP: "10.0.0.1:1", wantAddr: "10.0.0.1:1", wantType: "tcp",
			wantBack: &unix.SockaddrInet4{Port: 1, Addr: [4]byte{10, 0, 0, 1}}},
		{name: "unix path", network: "unix", sa: &unix.SockaddrUnix{Name: "/tmp/x.sock"},
			wantAddr: "/tmp/x.sock", wantType: "unix", wantBack: &unix.SockaddrUnix{Name: "/tmp/x.sock"}},
		{name: "unix abstract", network: "unix", sa: &unix.SockaddrUnix{Name: "@x"},
			wantAddr: "@x", wantType: "unix", wantBack: &unix.SockaddrUnix{Name: "@x"}},
		{name: "nil", network: "tcp", sa: nil},
		{name: "inet on unknown network", network: "ip", sa: &unix.SockaddrInet4{Port: 1}, wantAP: "0.0.0.0:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ap := SockaddrToAddrPort(tt.sa)
			if (tt.wantAP == "") == ap.IsValid() || (ap.IsValid() && ap.String() != tt.wantAP) {
				t.Fatalf("SockaddrToAddrPort = %v (valid %v), want %q", ap, ap.IsValid(), tt.wantAP)
			}
			a := SockaddrToNetAddr(tt.network, tt.sa)
			if tt.wantAddr == "" {
				if a != nil {
					t.Fatalf("SockaddrToNetAddr = %v, want nil", a)
				}
				return
			}
			if a == nil || a.String() != tt.wantAddr || a.Network() != tt.wantType {
				t.Fatalf("SockaddrToNetAddr = %v, want %s address %s", a, tt.wantType, tt.wantAddr)
			}
			if ap.IsValid() {
				if b := AddrPortToNetAddr(tt.network, ap); !reflect.DeepEqual(a, b) {
					t.Fatalf("AddrPortToNetAddr = %#v, SockaddrToNetAddr = %#v", b, a)
				}
			}
			back, err := NetAddrToSockaddr(a)
			if err != nil {
				t.Fatalf("NetAddrToSockaddr(%v): %v", a, err)
			}
			if !reflect.DeepEqual(back, tt.wantBack) {
				t.Fatalf("NetAddrToSockaddr(%v) = %#v, want %#v", a, back, tt.wantBack)
			}
		})
	}
}

func TestAddrPortToNetAddr(t *testing.T) {
	ap := netip.MustParseAddrPort("127.0.0.1:9")
	tests := []struct {
		name    string
		network string
		ap      netip.AddrPort
		want    net.Addr
	}{
		{name: "tcp", network: "tcp", ap: ap, want: &net.TCPAddr{IP: net.IP{127, 0, 0, 1}, Port: 9}},
		{name: "tcp4", network: "tcp4", ap: ap, want: &net.TCPAddr{IP: net.IP{127, 0, 0, 1}, Port: 9}},
		{name: "udp6", network: "udp6", ap: ap, want: &net.UDPAddr{IP: net.IP{127, 0, 0, 1}, Port: 9}},
		{name: "unix", network: "unix", ap: ap, want: nil},
		{name: "invalid", network: "tcp", ap: netip.AddrPort{}, want: nil},
	}
	for _, tt := range tests {
		if got := AddrPortToNetAddr(tt.network, tt.ap); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: AddrPortToNetAddr = %#v, want %#v", tt.name, got, tt.want)
		}
	}
}

func TestNetAddrToSockaddr(t *testing.T) {
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		t.Skipf("no loopback interface: %v", err)
	}
	tests := []struct {
		name string
		in   net.Addr
		want unix.Sockaddr
	}{
		{name: "nil ip", in: &net.TCPAddr{Port: 7}, want: &unix.SockaddrInet4{Port: 7}},
		{name: "4-byte ipv4", in: &net.UDPAddr{IP: net.IP{1, 2, 3, 4}, Port: 7}, want: &unix.SockaddrInet4{Port: 7, Addr: [4]byte{1, 2, 3, 4}}},
		{name: "16-byte ipv4", in: &net.TCPAddr{IP: net.ParseIP("1.2.3.4"), Port: 7}, want: &unix.SockaddrInet4{Port: 7, Addr: [4]byte{1, 2, 3, 4}}},
		{name: "zone by name", in: &net.UDPAddr{IP: net.ParseIP("fe80::1"), Port: 7, Zone: "lo"},
			want: &unix.SockaddrInet6{Port: 7, ZoneId: uint32(lo.Index), Addr: netip.MustParseAddr("fe80::1").As16()}},
	}
	for _, tt := range tests {
		got, err := NetAddrToSockaddr(tt.in)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: NetAddrToSockaddr = %#v, %v; want %#v", tt.name, got, err, tt.want)
		}
	}
}

func TestNetAddrToSockaddrErrors(t *testing.T) {
	tests := []struct {
		name    string
		in      net.Addr
		mention string
	}{
		{name: "nil", in: nil, mention: "<nil>"},
		{name: "nil tcp", in: (*net.TCPAddr)(nil), mention: "*net.TCPAddr"},
		{name: "nil udp", in: (*net.UDPAddr)(nil), mention: "*net.UDPAddr"},
		{name: "nil unix", in: (*net.UnixAddr)(nil), mention: "*net.UnixAddr"},
		{name: "ip addr", in: &net.IPAddr{IP: net.IPv4(1, 2, 3, 4)}, mention: "*net.IPAddr"},
		{name: "negative port", in: &net.TCPAddr{Port: -1}, mention: "port -1"},
		{name: "port too big", in: &net.UDPAddr{Port: 65536}, mention: "port 65536"},
		{name: "bad ip length", in: &net.TCPAddr{IP: net.IP{1, 2, 3}, Port: 1}, mention: "length 3"},
		{name: "unknown zone", in: &net.TCPAddr{IP: net.ParseIP("fe80::1"), Zone: "no-such-if0"}, mention: "no-such-if0"},
		{name: "empty unix", in: &net.UnixAddr{Net: "unix"}, mention: "empty unix socket path"},
		{name: "empty abstract", in: &net.UnixAddr{Name: "@", Net: "unix"}, mention: "empty abstract"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sa, err := NetAddrToSockaddr(tt.in)
			if sa != nil || !errors.Is(err, ErrBadAddress) {
				t.Fatalf("NetAddrToSockaddr(%v) = %v, %v; want an ErrBadAddress error", tt.in, sa, err)
			}
			if !strings.Contains(err.Error(), tt.mention) {
				t.Fatalf("error %q does not mention %q", err, tt.mention)
			}
		})
	}
}

func TestInetSockaddrFamily(t *testing.T) {
	tests := []struct {
		name    string
		ip      net.IP
		family  int
		want    unix.Sockaddr
		wantErr bool
	}{
		{name: "ipv4 on ipv6 socket is mapped", ip: net.IPv4(127, 0, 0, 1), family: unix.AF_INET6,
			want: &unix.SockaddrInet6{Port: 1, Addr: netip.MustParseAddr("::ffff:127.0.0.1").As16()}},
		{name: "nil on ipv6 socket", ip: nil, family: unix.AF_INET6, want: &unix.SockaddrInet6{Port: 1}},
		{name: "ipv6 on ipv4 socket", ip: net.IPv6loopback, family: unix.AF_INET, wantErr: true},
	}
	for _, tt := range tests {
		got, err := inetSockaddr(tt.ip, 1, "", tt.family)
		if tt.wantErr != (err != nil) || (!tt.wantErr && !reflect.DeepEqual(got, tt.want)) {
			t.Errorf("%s: inetSockaddr = %#v, %v; want %#v (error %v)", tt.name, got, err, tt.want, tt.wantErr)
		}
	}
}
