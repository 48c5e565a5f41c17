//go:build linux && !evloop_portable

package socket

import (
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

// DatagramBatch is a loop's memory for batched datagram I/O: n receive
// slots of slot bytes each and room for n outgoing datagrams, with the
// recvmmsg and sendmmsg arguments that point into them. The headers point
// into heap memory the batch owns and never moves, so one batch serves
// every call of its loop. Only its loop uses it.
type DatagramBatch struct {
	slot   int
	mem    []byte
	hdrs   []Mmsghdr
	iovs   []unix.Iovec
	names  []unix.RawSockaddrAny
	shdrs  []Mmsghdr
	siovs  []unix.Iovec
	snames []unix.RawSockaddrAny
}

// NewDatagramBatch makes a batch of n slots of slot bytes.
func NewDatagramBatch(slot, n int) *DatagramBatch {
	b := &DatagramBatch{
		slot:   slot,
		mem:    make([]byte, slot*n),
		hdrs:   make([]Mmsghdr, n),
		iovs:   make([]unix.Iovec, n),
		names:  make([]unix.RawSockaddrAny, n),
		shdrs:  make([]Mmsghdr, n),
		siovs:  make([]unix.Iovec, n),
		snames: make([]unix.RawSockaddrAny, n),
	}
	for i := range b.hdrs {
		b.iovs[i].Base = &b.mem[i*slot]
		b.iovs[i].SetLen(slot)
		h := &b.hdrs[i].Hdr
		h.Name = (*byte)(unsafe.Pointer(&b.names[i]))
		h.Iov = &b.iovs[i]
		h.SetIovlen(1)
		s := &b.shdrs[i].Hdr
		s.Name = (*byte)(unsafe.Pointer(&b.snames[i]))
		s.Iov = &b.siovs[i]
		s.SetIovlen(1)
	}
	return b
}

// Size is how many datagrams one Recv or Send handles at most.
func (b *DatagramBatch) Size() int { return len(b.hdrs) }

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
	off, n := i*b.slot, int(h.Len)
	return b.mem[off : off+n : off+n], rawToAddrPort(&b.names[i]), h.Hdr.Flags&unix.MSG_TRUNC != 0
}

// SetOutgoing makes p, for peer, datagram j of the next Send from a socket
// of family fam. p must stay unchanged until Send returns; ClearOutgoing
// drops the references.
func (b *DatagramBatch) SetOutgoing(j int, fam Family, peer netip.AddrPort, p []byte) {
	domain := unix.AF_INET6
	if fam == FamilyIPv4 {
		domain = unix.AF_INET
	}
	b.shdrs[j].Hdr.Namelen = PutAddrPort(&b.snames[j], domain, peer)
	if len(p) > 0 {
		b.siovs[j].Base = &p[0]
	} else {
		b.siovs[j].Base = nil
	}
	b.siovs[j].SetLen(len(p))
}

// Send sends outgoing datagrams 0..k-1 from fd without blocking, with one
// sendmmsg, and returns how many the kernel took; an error (a raw errno)
// means the first one was not sent.
func (b *DatagramBatch) Send(fd, k int) (int, error) {
	return Sendmmsg(fd, b.shdrs[:k])
}

// ClearOutgoing drops the batch's references to the bytes given to
// SetOutgoing, so they do not stay reachable from it.
func (b *DatagramBatch) ClearOutgoing() {
	for j := range b.siovs {
		b.siovs[j].Base = nil
	}
}
