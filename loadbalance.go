//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows || evloop_portable

package evloop

import (
	"hash/maphash"
	"net/netip"
)

// addrSeed makes SourceAddrHash stable for the life of the process (one
// client keeps its loop) without being predictable from outside.
var addrSeed = maphash.MakeSeed()

// pick chooses the loop for a new connection from peer. rr is the caller's
// round-robin position (the acceptor is the only caller, so no atomics).
func (e *engine) pick(peer netip.AddrPort, rr *int) *loop {
	n := len(e.loops)
	if n == 1 {
		return e.loops[0]
	}
	switch e.opts.lb {
	case LeastConnections:
		best := e.loops[0]
		for _, l := range e.loops[1:] {
			if l.count.Load() < best.count.Load() {
				best = l
			}
		}
		return best
	case SourceAddrHash:
		if peer.IsValid() {
			a := peer.Addr().Unmap().As16()
			return e.loops[maphash.Bytes(addrSeed, a[:])%uint64(n)]
		}
	}
	l := e.loops[*rr%n]
	*rr++
	return l
}
