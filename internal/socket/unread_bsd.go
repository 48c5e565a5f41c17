//go:build (darwin || dragonfly || freebsd || netbsd || openbsd) && !evloop_portable

package socket

import "golang.org/x/sys/unix"

// fionread is FIONREAD, _IOR('f', 127, int) on every BSD and darwin, which
// x/sys/unix does not define for them.
const fionread = 0x4004667f

// Unread returns how many received bytes wait in fd's receive queue
// (FIONREAD); 0 when the kernel cannot tell. Safe from any goroutine.
func Unread(fd int) int {
	n, err := unix.IoctlGetInt(fd, fionread)
	if err != nil {
		return 0
	}
	return n
}
