//go:build (linux || darwin || dragonfly || freebsd || netbsd || openbsd) && !evloop_portable

package evloop

// What the package doc promises for the native backends (epoll, kqueue),
// which the tests that measure a backend's costs check.
const (
	// tbIdleConnBytes bounds the memory (RSS and heap alike) an idle
	// connection costs.
	tbIdleConnBytes = 1 << 10
	// tbConnGoroutines is how many goroutines an established connection
	// holds: none, the loop serves it.
	tbConnGoroutines = 0
	// tbTurnAllocs bounds the allocations per echo turn that the
	// zero-allocation tests tolerate: noise from the test's own
	// goroutines, never one allocation per message.
	tbTurnAllocs = 0.01
)
