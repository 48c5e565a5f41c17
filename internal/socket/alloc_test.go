//go:build linux && !evloop_portable && !race

package socket

import (
	"errors"
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"
)

// TestHotPathZeroAlloc proves the per-connection wrappers allocate nothing,
// on success and on the EAGAIN path the loop meets most often.
func TestHotPathZeroAlloc(t *testing.T) {
	checkNoFDLeak(t)
	a, b := socketPair(t)
	payload := []byte("0123456789abcdef")
	bufs := [][]byte{payload[:4], nil, payload[4:9], payload[9:]}
	empty := [][]byte{nil, {}}
	rbuf := make([]byte, 64)
	tests := []struct {
		name string
		run  func() error
	}{
		{name: "writev and read", run: func() error {
			if n, err := Writev(a, bufs); err != nil || n != len(payload) {
				return errors.New("short writev")
			}
			if n, err := Read(b, rbuf); err != nil || n != len(payload) {
				return errors.New("short read")
			}
			return nil
		}},
		{name: "write and read", run: func() error {
			if n, err := Write(a, payload); err != nil || n != len(payload) {
				return errors.New("short write")
			}
			if n, err := Read(b, rbuf); err != nil || n != len(payload) {
				return errors.New("short read")
			}
			return nil
		}},
		{name: "read EAGAIN", run: func() error {
			if _, err := Read(b, rbuf); !errors.Is(err, unix.EAGAIN) {
				return errors.New("read did not return EAGAIN")
			}
			return nil
		}},
		{name: "writev all empty", run: func() error {
			if n, err := Writev(a, empty); n != 0 || err != nil {
				return errors.New("empty writev wrote")
			}
			return nil
		}},
	}
	for _, tt := range tests {
		var failed error
		allocs := testing.AllocsPerRun(100, func() {
			if err := tt.run(); err != nil && failed == nil {
				failed = err
			}
		})
		if failed != nil {
			t.Fatalf("%s: %v", tt.name, failed)
		}
		if allocs != 0 {
			t.Errorf("%s: %v allocations per run, want 0", tt.name, allocs)
		}
	}
}

// TestWritevEAGAINZeroAlloc keeps a socket full and measures the writev
// error path, which must not box a new error each time.
func TestWritevEAGAINZeroAlloc(t *testing.T) {
	checkNoFDLeak(t)
	a, _ := socketPair(t)
	chunk := make([]byte, 64<<10)
	for i := 0; i < 1000; i++ {
		if _, err := Writev(a, [][]byte{chunk}); err != nil {
			break
		}
	}
	bufs := [][]byte{chunk[:10], chunk[10:20]}
	var wrong error
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := Writev(a, bufs); !errors.Is(err, unix.EAGAIN) {
			wrong = err
		}
	})
	if wrong != nil {
		t.Fatalf("Writev on a full socket: %v, want EAGAIN", wrong)
	}
	if allocs != 0 {
		t.Fatalf("%v allocations per EAGAIN writev, want 0", allocs)
	}
}

func TestSockaddrToAddrPortZeroAlloc(t *testing.T) {
	tests := []struct {
		name string
		sa   unix.Sockaddr
		want string
	}{
		{name: "ipv4", sa: &unix.SockaddrInet4{Port: 80, Addr: [4]byte{127, 0, 0, 1}}, want: "127.0.0.1:80"},
		{name: "ipv6", sa: &unix.SockaddrInet6{Port: 80, Addr: netip.IPv6Loopback().As16()}, want: "[::1]:80"},
		{name: "v4-mapped", sa: &unix.SockaddrInet6{Port: 80, Addr: netip.MustParseAddr("::ffff:10.0.0.1").As16()}, want: "10.0.0.1:80"},
		{name: "unix", sa: &unix.SockaddrUnix{Name: "/x"}, want: "invalid AddrPort"},
	}
	for _, tt := range tests {
		var got netip.AddrPort
		allocs := testing.AllocsPerRun(100, func() { got = SockaddrToAddrPort(tt.sa) })
		if got.String() != tt.want {
			t.Errorf("%s: SockaddrToAddrPort = %v, want %s", tt.name, got, tt.want)
		}
		if allocs != 0 {
			t.Errorf("%s: %v allocations per run, want 0", tt.name, allocs)
		}
	}
}

// TestAcceptZeroAlloc proves that accepting a connection leaves no garbage
// behind: every byte allocated per accept would turn a burst of connections
// into resident memory the GC gives back only later.
func TestAcceptZeroAlloc(t *testing.T) {
	checkNoFDLeak(t)
	for _, addr := range []string{"127.0.0.1:0", "[::1]:0"} {
		l, err := Listen("tcp", addr, Options{})
		if err != nil {
			t.Logf("%s: %v (skipped)", addr, err)
			continue
		}
		t.Cleanup(func() { l.Close() })
		const runs = 50
		clients := make([]string, 0, runs+1)
		for range runs + 1 { // AllocsPerRun calls once more to warm up
			clients = append(clients, dial(t, "tcp", l.Addr.String()).LocalAddr().String())
		}
		waitFD(t, l.FD, unix.POLLIN)
		var peers []netip.AddrPort
		peers = make([]netip.AddrPort, 0, runs+1)
		var failed error
		allocs := testing.AllocsPerRun(runs, func() {
			for {
				nfd, peer, err := Accept(l.FD)
				if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
					continue // the kernel may still be queueing the last dials
				}
				if err != nil {
					failed = err
					return
				}
				unix.Close(nfd)
				peers = append(peers, peer)
				return
			}
		})
		if failed != nil {
			t.Fatalf("%s: Accept: %v", addr, failed)
		}
		if allocs != 0 {
			t.Errorf("%s: %v allocations per accept, want 0", addr, allocs)
		}
		for i, p := range peers {
			if p.String() != clients[i] {
				t.Fatalf("%s: accept %d: peer %v, want the client's address %s", addr, i, p, clients[i])
			}
		}
	}
}
