//go:build linux

package socket

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// read(2) and write(2) on the engine's sockets, which are non-blocking: they
// return at once, so they go through RawSyscall and skip the runtime's
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

func bufPtr(p []byte) unsafe.Pointer {
	if len(p) == 0 {
		return nil
	}
	return unsafe.Pointer(&p[0])
}
