//go:build !unix

package netfd

import (
	"net"
	"os"
	"syscall"
)

// rawListener is nil where a goroutine cannot wait for a listener's
// backlog without accepting from it: an accept goroutine takes
// connections instead.
func rawListener(net.Listener) *os.File { return nil }

func backlogWaiting(uintptr) bool { return true }

func acceptSystem(int) (int, error) { return -1, syscall.EOPNOTSUPP }
