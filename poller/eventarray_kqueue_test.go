//go:build (darwin || dragonfly || freebsd || netbsd || openbsd) && !evloop_portable

package poller

import "golang.org/x/sys/unix"

// setEventArray gives p a kevent array of n entries.
func setEventArray(p *Poller, n int) { p.events = make([]unix.Kevent_t, n) }
