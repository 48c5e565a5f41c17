//go:build unix

package evloop

import (
	"os"
	"runtime"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// itCountFDs returns how many descriptors the process has open: the
// entries of /proc/self/fd on Linux; elsewhere (where /dev/fd may show only
// 0, 1 and 2) the descriptors below the soft limit, at most 1<<16, that
// fcntl accepts.
func itCountFDs(tb testing.TB) int {
	tb.Helper()
	if runtime.GOOS == "linux" {
		ents, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			tb.Fatalf("list descriptors: %v", err)
		}
		return len(ents)
	}
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		tb.Fatalf("getrlimit: %v", err)
	}
	n := 0
	for fd := 0; fd < int(min(lim.Cur, 1<<16)); fd++ {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == nil {
			n++
		}
	}
	return n
}

// tbSocket is socket(2) with the descriptor marked close-on-exec, on every
// system (darwin's socket(2) takes no SOCK_CLOEXEC), holding ForkLock so no
// child the tests start inherits it.
func tbSocket(domain, typ int) (int, error) {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	fd, err := unix.Socket(domain, typ, 0)
	if err == nil {
		unix.CloseOnExec(fd)
	}
	return fd, err
}

// tbSocketpair is socketpair(2) with both ends close-on-exec, as tbSocket.
func tbSocketpair(domain, typ int) ([2]int, error) {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	fds, err := unix.Socketpair(domain, typ, 0)
	if err == nil {
		unix.CloseOnExec(fds[0])
		unix.CloseOnExec(fds[1])
	}
	return fds, err
}
