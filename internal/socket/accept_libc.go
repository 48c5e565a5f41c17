//go:build (darwin || openbsd) && !evloop_portable

package socket

import (
	"net/netip"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// Accept4Func is the accept seam every system shares, with accept4's
// signature: here it is accept(2) followed by making the new fd
// close-on-exec and non-blocking whatever flags say (the only flags Accept
// passes), returning the peer as SockaddrToAddrPort would. Accept calls
// it. A syscall seam: see hooks.go. (x/sys/unix has no accept4 here:
// darwin lacks it, and OpenBSD's is reachable only through package
// syscall's allocating wrapper.)
var Accept4Func func(fd int, flags int) (nfd int, peer netip.AddrPort, err error) = rawAccept

// AcceptSyscall names the system call Accept makes, for errors.
const AcceptSyscall = "accept"

// Accept accepts one connection on the listening socket fd. The new fd is
// non-blocking and close-on-exec. peer is the peer's address, the invalid
// AddrPort for a Unix-domain peer.
func Accept(fd int) (nfd int, peer netip.AddrPort, err error) {
	return Accept4Func(fd, 0)
}

// rawAccept holds syscall.ForkLock for reading between accept and
// close-on-exec, as package net does here, so a fork in another goroutine
// cannot leak the new descriptor into a child. The peer is read into a
// stack buffer, so accepting allocates nothing. A failure after accept
// closes the new fd and returns an *os.SyscallError.
func rawAccept(fd, _ int) (int, netip.AddrPort, error) {
	var rsa unix.RawSockaddrAny
	size := uint32(unix.SizeofSockaddrAny)
	syscall.ForkLock.RLock()
	nfd, err := libcAccept(fd, &rsa, &size)
	if err == nil {
		unix.CloseOnExec(nfd)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return -1, netip.AddrPort{}, err
	}
	if err := prepareAccepted(nfd); err != nil {
		_ = CloseFunc(nfd)
		return -1, netip.AddrPort{}, err
	}
	return nfd, rawToAddrPort(&rsa), nil
}

// prepareAccepted makes an accepted socket non-blocking, and on darwin,
// where send has no MSG_NOSIGNAL, sets SO_NOSIGPIPE (see noSigpipe).
func prepareAccepted(fd int) error {
	if err := unix.SetNonblock(fd, true); err != nil {
		return os.NewSyscallError("fcntl", err)
	}
	return noSigpipe(fd)
}
