//go:build linux && !evloop_portable

package socket

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// MaxIovecs is the most buffers one Writev call hands to the kernel. It is
// well below IOV_MAX (1024) so the iovec array fits comfortably on the stack
// (1 KiB); a loop with more pending buffers simply calls again, since a
// short write is always legal.
const MaxIovecs = 64

// writev is the default WritevFunc. The iovecs live in a fixed-size stack
// array, so a call allocates nothing: the slower
//
//	iovs := make([]unix.Iovec, 0, len(bufs))
//	n, err := unix.Writev(fd, bufs)
//
// allocates the slice on every flush.
func writev(fd int, bufs [][]byte) (int, error) {
	var iovs [MaxIovecs]unix.Iovec
	cnt := 0
	for _, b := range bufs {
		if len(b) == 0 {
			continue
		}
		iovs[cnt].Base = &b[0]
		iovs[cnt].SetLen(len(b))
		cnt++
		if cnt == MaxIovecs {
			break
		}
	}
	if cnt == 0 {
		return 0, nil
	}
	n, _, errno := unix.Syscall(unix.SYS_WRITEV, uintptr(fd), uintptr(unsafe.Pointer(&iovs[0])), uintptr(cnt))
	if errno != 0 {
		// unix.Errno values are below 256, which the runtime boxes into
		// an interface without allocating.
		return 0, errno
	}
	return int(n), nil
}
