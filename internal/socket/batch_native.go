//go:build (linux || darwin || dragonfly || freebsd || netbsd || openbsd) && !evloop_portable

package socket

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// datagramSlots is the part of a DatagramBatch that does not depend on the
// system calls that fill and send it (recvmmsg and sendmmsg, or recvmsg and
// sendmsg): n receive slots of slot bytes, each with its iovec and sender
// address, and an iovec and a peer address for each of n outgoing
// datagrams. The batch's headers point into this memory, which the batch
// owns and which never moves.
type datagramSlots struct {
	slot   int
	mem    []byte
	iovs   []unix.Iovec
	names  []unix.RawSockaddrAny
	siovs  []unix.Iovec
	snames []unix.RawSockaddrAny
}

// newDatagramSlots makes n slots of slot bytes, each receive iovec
// covering its slot.
func newDatagramSlots(slot, n int) datagramSlots {
	s := datagramSlots{
		slot:   slot,
		mem:    make([]byte, slot*n),
		iovs:   make([]unix.Iovec, n),
		names:  make([]unix.RawSockaddrAny, n),
		siovs:  make([]unix.Iovec, n),
		snames: make([]unix.RawSockaddrAny, n),
	}
	for i := range s.iovs {
		s.iovs[i].Base = &s.mem[i*slot]
		s.iovs[i].SetLen(slot)
	}
	return s
}

// pointHeaders points h, the receive header of slot i, and sh, the send
// header of outgoing datagram i, at their addresses and iovecs.
func (s *datagramSlots) pointHeaders(i int, h, sh *unix.Msghdr) {
	h.Name = (*byte)(unsafe.Pointer(&s.names[i]))
	h.Iov = &s.iovs[i]
	h.SetIovlen(1)
	sh.Name = (*byte)(unsafe.Pointer(&s.snames[i]))
	sh.Iov = &s.siovs[i]
	sh.SetIovlen(1)
}

// Size is how many datagrams one Recv or Send handles at most.
func (s *datagramSlots) Size() int { return len(s.iovs) }

// slotData is the first n bytes of slot i, capped so that an append to it
// cannot run into the next slot.
func (s *datagramSlots) slotData(i, n int) []byte {
	off := i * s.slot
	return s.mem[off : off+n : off+n]
}

// setOutgoingData points the iovec of outgoing datagram j at p.
func (s *datagramSlots) setOutgoingData(j int, p []byte) {
	if len(p) > 0 {
		s.siovs[j].Base = &p[0]
	} else {
		s.siovs[j].Base = nil
	}
	s.siovs[j].SetLen(len(p))
}

// ClearOutgoing drops the batch's references to the bytes given to
// SetOutgoing, so they do not stay reachable from it.
func (s *datagramSlots) ClearOutgoing() {
	for j := range s.siovs {
		s.siovs[j].Base = nil
	}
}

// familyDomain is the address family for a socket of family fam.
func familyDomain(fam Family) int {
	if fam == FamilyIPv4 {
		return unix.AF_INET
	}
	return unix.AF_INET6
}
