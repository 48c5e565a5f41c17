//go:build evloop_portable || !(darwin || openbsd)

package evloop

import (
	"net/netip"
	"testing"

	"github.com/evloop/evloop/internal/socket"
)

// tbWrapAccept routes the engine's accepts through wrap, which calls
// accept for the real one, until the test ends: the accept seam is
// Accept4Func here (natively and on the portable backend), AcceptFunc on
// darwin and OpenBSD
// (accept_wrap_libc_test.go). Call it before starting an engine.
func tbWrapAccept(tb testing.TB, wrap func(accept func() (int, netip.AddrPort, error)) (int, netip.AddrPort, error)) {
	tb.Helper()
	orig := socket.Accept4Func
	tb.Cleanup(func() { socket.Accept4Func = orig })
	socket.Accept4Func = func(fd, flags int) (int, netip.AddrPort, error) {
		return wrap(func() (int, netip.AddrPort, error) { return orig(fd, flags) })
	}
}
