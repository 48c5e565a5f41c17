//go:build linux && !evloop_portable

package socket

import (
	"net/netip"

	"golang.org/x/sys/unix"
)

// DatagramBatch is a loop's memory for batched datagram I/O: n receive
// slots of slot bytes each and room for n outgoing datagrams, with the
// recvmmsg and sendmmsg arguments that point into them. The headers point
// into heap memory the batch owns and never moves, so one batch serves
// every call of its loop. Only its loop uses it.
type DatagramBatch struct {
	datagramSlots
	hdrs  []Mmsghdr
	shdrs []Mmsghdr
}

// SendSyscall names the system call Send makes, for errors.
const SendSyscall = "sendmmsg"

// NewDatagramBatch makes a batch of n slots of slot bytes.
func NewDatagramBatch(slot, n int) *DatagramBatch {
	b := &DatagramBatch{
		datagramSlots: newDatagramSlots(slot, n),
		hdrs:          make([]Mmsghdr, n),
		shdrs:         make([]Mmsghdr, n),
	}
	for i := range b.hdrs {
		b.pointHeaders(i, &b.hdrs[i].Hdr, &b.shdrs[i].Hdr)
	}
	return b
}

// Recv receives up to Size datagrams from fd without blocking, with one
// recvmmsg, and returns how many arrived; Received describes each. Errors
// are raw errnos (EAGAIN: nothing waiting).
func (b *DatagramBatch) Recv(fd int) (int, error) {
	for i := range b.hdrs {
		b.hdrs[i].Hdr.Namelen = unix.SizeofSockaddrAny
		b.hdrs[i].Hdr.Flags = 0
		b.hdrs[i].Len = 0
	}
	return Recvmmsg(fd, b.hdrs)
}

// Received returns datagram i of the last Recv: its bytes, a view of slot
// i valid until the next Recv, its sender, and whether it was longer than
// a slot (then data is cut and must not be delivered).
func (b *DatagramBatch) Received(i int) (data []byte, peer netip.AddrPort, truncated bool) {
	h := &b.hdrs[i]
	return b.slotData(i, int(h.Len)), rawToAddrPort(&b.names[i]), h.Hdr.Flags&unix.MSG_TRUNC != 0
}

// SetOutgoing makes p, for peer, datagram j of the next Send from a socket
// of family fam. p must stay unchanged until Send returns; ClearOutgoing
// drops the references.
func (b *DatagramBatch) SetOutgoing(j int, fam Family, peer netip.AddrPort, p []byte) {
	b.shdrs[j].Hdr.Namelen = PutAddrPort(&b.snames[j], familyDomain(fam), peer)
	b.setOutgoingData(j, p)
}

// Send sends outgoing datagrams 0..k-1 from fd without blocking, with one
// sendmmsg, and returns how many the kernel took; an error (a raw errno)
// means the first one was not sent.
func (b *DatagramBatch) Send(fd, k int) (int, error) {
	return Sendmmsg(fd, b.shdrs[:k])
}
