//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows || evloop_portable

package evloop

import "strconv"

// Loop is the handle to one event loop of an engine: the goroutine that
// owns a set of connections and runs all their callbacks. Conn.Loop and
// Engine.Loops return it. Two handles are == when they name the same loop,
// which is how a handler tells whether another connection is its own
// loop's:
//
//	if peer.Loop() == c.Loop() {
//		peer.Write(msg) // same loop: a plain call, no copy
//	} else {
//		peer.AsyncWrite(msg, nil) // another loop: copied and queued
//	}
//
// Inside a callback running on loop L, the loop-only methods of Conn may be
// called on any connection owned by L, not only on the one the callback is
// for. The zero Loop names no loop: Index returns -1 and
// CountConnections 0. Its methods are safe from any goroutine.
type Loop struct{ l *loop }

// Index returns the loop's position in Engine.Loops, from 0; -1 for the
// zero Loop.
func (lp Loop) Index() int {
	if lp.l == nil {
		return -1
	}
	return lp.l.idx
}

// CountConnections returns the number of open connections the loop
// serves, counting those handed to it or connecting and not yet open.
func (lp Loop) CountConnections() int {
	if lp.l == nil {
		return 0
	}
	return int(lp.l.count.Load())
}

// String returns "loop N".
func (lp Loop) String() string { return "loop " + strconv.Itoa(lp.Index()) }
