//go:build !unix

package socket

import (
	"os"
	"syscall"
)

// DupSystem is unsupported: there are no system descriptors to share.
func DupSystem(raw uintptr) (int, error) { return -1, errUnsupported("taking over a system socket") }

// Import is unsupported: there are no system descriptors to take over.
func Import(fd int) (int, error) { return -1, errUnsupported("taking over a system socket") }

// ImportFailed closes the emulated descriptor Import returned; the system
// one stays the caller's.
func ImportFailed(efd int) { _ = Close(efd) }

// ImportDone does nothing: Import never succeeds here.
func ImportDone(fd int) {}

// File is unsupported: an emulated listener has no system descriptor to
// hand to another process.
func File(fd int, name string) (*os.File, error) {
	return nil, errUnsupported("handing a listener to another process")
}

// CloseOnExec does nothing: there are no system descriptors here.
func CloseOnExec(fd int) {}

// reusePortControl is unsupported: several listeners cannot share a port.
func reusePortControl() (func(network, address string, c syscall.RawConn) error, error) {
	return nil, errUnsupported("SO_REUSEPORT")
}

// PortSharing returns an error wrapping errors.ErrUnsupported: several
// sockets cannot bind one address here, so the engine serves a datagram
// address with one socket on one loop. Safe from any goroutine.
func PortSharing() error {
	_, err := reusePortControl()
	return err
}
