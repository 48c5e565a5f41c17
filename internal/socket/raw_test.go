//go:build linux && !evloop_portable

package socket

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestRawToAddrPort covers the families accept4 can return, with the port
// in network byte order as the kernel writes it.
func TestRawToAddrPort(t *testing.T) {
	v4 := func(ip [4]byte, port uint16) *unix.RawSockaddrAny {
		var rsa unix.RawSockaddrAny
		sa := (*unix.RawSockaddrInet4)(unsafe.Pointer(&rsa))
		sa.Family = unix.AF_INET
		sa.Addr = ip
		binary.BigEndian.PutUint16((*[2]byte)(unsafe.Pointer(&sa.Port))[:], port)
		return &rsa
	}
	v6 := func(ip string, port uint16, scope uint32) *unix.RawSockaddrAny {
		var rsa unix.RawSockaddrAny
		sa := (*unix.RawSockaddrInet6)(unsafe.Pointer(&rsa))
		sa.Family = unix.AF_INET6
		sa.Addr = netip.MustParseAddr(ip).As16()
		sa.Scope_id = scope
		binary.BigEndian.PutUint16((*[2]byte)(unsafe.Pointer(&sa.Port))[:], port)
		return &rsa
	}
	unixAddr := &unix.RawSockaddrAny{}
	unixAddr.Addr.Family = unix.AF_UNIX
	tests := []struct {
		name string
		rsa  *unix.RawSockaddrAny
		want string
	}{
		{"ipv4", v4([4]byte{10, 1, 2, 3}, 8080), "10.1.2.3:8080"},
		{"ipv4 high port", v4([4]byte{127, 0, 0, 1}, 65535), "127.0.0.1:65535"},
		{"ipv6", v6("2001:db8::1", 443, 0), "[2001:db8::1]:443"},
		{"v4-mapped", v6("::ffff:192.0.2.7", 9, 0), "192.0.2.7:9"},
		{"scoped", v6("fe80::1", 22, 3), "[fe80::1%3]:22"},
		{"unix", unixAddr, "invalid AddrPort"},
	}
	for _, tt := range tests {
		if got := rawToAddrPort(tt.rsa).String(); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
}
