//go:build (darwin || openbsd) && !evloop_portable

package socket

import (
	_ "unsafe" // for go:linkname

	"golang.org/x/sys/unix"
)

// darwin and OpenBSD take system calls only through their libc: OpenBSD
// refuses a system call made from anywhere else, and Apple keeps the
// numbers private. So reading and writing go through x/sys/unix's libc
// wrappers instead of by number as on the other systems (rawio_trap.go).

func rawRead(fd int, p []byte) (int, error) { return unix.Read(fd, p) }

func rawWrite(fd int, p []byte) (int, error) { return unix.Write(fd, p) }

// sysWritev is writev(2) over iovs, which holds at least one buffer.
func sysWritev(fd int, iovs []unix.Iovec) (int, error) {
	n, err := libcWritev(fd, iovs)
	if err != nil {
		return 0, err
	}
	return n, nil
}

// The libc wrappers x/sys/unix keeps unexported, for the calls whose
// exported forms allocate (a unix.Sockaddr per message or per accept, a
// copy of the iovecs). Each returns the raw unix.Errno. They do not keep
// their arguments past the call, hence noescape: without it the compiler
// would move every caller's Msghdr and iovecs to the heap.

//go:noescape
//go:linkname libcWritev golang.org/x/sys/unix.writev
func libcWritev(fd int, iovecs []unix.Iovec) (n int, err error)

//go:noescape
//go:linkname sysRecvmsg golang.org/x/sys/unix.recvmsg
func sysRecvmsg(s int, msg *unix.Msghdr, flags int) (n int, err error)

//go:noescape
//go:linkname sysSendmsg golang.org/x/sys/unix.sendmsg
func sysSendmsg(s int, msg *unix.Msghdr, flags int) (n int, err error)

//go:noescape
//go:linkname libcAccept golang.org/x/sys/unix.accept
func libcAccept(s int, rsa *unix.RawSockaddrAny, addrlen *uint32) (fd int, err error)
