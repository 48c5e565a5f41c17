//go:build linux && !evloop_portable

package socket

import (
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// backlog reads somaxconn at each Listen rather than caching it in a package
// variable: listening is rare and the sysctl may change while a process runs.
func backlog(n int) int {
	if n > 0 {
		return n
	}
	b, err := os.ReadFile("/proc/sys/net/core/somaxconn")
	if err == nil {
		if v, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && v > 0 {
			return v
		}
	}
	return unix.SOMAXCONN
}
