package reuseport

import (
	"errors"
	"fmt"
)

var (
	// ErrUnsupported is returned (wrapped) on operating systems without
	// SO_REUSEPORT. It matches errors.ErrUnsupported too.
	ErrUnsupported = fmt.Errorf("reuseport: SO_REUSEPORT is not available on this system: %w", errors.ErrUnsupported)

	// ErrBadNetwork reports a network Listen or ListenPacket does not open.
	ErrBadNetwork = errors.New("reuseport: unsupported network")
)
