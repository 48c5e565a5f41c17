//go:build linux && !evloop_portable

package socket

import (
	"errors"
	"testing"

	"golang.org/x/sys/unix"
)

// TestConnectNetlinkLinux: an address of a family Connect does not serve
// (netlink, which only Linux has) is refused with ErrBadAddress.
func TestConnectNetlinkLinux(t *testing.T) {
	if _, err := Connect(&unix.SockaddrNetlink{}); !errors.Is(err, ErrBadAddress) {
		t.Errorf("Connect(netlink) = %v, want ErrBadAddress", err)
	}
}
