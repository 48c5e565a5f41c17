package socket

import "errors"

// The texts carry no package prefix: they reach evloop's users inside a
// *net.OpError, which already says what failed.
var (
	// ErrBadAddress reports an address string or net.Addr that cannot be
	// used: unknown scheme, missing or invalid port, bad IPv6 brackets,
	// empty unix path. Returned errors wrap it and name the input.
	ErrBadAddress = errors.New("bad address")

	// ErrBadNetwork reports a network name this package does not listen on.
	ErrBadNetwork = errors.New("unsupported network")

	// ErrBadOption reports a negative value in Options.
	ErrBadOption = errors.New("invalid option")
)
