//go:build openbsd && !evloop_portable

package socket

import (
	"errors"
	"time"

	"golang.org/x/sys/unix"
)

// SetKeepAlive turns TCP keepalive on (idle > 0) or off (idle <= 0).
// OpenBSD has no per-socket keepalive timing, only system-wide sysctls, so
// when it turns keepalive on it also returns an error wrapping
// errors.ErrUnsupported (see KeepAliveTuning): the probes then follow the
// system's timing, not idle, interval and count.
func SetKeepAlive(fd int, idle, interval time.Duration, count int) error {
	if idle <= 0 {
		return setInt(fd, unix.SOL_SOCKET, unix.SO_KEEPALIVE, 0)
	}
	return errors.Join(setInt(fd, unix.SOL_SOCKET, unix.SO_KEEPALIVE, 1), KeepAliveTuning())
}
