//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows || evloop_portable

package evloop

import "github.com/evloop/evloop/poller"

// readiness is what a loop and the acceptor need from a poller. They hold
// it as an interface so that fault tests can wrap the real poller and make
// epoll_ctl or the wake fail on cue; a call through it costs a few
// nanoseconds per wait and per interest change, never per byte.
type readiness interface {
	Add(fd int, gen uint32, in poller.Interest) error
	Mod(fd int, gen uint32, in poller.Interest) error
	Del(fd int) error
	Wait(timeout int, h poller.Handler) (woken bool, err error)
	Wake() error
	Close() error
}

// openPoller creates the poller of a loop or of the acceptor. Tests swap it
// (only while no engine runs) to inject poller faults.
var openPoller = func() (readiness, error) {
	p, err := poller.Open()
	if err != nil {
		return nil, err // not a typed nil inside the interface
	}
	return p, nil
}
