//go:build (linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows || evloop_portable) && evloop_debug

package evloop

import "fmt"

// loopOnly panics unless it is called on c's loop goroutine. Every method
// of Conn that belongs to the loop (see the Conn doc) calls it first, so
// that with -tags evloop_debug a call from a pool job, a timer or any other
// goroutine fails at once with a message naming the method, instead of
// racing with the loop. Calls inside a callback on another connection of
// the same loop run on that goroutine and pass.
//
// It parses the goroutine id from a stack header on every call, which is
// too slow for production and is why the check exists only in debug builds.
func (c *conn) loopOnly(method string) {
	if goid() == c.loop.goid.Load() {
		return
	}
	panic(fmt.Sprintf("evloop: Conn.%s called off its loop goroutine (loop %d); %s",
		method, c.loop.idx, loopOnlyHint(method)))
}

// loopOnlyHint says what to do instead of calling method off the loop.
func loopOnlyHint(method string) string {
	switch method {
	case "Write", "Flush":
		return "use AsyncWrite from other goroutines"
	case "Writev":
		return "use AsyncWritev from other goroutines"
	case "Read", "Peek", "Next", "Discard", "InboundBuffered":
		return "read inside OnTraffic; from other goroutines use Wake to get there"
	}
	return "call it inside the connection's callbacks; from other goroutines use Wake to get there"
}
