//go:build (linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows || evloop_portable) && !evloop_debug

package evloop

// loopOnly checks, in builds with -tags evloop_debug, that a loop-only Conn
// method runs on the connection's loop goroutine (see debug_on.go). Here it
// is empty, and the compiler inlines the call away: no cost.
func (*conn) loopOnly(string) {}
