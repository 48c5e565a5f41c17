//go:build linux && !evloop_portable

package poller

import "golang.org/x/sys/unix"

// setEventArray gives p an epoll event array of n entries.
func setEventArray(p *Poller, n int) { p.events = make([]unix.EpollEvent, n) }
