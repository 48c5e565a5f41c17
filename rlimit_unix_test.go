//go:build unix

package evloop

import (
	"testing"

	"golang.org/x/sys/unix"
)

// tbLimitFiles lowers this process's RLIMIT_NOFILE soft limit to n.
func tbLimitFiles(tb testing.TB, n uint64) {
	tb.Helper()
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		tb.Fatalf("getrlimit: %v", err)
	}
	lim.Cur = n
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		tb.Fatalf("setrlimit: %v", err)
	}
}
