package evloop

import (
	"fmt"
	"net/netip"
	"runtime/debug"
	"sync"
	"testing"

	"github.com/evloop/evloop/internal/socket"
)

// itFDGuard tracks the sockets the engine creates and accepts through the
// socket seams and records every close of a descriptor it does not own. In
// one process the engine and the test's clients share the descriptor
// table, so a double close by the engine would silently close a client.
type itFDGuard struct {
	mu      sync.Mutex
	owned   map[int]bool
	foreign []string
}

// closing records the close of fd, flagging one the engine does not own.
func (g *itFDGuard) closing(fd int) {
	g.mu.Lock()
	if !g.owned[fd] && len(g.foreign) < 3 {
		g.foreign = append(g.foreign, fmt.Sprintf("close(%d) of a descriptor the engine does not own:\n%s", fd, debug.Stack()))
	}
	delete(g.owned, fd)
	g.mu.Unlock()
}

// itGuardFDs installs the guard for the rest of the test: it owns what the
// engine accepts (the accept seam) and creates (socket.CreatedFunc), and
// checks every close (socket.CloseFunc). The seams may only be swapped
// while no engine runs, so call it before starting one.
func itGuardFDs(tb testing.TB) *itFDGuard {
	tb.Helper()
	g := &itFDGuard{owned: map[int]bool{}}
	closeFD, created := socket.CloseFunc, socket.CreatedFunc
	tb.Cleanup(func() { socket.CloseFunc, socket.CreatedFunc = closeFD, created })
	tbWrapAccept(tb, func(accept func() (int, netip.AddrPort, error)) (int, netip.AddrPort, error) {
		nfd, sa, err := accept()
		if err == nil {
			g.own(nfd)
		}
		return nfd, sa, err
	})
	socket.CreatedFunc = func(fd int) {
		created(fd)
		g.own(fd)
	}
	socket.CloseFunc = func(fd int) error {
		g.closing(fd)
		return closeFD(fd)
	}
	return g
}

func (g *itFDGuard) own(fd int) {
	g.mu.Lock()
	g.owned[fd] = true
	g.mu.Unlock()
}

// check fails the test for every foreign close and every socket the engine
// still holds.
func (g *itFDGuard) check(tb testing.TB) {
	tb.Helper()
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, f := range g.foreign {
		tb.Error(f)
	}
	if len(g.owned) != 0 {
		tb.Errorf("the engine still holds %d sockets after Stop", len(g.owned))
	}
}

// TestIntegrationClosesOnlyOwnFDs runs echo load, pool replies and
// reconnects and checks that the engine closes each socket it created or
// accepted exactly once, and nothing else.
func TestIntegrationClosesOnlyOwnFDs(t *testing.T) {
	tests := []struct {
		name      string
		reusePort bool
		pool      bool
	}{
		{name: "main-reactor/pool", reusePort: false, pool: true},
		{name: "reuseport/sync", reusePort: true, pool: false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := itGuardFDs(t)
			var h EventHandler = echoHandler{}
			if tt.pool {
				h = &itPoolEcho{}
			}
			s := startEngine(t, h, "tcp://127.0.0.1:0", WithLoops(2), WithReusePort(tt.reusePort))
			load := itEchoLoad{clients: itScale(50, 20), msgs: 3, maxSize: itScale(1<<20, 256<<10)}
			for round := range 3 {
				itRunEchoClients(t, itAddrsOf(s), load, uint64(300+10*i+round))
			}
			s.stop(t)
			g.check(t)
		})
	}
}
