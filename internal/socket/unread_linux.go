//go:build linux && !evloop_portable

package socket

import "golang.org/x/sys/unix"

// Unread returns how many received bytes wait in fd's receive queue
// (SIOCINQ); 0 when the kernel cannot tell. Safe from any goroutine.
func Unread(fd int) int {
	n, err := unix.IoctlGetInt(fd, unix.SIOCINQ)
	if err != nil {
		return 0
	}
	return n
}
