//go:build (linux || darwin || dragonfly || freebsd || netbsd) && !evloop_portable

package socket

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestSetKeepAliveTiming: the idle time (TCP_KEEPIDLE, darwin's
// TCP_KEEPALIVE), interval and count reach the socket in whole seconds,
// rounded up, with the interval defaulting to the idle time. OpenBSD has
// no such options (keepalive_openbsd_test.go).
func TestSetKeepAliveTiming(t *testing.T) {
	tests := []optCase{
		{name: "keepalive", set: func(fd int) error { return SetKeepAlive(fd, 90*time.Second, 1500*time.Millisecond, 4) },
			check: []intOpt{
				{level: unix.SOL_SOCKET, opt: unix.SO_KEEPALIVE, want: 1},
				{level: unix.IPPROTO_TCP, opt: keepIdleOption, want: 90},
				{level: unix.IPPROTO_TCP, opt: unix.TCP_KEEPINTVL, want: 2},
				{level: unix.IPPROTO_TCP, opt: unix.TCP_KEEPCNT, want: 4},
			}},
		{name: "keepalive sub-second idle, default interval", set: func(fd int) error { return SetKeepAlive(fd, time.Nanosecond, 0, 0) },
			check: []intOpt{
				{level: unix.SOL_SOCKET, opt: unix.SO_KEEPALIVE, want: 1},
				{level: unix.IPPROTO_TCP, opt: keepIdleOption, want: 1},
				{level: unix.IPPROTO_TCP, opt: unix.TCP_KEEPINTVL, want: 1},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fd := tcpSocket(t)
			if err := tt.set(fd); err != nil {
				t.Fatalf("SetKeepAlive: %v", err)
			}
			for _, c := range tt.check {
				got := getInt(t, fd, c.level, c.opt)
				if c.want <= 1 {
					got = flag(got) // SO_KEEPALIVE, a boolean option
				}
				if got != c.want {
					t.Errorf("getsockopt(%d, %d) = %d, want %d", c.level, c.opt, got, c.want)
				}
			}
		})
	}
}
