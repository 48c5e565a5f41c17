//go:build (linux || darwin || dragonfly || freebsd || netbsd || openbsd) && !evloop_portable

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
	closeFD, sock := socket.CloseFunc, socket.SocketFunc
	tb.Cleanup(func() { socket.CloseFunc, socket.SocketFunc = closeFD, sock })
	tbWrapAccept(tb, func(accept func() (int, netip.AddrPort, error)) (int, netip.AddrPort, error) {
		nfd, sa, err := accept()
		if err == nil {
			g.own(nfd)
		}
		return nfd, sa, err
	})
	socket.SocketFunc = func(domain, typ, proto int) (int, error) {
		fd, err := sock(domain, typ, proto)
		if err == nil {
			g.own(fd)
		}
		return fd, err
	}
	socket.CloseFunc = func(fd int) error {
		g.closing(fd)
		return closeFD(fd)
	}
	return g
}
