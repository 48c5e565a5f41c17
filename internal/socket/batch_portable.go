//go:build evloop_portable || !(linux || darwin || dragonfly || freebsd || netbsd || openbsd)

package socket

import (
	"net/netip"
	"syscall"

	"github.com/evloop/evloop/internal/netfd"
)

// DatagramBatch is a loop's memory for batched datagram I/O: n receive
// slots of slot bytes each and room for n outgoing datagrams. The portable
// backend moves datagrams one at a time under it. Only its loop uses it.
type DatagramBatch struct {
	slot  int
	mem   []byte
	lens  []int
	peers []netip.AddrPort
	out   [][]byte
	dests []netip.AddrPort
}

// NewDatagramBatch makes a batch of n slots of slot bytes.
func NewDatagramBatch(slot, n int) *DatagramBatch {
	return &DatagramBatch{slot: slot, mem: make([]byte, slot*n), lens: make([]int, n),
		peers: make([]netip.AddrPort, n), out: make([][]byte, n), dests: make([]netip.AddrPort, n)}
}

// Size is how many datagrams one Recv or Send handles at most.
func (b *DatagramBatch) Size() int { return len(b.lens) }

// Recv receives up to Size datagrams from fd without blocking and returns
// how many arrived; Received describes each. EAGAIN: nothing waiting.
func (b *DatagramBatch) Recv(fd int) (int, error) {
	for i := range b.lens {
		n, peer, err := netfd.RecvFrom(fd, b.mem[i*b.slot:(i+1)*b.slot])
		if err != nil {
			if i > 0 && err == syscall.EAGAIN {
				return i, nil
			}
			if i > 0 {
				return i, nil
			}
			return 0, err
		}
		b.lens[i], b.peers[i] = n, peer
	}
	return len(b.lens), nil
}

// Received returns datagram i of the last Recv: its bytes, a view of slot
// i valid until the next Recv, its sender, and whether it was longer than
// a slot (then data is cut and must not be delivered).
func (b *DatagramBatch) Received(i int) (data []byte, peer netip.AddrPort, truncated bool) {
	off, n := i*b.slot, b.lens[i]
	truncated = n > b.slot
	n = min(n, b.slot)
	return b.mem[off : off+n : off+n], b.peers[i], truncated
}

// SetOutgoing makes p, for peer, datagram j of the next Send. p must stay
// unchanged until Send returns; ClearOutgoing drops the references.
func (b *DatagramBatch) SetOutgoing(j int, fam Family, peer netip.AddrPort, p []byte) {
	b.out[j], b.dests[j] = p, peer
}

// Send sends outgoing datagrams 0..k-1 from fd and returns how many were
// sent; an error means the first one was not.
func (b *DatagramBatch) Send(fd, k int) (int, error) {
	for j := 0; j < k; j++ {
		if _, err := netfd.SendTo(fd, b.out[j], b.dests[j]); err != nil {
			if j > 0 {
				return j, nil
			}
			return 0, err
		}
	}
	return k, nil
}

// ClearOutgoing drops the batch's references to the bytes given to
// SetOutgoing.
func (b *DatagramBatch) ClearOutgoing() { clear(b.out) }
