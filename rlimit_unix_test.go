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
	setCur(&lim.Cur, n) // int64 on FreeBSD and DragonFly, uint64 elsewhere
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		tb.Fatalf("setrlimit: %v", err)
	}
}

func setCur[T int64 | uint64](p *T, n uint64) { *p = T(n) }
