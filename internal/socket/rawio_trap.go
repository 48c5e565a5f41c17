//go:build (linux || dragonfly || freebsd || netbsd) && !evloop_portable

package socket

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// read(2), write(2) and writev(2) by system call number, which these
// kernels accept from any program (darwin and OpenBSD want their libc
// called instead: see rawio_libc.go).
//
// read and write on the engine's sockets, which are non-blocking, return at
// once, so they go through RawSyscall and skip the runtime's
// entersyscall/exitsyscall, two of which every echoed message would
// otherwise pay. The result is what unix.Read and unix.Write return.

func rawRead(fd int, p []byte) (int, error) {
	n, _, errno := unix.RawSyscall(unix.SYS_READ, uintptr(fd), uintptr(bufPtr(p)), uintptr(len(p)))
	if errno != 0 {
		return -1, errno
	}
	return int(n), nil
}

func rawWrite(fd int, p []byte) (int, error) {
	n, _, errno := unix.RawSyscall(unix.SYS_WRITE, uintptr(fd), uintptr(bufPtr(p)), uintptr(len(p)))
	if errno != 0 {
		return -1, errno
	}
	return int(n), nil
}

// sysWritev is writev(2) over iovs, which holds at least one buffer.
func sysWritev(fd int, iovs []unix.Iovec) (int, error) {
	n, _, errno := unix.Syscall(unix.SYS_WRITEV, uintptr(fd), uintptr(unsafe.Pointer(&iovs[0])), uintptr(len(iovs)))
	if errno != 0 {
		// unix.Errno values are below 256, which the runtime boxes into
		// an interface without allocating.
		return 0, errno
	}
	return int(n), nil
}
