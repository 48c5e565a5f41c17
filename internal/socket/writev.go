//go:build (linux || darwin || dragonfly || freebsd || netbsd || openbsd) && !evloop_portable

package socket

import "golang.org/x/sys/unix"

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
	return sysWritev(fd, iovs[:cnt])
}
