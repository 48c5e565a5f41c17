//go:build unix

package netfd

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// socketKey identifies a system socket whatever descriptor refers to it.
type socketKey struct{ dev, ino uint64 }

func socketKeyOf(c syscall.Conn) (socketKey, bool) {
	rc, err := c.SyscallConn()
	if err != nil {
		return socketKey{}, false
	}
	var st unix.Stat_t
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = unix.Fstat(int(fd), &st) }); err != nil || serr != nil {
		return socketKey{}, false
	}
	return socketKey{dev: uint64(st.Dev), ino: uint64(st.Ino)}, true
}
