//go:build linux && !evloop_portable

package socket

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// Mmsghdr is the kernel's struct mmsghdr: one message of a recvmmsg(2) or
// sendmmsg(2) batch and, after the call, the bytes it carried. Its pointers
// (the name, the iovec) must point into memory the caller keeps alive and
// in place for the call: heap memory the engine owns.
type Mmsghdr struct {
	Hdr unix.Msghdr
	Len uint32
	_   [unsafe.Sizeof(uintptr(0)) - 4]byte
}

// The batch's syscall seams (see hooks.go).
var (
	// RecvmmsgFunc is recvmmsg(2) with MSG_DONTWAIT. Recvmmsg calls it.
	RecvmmsgFunc func(fd int, msgs []Mmsghdr) (int, error) = rawRecvmmsg

	// SendmmsgFunc is sendmmsg(2) with MSG_DONTWAIT|MSG_NOSIGNAL. Sendmmsg
	// calls it.
	SendmmsgFunc func(fd int, msgs []Mmsghdr) (int, error) = rawSendmmsg
)

// Recvmmsg receives up to len(msgs) datagrams without blocking and returns
// how many it filled; each message's Len, Hdr.Flags (MSG_TRUNC) and
// Hdr.Namelen say what arrived. msgs is not retained.
func Recvmmsg(fd int, msgs []Mmsghdr) (int, error) {
	return RecvmmsgFunc(fd, msgs)
}

// Sendmmsg sends up to len(msgs) datagrams without blocking and returns how
// many the kernel took; an error means the first one failed. msgs is not
// retained.
func Sendmmsg(fd int, msgs []Mmsghdr) (int, error) {
	return SendmmsgFunc(fd, msgs)
}

func rawRecvmmsg(fd int, msgs []Mmsghdr) (int, error) {
	if len(msgs) == 0 {
		return 0, nil
	}
	n, _, errno := unix.RawSyscall6(unix.SYS_RECVMMSG, uintptr(fd), uintptr(unsafe.Pointer(&msgs[0])),
		uintptr(len(msgs)), unix.MSG_DONTWAIT, 0, 0)
	if errno != 0 {
		return -1, errno
	}
	return int(n), nil
}

func rawSendmmsg(fd int, msgs []Mmsghdr) (int, error) {
	if len(msgs) == 0 {
		return 0, nil
	}
	n, _, errno := unix.RawSyscall6(unix.SYS_SENDMMSG, uintptr(fd), uintptr(unsafe.Pointer(&msgs[0])),
		uintptr(len(msgs)), unix.MSG_DONTWAIT|unix.MSG_NOSIGNAL, 0, 0)
	if errno != 0 {
		return -1, errno
	}
	return int(n), nil
}
