package evloop

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"
)

// itEchoLoad is how hard an echo run pushes: clients connections at once,
// each sending msgs messages of 1..maxSize bytes.
type itEchoLoad struct {
	clients, msgs, maxSize int
}

func itDefaultEchoLoad() itEchoLoad {
	return itEchoLoad{
		clients: itScale(100, 20),
		msgs:    itScale(4, 3),
		maxSize: itScale(4<<20, 2<<20),
	}
}

// itRunEchoClients runs load.clients echo exchanges at once against the
// given addresses (client i uses addrs[i%len(addrs)]) and fails the test for
// every client whose echoed stream differs from what it sent.
func itRunEchoClients(tb testing.TB, addrs []itNetAddr, load itEchoLoad, seed uint64) {
	tb.Helper()
	timeout := 60 * time.Second
	r := rand.New(rand.NewPCG(seed, 7))
	plans := make([][]itChunk, load.clients)
	for i := range plans {
		plans[i] = itEchoPlan(r, load.msgs, load.maxSize)
	}
	// Pin both ends of the size range, whatever the draw.
	plans[0][0].n, plans[0][0].off = load.maxSize, 0
	if load.clients > 1 {
		plans[1][0].n = 1
	}
	total := 0
	for _, plan := range plans {
		for _, ch := range plan {
			total += ch.n
		}
	}
	start := time.Now()
	errc := make(chan error, load.clients)
	for i, plan := range plans {
		a := addrs[i%len(addrs)]
		go func() {
			if err := itEchoExchange(a.network, a.address, plan, timeout); err != nil {
				errc <- fmt.Errorf("client %d on %s %s: %w", i, a.network, a.address, err)
				return
			}
			errc <- nil
		}()
	}
	failed := 0
	for range plans {
		if err := <-errc; err != nil {
			failed++
			if failed <= 5 {
				tb.Error(err)
			}
		}
	}
	if failed > 5 {
		tb.Errorf("... and %d more clients failed", failed-5)
	}
	tb.Logf("%d clients echoed %d bytes in %v", load.clients, total, time.Since(start).Round(time.Millisecond))
}

// itNetAddr is an address in the form net.Dial takes it.
type itNetAddr struct{ network, address string }

func itAddrsOf(s *testServer) []itNetAddr {
	var out []itNetAddr
	for _, a := range s.eng.Addrs() {
		out = append(out, itNetAddr{network: a.Network(), address: a.String()})
	}
	return out
}

// TestIntegrationEchoMatrix checks echo integrity (sha256 of the sent and
// received streams) for many concurrent clients and message sizes from 1 B
// to 4 MiB, in every accept mode, loop count and reply style.
//
// The pool reply keeps order with a per-connection FIFO drained by at most
// one pool job at a time (see itPoolEcho).
func TestIntegrationEchoMatrix(t *testing.T) {
	type replyKind string
	const (
		replySync replyKind = "sync"
		replyPool replyKind = "pool"
	)
	load := itDefaultEchoLoad()
	tests := []struct {
		name      string
		reusePort bool
		loops     int
		reply     replyKind
	}{
		{name: "main-reactor/loops=1/sync", reusePort: false, loops: 1, reply: replySync},
		{name: "main-reactor/loops=1/pool", reusePort: false, loops: 1, reply: replyPool},
		{name: "main-reactor/loops=4/sync", reusePort: false, loops: 4, reply: replySync},
		{name: "main-reactor/loops=4/pool", reusePort: false, loops: 4, reply: replyPool},
		{name: "reuseport/loops=1/sync", reusePort: true, loops: 1, reply: replySync},
		{name: "reuseport/loops=1/pool", reusePort: true, loops: 1, reply: replyPool},
		{name: "reuseport/loops=4/sync", reusePort: true, loops: 4, reply: replySync},
		{name: "reuseport/loops=4/pool", reusePort: true, loops: 4, reply: replyPool},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h EventHandler = echoHandler{}
			pool := &itPoolEcho{}
			if tt.reply == replyPool {
				h = pool
			}
			s := startEngine(t, h, "tcp://127.0.0.1:0", WithLoops(tt.loops), WithReusePort(tt.reusePort))
			itRunEchoClients(t, itAddrsOf(s), load, uint64(i))
			if got := s.eng.Stats().Panics; got != 0 {
				t.Errorf("Stats().Panics = %d, want 0", got)
			}
			s.stop(t)
			if tt.reply == replyPool {
				pool.check(t)
			}
		})
	}
}

// TestIntegrationEchoUnix runs the echo integrity check over a Unix socket.
func TestIntegrationEchoUnix(t *testing.T) {
	tests := []struct {
		name  string
		pool  bool
		loops int
	}{
		{name: "sync", pool: false, loops: 2},
		{name: "pool", pool: true, loops: 2},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h EventHandler = echoHandler{}
			pool := &itPoolEcho{}
			if tt.pool {
				h = pool
			}
			path := filepath.Join(t.TempDir(), "s.sock")
			s := startEngine(t, h, "unix://"+path, WithLoops(tt.loops))
			if got := s.addr.Network(); got != "unix" {
				t.Fatalf("listening on %s %v, want a unix socket", got, s.addr)
			}
			itRunEchoClients(t, itAddrsOf(s), itDefaultEchoLoad(), uint64(100+i))
			s.stop(t)
			if tt.pool {
				pool.check(t)
			}
		})
	}
}

// TestIntegrationRunAddrsTCPAndUnix serves one TCP and one Unix address from
// the same engine and checks echo integrity on both at once.
func TestIntegrationRunAddrsTCPAndUnix(t *testing.T) {
	tests := []struct {
		name      string
		reusePort bool
	}{
		{name: "main-reactor", reusePort: false},
		{name: "reuseport", reusePort: true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "s.sock")
			s := itServe(t, echoHandler{}, []string{"tcp://127.0.0.1:0", "unix://" + path},
				WithLoops(2), WithReusePort(tt.reusePort))
			addrs := itAddrsOf(s)
			if len(addrs) != 2 || addrs[0].network != "tcp" || addrs[1].network != "unix" || addrs[1].address != path {
				t.Fatalf("Addrs() = %v, want one tcp address then unix %s", addrs, path)
			}
			itRunEchoClients(t, addrs, itDefaultEchoLoad(), uint64(200+i))
			if got := s.eng.Stats().Accepted; got < uint64(itDefaultEchoLoad().clients) {
				t.Errorf("Stats().Accepted = %d, want at least %d", got, itDefaultEchoLoad().clients)
			}
		})
	}
}
