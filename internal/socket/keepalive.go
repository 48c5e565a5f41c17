//go:build (linux || darwin || dragonfly || freebsd || netbsd) && !evloop_portable

package socket

import (
	"math"
	"time"

	"golang.org/x/sys/unix"
)

// SetKeepAlive enables TCP keepalive probes after idle time without traffic,
// then every interval, dropping the connection after count unanswered probes.
// idle <= 0 turns keepalive off. Durations are rounded up to whole seconds,
// at least 1; interval <= 0 uses idle, count <= 0 keeps the kernel default.
// Values beyond the kernel's limits (on Linux 32767 s, 127 probes) fail
// with EINVAL. OpenBSD has no per-socket timing: see keepalive_openbsd.go.
func SetKeepAlive(fd int, idle, interval time.Duration, count int) error {
	if idle <= 0 {
		return setInt(fd, unix.SOL_SOCKET, unix.SO_KEEPALIVE, 0)
	}
	if interval <= 0 {
		interval = idle
	}
	if err := setInt(fd, unix.IPPROTO_TCP, keepIdleOption, seconds(idle)); err != nil {
		return err
	}
	if err := setInt(fd, unix.IPPROTO_TCP, unix.TCP_KEEPINTVL, seconds(interval)); err != nil {
		return err
	}
	if count > 0 {
		if err := setInt(fd, unix.IPPROTO_TCP, unix.TCP_KEEPCNT, min(count, math.MaxInt32)); err != nil {
			return err
		}
	}
	return setInt(fd, unix.SOL_SOCKET, unix.SO_KEEPALIVE, 1)
}
