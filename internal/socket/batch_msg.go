//go:build (darwin || dragonfly || freebsd || netbsd || openbsd) && !evloop_portable

package socket

import (
	"net/netip"

	"golang.org/x/sys/unix"
)

// DatagramBatch is a loop's memory for datagram I/O: n receive slots of
// slot bytes each and room for n outgoing datagrams, with the recvmsg and
// sendmsg arguments that point into them. These systems have no recvmmsg or
// sendmmsg, so Recv and Send make one system call per datagram; the
// headers are built once, in heap memory the batch owns and never moves,
// so no datagram allocates. The API is the one batch_mmsg.go gives
// Linux. Only its loop uses it.
type DatagramBatch struct {
	datagramSlots
	hdrs  []unix.Msghdr
	lens  []int // bytes of each datagram of the last Recv
	shdrs []unix.Msghdr
}

// SendSyscall names the system call Send makes, for errors.
const SendSyscall = "sendmsg"

// NewDatagramBatch makes a batch of n slots of slot bytes.
func NewDatagramBatch(slot, n int) *DatagramBatch {
	b := &DatagramBatch{
		datagramSlots: newDatagramSlots(slot, n),
		hdrs:          make([]unix.Msghdr, n),
		lens:          make([]int, n),
		shdrs:         make([]unix.Msghdr, n),
	}
	for i := range b.hdrs {
		b.pointHeaders(i, &b.hdrs[i], &b.shdrs[i])
	}
	return b
}

// Recv receives up to Size datagrams from fd without blocking, one
// recvmsg each, and returns how many arrived; Received describes each. It
// stops at the first failure: an error (a raw errno; EAGAIN: nothing
// waiting) only when nothing arrived, otherwise the datagrams before it,
// as recvmmsg reports.
func (b *DatagramBatch) Recv(fd int) (int, error) {
	for i := range b.hdrs {
		h := &b.hdrs[i]
		h.Namelen = unix.SizeofSockaddrAny
		h.Flags = 0
		n, err := sysRecvmsg(fd, h, unix.MSG_DONTWAIT)
		if err != nil {
			if i == 0 {
				return -1, err
			}
			return i, nil
		}
		b.lens[i] = n
	}
	return len(b.hdrs), nil
}

// Received returns datagram i of the last Recv: its bytes, a view of slot
// i valid until the next Recv, its sender, and whether it was longer than
// a slot (then data is cut and must not be delivered).
func (b *DatagramBatch) Received(i int) (data []byte, peer netip.AddrPort, truncated bool) {
	return b.slotData(i, b.lens[i]), rawToAddrPort(&b.names[i]), b.hdrs[i].Flags&unix.MSG_TRUNC != 0
}

// SetOutgoing makes p, for peer, datagram j of the next Send from a socket
// of family fam. p must stay unchanged until Send returns; ClearOutgoing
// drops the references.
func (b *DatagramBatch) SetOutgoing(j int, fam Family, peer netip.AddrPort, p []byte) {
	n := PutAddrPort(&b.snames[j], familyDomain(fam), peer)
	b.snames[j].Addr.Len = uint8(n) // the BSD sockaddr carries its length
	b.shdrs[j].Namelen = n
	b.setOutgoingData(j, p)
}

// Send sends outgoing datagrams 0..k-1 from fd without blocking, one
// sendmsg each, and returns how many the kernel took; an error (a raw
// errno) means the first one was not sent, as with sendmmsg. A later
// failure ends the batch early and recurs at the next Send.
func (b *DatagramBatch) Send(fd, k int) (int, error) {
	for j := 0; j < k; j++ {
		if _, err := sysSendmsg(fd, &b.shdrs[j], sendFlags); err != nil {
			if j == 0 {
				return -1, err
			}
			return j, nil
		}
	}
	return k, nil
}
