//go:build evloop_portable || !(linux || darwin || dragonfly || freebsd || netbsd || openbsd)

package evloop

// What the package doc promises for the portable backend, which the tests
// that measure a backend's costs check. package net offers no readiness,
// so each connection holds one goroutine blocked in its Read (the loop
// still runs every callback): its stack and read buffer are the cost.
const (
	// tbIdleConnBytes bounds the memory (RSS and heap alike) an idle
	// connection costs.
	tbIdleConnBytes = 8 << 10
	// tbConnGoroutines is how many goroutines an established connection
	// holds: its reader.
	tbConnGoroutines = 1
	// tbTurnAllocs bounds the allocations per echo turn that the
	// zero-allocation tests tolerate, never one per message. A loop that
	// waits blocks on a channel, not in a system call, and the runtime
	// allocates the record of a blocked goroutine (a sudog) afresh after
	// each garbage collection empties its caches: about one allocation per
	// hundred turns of the partial-write test, whose flushes block the
	// loop most often.
	tbTurnAllocs = 0.05
)
