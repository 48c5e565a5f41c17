//go:build (linux || darwin || dragonfly || freebsd || netbsd || openbsd) && !evloop_portable

package poller

// The event array starts at minEvents, doubles when a Wait fills it and
// halves after shrinkAfter consecutive Waits that used less than an eighth
// of it, so a loop with 10 connections and one with 50,000 both get one
// kernel call per iteration without holding a large array forever. The long
// quiet run required keeps a loop whose load swings from wait to wait from
// reallocating back and forth.
const (
	minEvents   = 128
	maxEvents   = 8192
	shrinkAfter = 4096
)

// resizeEvents returns the array for the next Wait after one that filled n
// of events, counting quiet Waits in underused. It is generic because each
// mechanism has its own kernel event type but the same sizing policy.
func resizeEvents[T any](events []T, underused *int, n int) []T {
	size := len(events)
	switch {
	case n == size && size < maxEvents:
		*underused = 0
		return make([]T, size*2)
	case n < size/8 && size > minEvents:
		*underused++
		if *underused >= shrinkAfter {
			*underused = 0
			return make([]T, size/2)
		}
	default:
		*underused = 0
	}
	return events
}
