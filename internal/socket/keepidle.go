//go:build (linux || dragonfly || freebsd || netbsd) && !evloop_portable

package socket

import "golang.org/x/sys/unix"

// keepIdleOption is the TCP option for the idle time before the first
// keepalive probe, in seconds.
const keepIdleOption = unix.TCP_KEEPIDLE
