//go:build openbsd && !evloop_portable

package socket

// noSigpipe does nothing: OpenBSD has no SO_NOSIGPIPE. Datagram sends pass
// MSG_NOSIGNAL; a write(2) to a stream whose peer is gone raises SIGPIPE,
// which the Go runtime ignores for descriptors other than 1 and 2 unless
// the program asked signal.Notify for it, and the write returns EPIPE
// either way.
func noSigpipe(int) error { return nil }
