//go:build (linux || darwin || dragonfly || netbsd || openbsd) && !evloop_portable

package socket

import "golang.org/x/sys/unix"

// SetReusePort sets SO_REUSEPORT, which lets several sockets of one user bind
// the same address. Linux and DragonFly balance connections and datagrams
// between them; darwin, NetBSD and OpenBSD let them share the address but
// deliver to one of them.
func SetReusePort(fd int, on bool) error {
	return setInt(fd, unix.SOL_SOCKET, reusePortOption, boolInt(on))
}

// reusePortOption is the option SetReusePort sets.
const reusePortOption = unix.SO_REUSEPORT
