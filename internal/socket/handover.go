//go:build (linux || darwin || dragonfly || freebsd || netbsd || openbsd) && !evloop_portable

package socket

import "os"

// DupSystem returns a descriptor of the engine's own for the system socket
// raw (from a net.Conn's or an *os.File's RawConn.Control), which stays the
// caller's. Natively the engine's descriptors are system ones, so this is
// Dup. Safe from any goroutine.
func DupSystem(raw uintptr) (int, error) { return Dup(int(raw)) }

// Import returns the engine's descriptor for the system socket fd: natively
// fd itself. On failure, and until ImportDone, fd stays the caller's.
func Import(fd int) (int, error) { return fd, nil }

// ImportDone tells that the engine now serves the descriptor Import
// returned for fd. Natively that is fd: nothing to do.
func ImportDone(fd int) {}

// ImportFailed releases what Import returned when the engine could not
// serve it. Natively that is the caller's fd: nothing to do.
func ImportFailed(efd int) {}

// File returns an *os.File holding a system descriptor of its own for the
// socket fd refers to (for exec.Cmd.ExtraFiles), named name. Safe from any
// goroutine.
func File(fd int, name string) (*os.File, error) {
	nfd, err := Dup(fd)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(nfd), name), nil
}
