package evloop

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestOnTickGoroutine checks that OnTick runs on the goroutine that serves
// loop 0's connections, and that returning Shutdown from it stops Run with
// a nil error.
func TestOnTickGoroutine(t *testing.T) {
	var tickGoid, ticks atomic.Uint64
	var stop atomic.Bool
	trafficGoids := make(chan uint64, 16)
	h := &tbHandler{
		tick: func() (time.Duration, Action) {
			tickGoid.Store(tbGoroutineID())
			ticks.Add(1)
			if stop.Load() {
				return 0, Shutdown
			}
			return 5 * time.Millisecond, None
		},
		traffic: func(c Conn) Action {
			trafficGoids <- tbGoroutineID()
			b, _ := c.Next(-1)
			_, _ = c.Write(b)
			return None
		},
	}
	s := startEngine(t, h, "tcp://127.0.0.1:0", WithLoops(1), WithTicker(true))
	if !itEventually(5*time.Second, func() bool { return ticks.Load() >= 2 }) {
		t.Fatalf("OnTick ran %d times in 5s, want at least 2", ticks.Load())
	}
	for i := 0; i < 3; i++ {
		if err := tbEcho(s.dial(t), []byte("tick?"), 5*time.Second); err != nil {
			t.Fatal(err)
		}
		got, want := tbRecv(t, trafficGoids, time.Second, "OnTraffic"), tickGoid.Load()
		if got != want || got == 0 {
			t.Errorf("connection %d: OnTraffic on goroutine %d, OnTick on %d", i, got, want)
		}
	}
	stop.Store(true)
	select {
	case err := <-s.errc:
		s.errc = nil
		if err != nil {
			t.Errorf("Run after OnTick returned Shutdown = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after OnTick returned Shutdown")
	}
}

// TestLoadBalancing identifies each connection's loop by the goroutine id
// seen in OnOpen, which the server sends to the client.
func TestLoadBalancing(t *testing.T) {
	const loops, conns = 4, 40
	tests := []struct {
		name  string
		lb    LoadBalancing
		check func(counts map[uint64]int) error
	}{
		{name: "round robin", lb: RoundRobin, check: func(counts map[uint64]int) error {
			for g, n := range counts {
				if n != conns/loops {
					return fmt.Errorf("loop on goroutine %d has %d connections, want %d", g, n, conns/loops)
				}
			}
			if len(counts) != loops {
				return fmt.Errorf("%d loops used, want %d", len(counts), loops)
			}
			return nil
		}},
		{name: "least connections", lb: LeastConnections, check: func(counts map[uint64]int) error {
			lo, hi := conns, 0
			for _, n := range counts {
				lo, hi = min(lo, n), max(hi, n)
			}
			if len(counts) != loops || hi-lo > 1 {
				return fmt.Errorf("counts %v over %d loops, want %d loops within 1", counts, len(counts), loops)
			}
			return nil
		}},
		{name: "source address hash", lb: SourceAddrHash, check: func(counts map[uint64]int) error {
			if len(counts) != 1 {
				return fmt.Errorf("connections from one address on %d loops: %v", len(counts), counts)
			}
			return nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &tbHandler{open: func(Conn) ([]byte, Action) {
				return binary.BigEndian.AppendUint64(nil, tbGoroutineID()), None
			}}
			s := startEngine(t, h, "tcp://127.0.0.1:0", WithLoops(loops), WithLoadBalancing(tt.lb))
			dial := func() (net.Conn, uint64) {
				t.Helper()
				c := s.dial(t)
				var id [8]byte
				if err := c.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
					t.Fatal(err)
				}
				if _, err := io.ReadFull(c, id[:]); err != nil {
					t.Fatalf("loop id: %v", err)
				}
				return c, binary.BigEndian.Uint64(id[:])
			}
			counts := map[uint64]int{}
			byLoop := map[uint64][]net.Conn{}
			for i := 0; i < conns; i++ {
				c, g := dial()
				counts[g]++
				byLoop[g] = append(byLoop[g], c)
			}
			if err := tt.check(counts); err != nil {
				t.Fatal(err)
			}
			if tt.lb != LeastConnections {
				return
			}
			// Empty one loop: the next connections must all go there.
			var emptied uint64
			for g := range byLoop {
				emptied = g
				break
			}
			for _, c := range byLoop[emptied] {
				c.Close()
			}
			want := conns - counts[emptied]
			if !itEventually(5*time.Second, func() bool { return s.eng.CountConnections() == want }) {
				t.Fatalf("CountConnections() = %d, want %d", s.eng.CountConnections(), want)
			}
			for i := 0; i < counts[emptied]; i++ {
				if _, g := dial(); g != emptied {
					t.Fatalf("new connection %d went to loop %d, want the emptied loop %d", i, g, emptied)
				}
			}
		})
	}
}

// TestRunRejectsOptions: an out-of-range option makes Run fail at once with
// ErrInvalidOption, before booting.
func TestRunRejectsOptions(t *testing.T) {
	tests := []struct {
		name string
		opt  Option
	}{
		{name: "negative loops", opt: WithLoops(-1)},
		{name: "tiny read buffer", opt: WithReadBufferSize(10)},
		{name: "negative read buffer", opt: WithReadBufferSize(-1)},
		{name: "negative backlog", opt: WithBacklog(-1)},
		{name: "negative keepalive", opt: WithTCPKeepAlive(-time.Second)},
		{name: "negative recv buffer", opt: WithSocketRecvBuffer(-1)},
		{name: "negative send buffer", opt: WithSocketSendBuffer(-1)},
		{name: "zero pool", opt: WithPoolSize(0)},
		{name: "negative pool", opt: WithPoolSize(-5)},
		{name: "unknown balancing", opt: WithLoadBalancing(LoadBalancing(42))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			booted, err := tbRunToEnd(t, "tcp://127.0.0.1:0", tt.opt)
			if !errors.Is(err, ErrInvalidOption) {
				t.Errorf("Run = %v, want an error wrapping ErrInvalidOption", err)
			}
			if booted {
				t.Error("OnBoot ran although the options are invalid")
			}
		})
	}
}

// TestRunAddrsNone: RunAddrs without an address runs a client engine,
// which boots, listens nowhere and stops like any other.
func TestRunAddrsNone(t *testing.T) {
	for _, addrs := range [][]string{nil, {}} {
		booted := false
		var listening []net.Addr
		h := &tbHandler{boot: func(e Engine) Action { booted, listening = true, e.Addrs(); return Shutdown }}
		if err := RunAddrs(h, addrs, WithLoops(1)); err != nil {
			t.Errorf("RunAddrs(%#v) = %v, want nil", addrs, err)
		}
		if !booted || len(listening) != 0 {
			t.Errorf("RunAddrs(%#v): booted %v, Addrs %v; want booted with no address", addrs, booted, listening)
		}
	}
}

// tbRunToEnd runs an engine that stops as soon as it boots and returns
// whether OnBoot ran and Run's error (within 5 s).
func tbRunToEnd(tb testing.TB, addr string, opts ...Option) (booted bool, err error) {
	tb.Helper()
	h := &tbHandler{boot: func(Engine) Action { booted = true; return Shutdown }}
	errc := make(chan error, 1)
	go func() {
		// A panicking Run fails this test instead of the whole binary.
		defer func() {
			if r := recover(); r != nil {
				errc <- fmt.Errorf("Run panicked: %v", r)
			}
		}()
		errc <- Run(h, addr, opts...)
	}()
	select {
	case err = <-errc:
	case <-time.After(5 * time.Second):
		tb.Fatalf("Run(%q) did not return within 5s", addr)
	}
	return booted, err
}

// TestRunRejectsAddresses: addresses that cannot be served fail Run without
// booting and without leaking descriptors.
func TestRunRejectsAddresses(t *testing.T) {
	busyUDP, err := net.ListenPacket("udp", "127.0.0.1:0") // without SO_REUSEPORT
	if err != nil {
		t.Fatal(err)
	}
	defer busyUDP.Close()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	tests := []struct {
		name    string
		addr    string
		wantErr error // nil: any error
	}{
		{name: "unixgram", addr: "unixgram://" + filepath.Join(t.TempDir(), "g.sock"), wantErr: ErrUnsupportedNetwork},
		{name: "udp address in use", addr: "udp://" + busyUDP.LocalAddr().String(), wantErr: syscall.EADDRINUSE},
		{name: "missing port", addr: "tcp://127.0.0.1"},
		{name: "unknown scheme", addr: "http://127.0.0.1:80"},
		{name: "empty", addr: ""},
		{name: "port out of range", addr: "tcp://127.0.0.1:70000"},
		{name: "unroutable host", addr: "tcp://256.1.1.1:0"},
		{name: "address in use", addr: "tcp://" + busy.Addr().String()},
		{name: "unix in missing dir", addr: "unix://" + filepath.Join(t.TempDir(), "no", "such", "s.sock")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := tbOpenFDs(os.Getpid())
			booted, err := tbRunToEnd(t, tt.addr, WithLoops(2))
			if err == nil {
				t.Fatalf("Run(%q) = nil, want an error", tt.addr)
			}
			t.Logf("Run(%q) = %v", tt.addr, err)
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("Run(%q) = %v, want an error wrapping %v", tt.addr, err, tt.wantErr)
			}
			if booted {
				t.Errorf("OnBoot ran for %q", tt.addr)
			}
			if after := tbOpenFDs(os.Getpid()); after != before {
				t.Errorf("open descriptors %d before Run, %d after it failed", before, after)
			}
		})
	}
}

// TestBootShutdown: OnBoot returning Shutdown makes Run return nil without
// serving anybody, not even a client that connected during OnBoot.
func TestBootShutdown(t *testing.T) {
	// More Ps than cores make it likelier that the engine's goroutines run
	// in parallel with the stop that OnBoot asked for, as on a big machine.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(8))
	tests := []struct {
		name string
		opts []Option
	}{
		{name: "acceptor", opts: []Option{WithLoops(2)}},
		{name: "reuseport", opts: []Option{WithLoops(2), WithReusePort(true)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "reuseport" {
				tbSkipUnlessReusePortBalances(t)
			}
			for i := range tbScale(40, 4) {
				tbBootShutdownRound(t, i, tt.opts)
			}
		})
	}
}

func tbBootShutdownRound(tb testing.TB, round int, opts []Option) {
	tb.Helper()
	var opened, shutdowns atomic.Int32
	var addr net.Addr
	var client net.Conn
	var dialErr error
	h := &tbHandler{
		boot: func(e Engine) Action {
			addr = e.Addrs()[0]
			// The listener is bound and listening: this connect completes
			// in the kernel's backlog.
			client, dialErr = net.DialTimeout("tcp", addr.String(), 5*time.Second)
			return Shutdown
		},
		open:     func(Conn) ([]byte, Action) { opened.Add(1); return nil, None },
		shutdown: func(Engine) { shutdowns.Add(1) },
	}
	errc := make(chan error, 1)
	go func() { errc <- Run(h, "tcp://127.0.0.1:0", opts...) }()
	select {
	case err := <-errc:
		if err != nil {
			tb.Fatalf("round %d: Run = %v, want nil", round, err)
		}
	case <-time.After(10 * time.Second):
		tb.Fatalf("round %d: Run did not return after OnBoot returned Shutdown", round)
	}
	if dialErr != nil {
		tb.Fatalf("round %d: dial during OnBoot: %v", round, dialErr)
	}
	client.Close()
	if n := opened.Load(); n != 0 {
		tb.Fatalf("round %d: OnOpen ran %d times after OnBoot returned Shutdown", round, n)
	}
	if n := shutdowns.Load(); n != 1 {
		tb.Errorf("round %d: OnShutdown ran %d times, want 1", round, n)
	}
	if c, err := net.DialTimeout("tcp", addr.String(), time.Second); err == nil {
		c.Close()
		tb.Fatalf("round %d: %v still accepts connections after Run returned", round, addr)
	}
}

// TestSourceAddrHashSpread dials from several loopback source addresses:
// each address keeps one loop for all its connections, and the addresses
// do not all land on the same loop.
func TestSourceAddrHashSpread(t *testing.T) {
	const loops, sources, perSource = 4, 16, 3
	h := &tbHandler{open: func(Conn) ([]byte, Action) {
		return binary.BigEndian.AppendUint64(nil, tbGoroutineID()), None
	}}
	s := startEngine(t, h, "tcp://127.0.0.1:0", WithLoops(loops), WithLoadBalancing(SourceAddrHash))
	used := map[uint64]bool{}
	for src := 0; src < sources; src++ {
		ip := net.IPv4(127, 0, 0, byte(2+src))
		d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: ip}}
		var first uint64
		for k := 0; k < perSource; k++ {
			c, err := d.Dial("tcp", s.addr.String())
			if err != nil {
				t.Skipf("cannot dial from %v: %v", ip, err)
			}
			t.Cleanup(func() { c.Close() })
			var id [8]byte
			if err := c.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
				t.Fatal(err)
			}
			if _, err := io.ReadFull(c, id[:]); err != nil {
				t.Fatalf("loop id: %v", err)
			}
			g := binary.BigEndian.Uint64(id[:])
			if k == 0 {
				first = g
			} else if g != first {
				t.Errorf("connections from %v on loops %d and %d", ip, first, g)
			}
			used[g] = true
		}
	}
	if len(used) < 2 {
		t.Errorf("%d source addresses all hashed to one loop", sources)
	}
}
