package netx

import (
	"net/netip"
	"testing"
)

func TestSources(t *testing.T) {
	for _, n := range []int{1, 19000, PortsPerSource} {
		if s := Sources(n); s != nil {
			t.Errorf("Sources(%d) = %v, want nil: one source address, the kernel's", n, s)
		}
	}
	// idle-c100000: five addresses from 127.0.0.2, and DialAll's
	// round-robin gives each PortsPerSource connections.
	s := Sources(100000)
	if len(s) != 5 {
		t.Fatalf("Sources(100000) = %v, want 5 addresses", s)
	}
	for i, a := range s {
		if want := netip.AddrFrom4([4]byte{127, 0, 0, byte(2 + i)}); a != want {
			t.Errorf("source %d = %v, want %v", i, a, want)
		}
	}
	if per := (100000 + len(s) - 1) / len(s); per > PortsPerSource {
		t.Errorf("%d connections per source, more than %d", per, PortsPerSource)
	}
	if s := Sources(PortsPerSource + 1); len(s) != 2 {
		t.Errorf("Sources(%d) = %v, want 2 addresses", PortsPerSource+1, s)
	}
}
