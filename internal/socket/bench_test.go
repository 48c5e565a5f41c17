//go:build linux && !evloop_portable

package socket

import (
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"
)

// BenchmarkWritev measures one 4-buffer writev plus the read that drains it,
// on a socketpair so the network stack does not dominate.
func BenchmarkWritev(b *testing.B) {
	w, r := socketPair(b)
	bufs := [][]byte{make([]byte, 16), make([]byte, 128), make([]byte, 64), make([]byte, 512)}
	size := totalLen(bufs)
	rbuf := make([]byte, size)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		n, err := Writev(w, bufs)
		if err != nil || n != size {
			b.Fatalf("Writev = (%d, %v), want (%d, nil)", n, err, size)
		}
		for got := 0; got < size; {
			m, err := Read(r, rbuf[got:])
			if err != nil {
				b.Fatalf("Read: %v", err)
			}
			got += m
		}
	}
}

func BenchmarkSockaddrToAddrPort(b *testing.B) {
	benchmarks := []struct {
		name string
		sa   unix.Sockaddr
	}{
		{name: "ipv4", sa: &unix.SockaddrInet4{Port: 80, Addr: [4]byte{127, 0, 0, 1}}},
		{name: "ipv6", sa: &unix.SockaddrInet6{Port: 80, Addr: netip.IPv6Loopback().As16()}},
	}
	for _, bm := range benchmarks {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			var ap netip.AddrPort
			for b.Loop() {
				ap = SockaddrToAddrPort(bm.sa)
			}
			if !ap.IsValid() {
				b.Fatal("invalid AddrPort")
			}
		})
	}
}
