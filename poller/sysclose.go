//go:build (linux || darwin || dragonfly || freebsd || netbsd || openbsd) && !evloop_portable

package poller

import (
	"os"

	"golang.org/x/sys/unix"
)

// sysClose closes a descriptor the poller owns, in the error shape every
// other poller call uses.
func sysClose(fd int) error {
	if err := unix.Close(fd); err != nil {
		return os.NewSyscallError("close", err)
	}
	return nil
}
