//go:build (darwin || openbsd) && !evloop_portable

package evloop

import (
	"net/netip"
	"testing"

	"github.com/evloop/evloop/internal/socket"
)

// tbWrapAccept routes the engine's accepts through wrap, which calls
// accept for the real one, until the test ends: the accept seam is
// AcceptFunc here (no accept4). Call it before starting an engine.
func tbWrapAccept(tb testing.TB, wrap func(accept func() (int, netip.AddrPort, error)) (int, netip.AddrPort, error)) {
	tb.Helper()
	orig := socket.AcceptFunc
	tb.Cleanup(func() { socket.AcceptFunc = orig })
	socket.AcceptFunc = func(fd int) (int, netip.AddrPort, error) {
		return wrap(func() (int, netip.AddrPort, error) { return orig(fd) })
	}
}
