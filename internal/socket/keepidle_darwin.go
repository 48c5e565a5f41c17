//go:build darwin && !evloop_portable

package socket

import "golang.org/x/sys/unix"

// keepIdleOption is the TCP option for the idle time before the first
// keepalive probe, in seconds: darwin calls TCP_KEEPIDLE TCP_KEEPALIVE.
const keepIdleOption = unix.TCP_KEEPALIVE
