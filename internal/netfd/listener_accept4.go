//go:build linux || freebsd || dragonfly

package netfd

import "golang.org/x/sys/unix"

// acceptSystem accepts one connection from the listening socket fd, which
// is non-blocking: EAGAIN when none waits.
func acceptSystem(fd int) (int, error) {
	for {
		nfd, _, err := unix.Accept4(fd, unix.SOCK_CLOEXEC)
		if err == unix.EINTR {
			continue
		}
		return nfd, err
	}
}
