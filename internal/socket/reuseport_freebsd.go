//go:build freebsd && !evloop_portable

package socket

import "golang.org/x/sys/unix"

// SetReusePort sets SO_REUSEPORT_LB, which lets several sockets bind the
// same address and has the kernel balance connections and datagrams between
// them: FreeBSD's plain SO_REUSEPORT shares the address but delivers to
// one socket, which would leave every loop but one idle.
func SetReusePort(fd int, on bool) error {
	return setInt(fd, unix.SOL_SOCKET, reusePortOption, boolInt(on))
}

// reusePortOption is the option SetReusePort sets.
const reusePortOption = unix.SO_REUSEPORT_LB
