//go:build evloop_portable || !(linux || darwin || dragonfly || freebsd || netbsd || openbsd)

package evloop

import (
	"sync/atomic"
	"testing"

	"github.com/evloop/evloop/internal/socket"
)

// tbCountSockets counts the sockets created (CreatedFunc: the portable
// backend makes them through package net) until the test ends. Call it
// while no engine runs.
func tbCountSockets(tb testing.TB) *atomic.Int32 {
	tb.Helper()
	var n atomic.Int32
	orig := socket.CreatedFunc
	tb.Cleanup(func() { socket.CreatedFunc = orig })
	socket.CreatedFunc = func(fd int) {
		n.Add(1)
		orig(fd)
	}
	return &n
}
