//go:build evloop_portable || !(linux || darwin || dragonfly || freebsd || netbsd || openbsd)

package evloop

import (
	"net/netip"
	"testing"

	"github.com/evloop/evloop/internal/socket"
)

// itGuardFDs installs the guard for the rest of the test. The seams may only
// be swapped while no engine runs, so call it before starting one.
func itGuardFDs(tb testing.TB) *itFDGuard {
	tb.Helper()
	g := &itFDGuard{owned: map[int]bool{}}
	accept, closeFD, created := socket.Accept4Func, socket.CloseFunc, socket.CreatedFunc
	tb.Cleanup(func() { socket.Accept4Func, socket.CloseFunc, socket.CreatedFunc = accept, closeFD, created })
	socket.Accept4Func = func(fd, flags int) (int, netip.AddrPort, error) {
		nfd, sa, err := accept(fd, flags)
		if err == nil {
			g.own(nfd)
		}
		return nfd, sa, err
	}
	socket.CreatedFunc = func(fd int) {
		created(fd)
		g.own(fd)
	}
	socket.CloseFunc = func(fd int) error {
		g.closing(fd)
		return closeFD(fd)
	}
	return g
}
