//go:build openbsd && !evloop_portable

package socket

import (
	"errors"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestSetKeepAliveUnsupportedTiming: OpenBSD has no per-socket keepalive
// timing, so SetKeepAlive turns keepalive on and says it could not set
// the timing, with an error wrapping errors.ErrUnsupported.
func TestSetKeepAliveUnsupportedTiming(t *testing.T) {
	fd := tcpSocket(t)
	if err := SetKeepAlive(fd, 90*time.Second, time.Second, 4); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("SetKeepAlive = %v, want an error wrapping errors.ErrUnsupported", err)
	}
	if got := getFlag(t, fd, unix.SOL_SOCKET, unix.SO_KEEPALIVE); got != 1 {
		t.Errorf("SO_KEEPALIVE = %d, want 1", got)
	}
	if err := SetKeepAlive(fd, 0, 0, 0); err != nil {
		t.Errorf("SetKeepAlive(off) = %v", err)
	}
}
