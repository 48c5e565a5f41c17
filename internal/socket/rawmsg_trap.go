//go:build (dragonfly || freebsd || netbsd) && !evloop_portable

package socket

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// recvmsg(2) and sendmsg(2) by number, for the datagram batch on the BSDs
// that have no recvmmsg; x/sys/unix's Recvmsg would allocate a
// unix.Sockaddr per datagram. With MSG_DONTWAIT they return at once, so
// they skip the runtime's entersyscall as rawRead does.

func sysRecvmsg(fd int, msg *unix.Msghdr, flags int) (int, error) {
	n, _, errno := unix.RawSyscall(unix.SYS_RECVMSG, uintptr(fd), uintptr(unsafe.Pointer(msg)), uintptr(flags))
	if errno != 0 {
		return -1, errno
	}
	return int(n), nil
}

func sysSendmsg(fd int, msg *unix.Msghdr, flags int) (int, error) {
	n, _, errno := unix.RawSyscall(unix.SYS_SENDMSG, uintptr(fd), uintptr(unsafe.Pointer(msg)), uintptr(flags))
	if errno != 0 {
		return -1, errno
	}
	return int(n), nil
}
