//go:build (linux || darwin || dragonfly || freebsd || netbsd || openbsd) && !evloop_portable

package evloop

import (
	"sync/atomic"
	"testing"

	"github.com/evloop/evloop/internal/socket"
)

// tbCountSockets counts the sockets created through the socket seam until
// the test ends. Call it while no engine runs.
func tbCountSockets(tb testing.TB) *atomic.Int32 {
	tb.Helper()
	var n atomic.Int32
	orig := socket.SocketFunc
	tb.Cleanup(func() { socket.SocketFunc = orig })
	socket.SocketFunc = func(domain, typ, proto int) (int, error) {
		n.Add(1)
		return orig(domain, typ, proto)
	}
	return &n
}
