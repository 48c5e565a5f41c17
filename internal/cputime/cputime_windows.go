package cputime

import (
	"syscall"
	"testing"
	"time"
)

// Process returns the CPU time the process has used, user plus system.
func Process(tb testing.TB) time.Duration {
	tb.Helper()
	h, err := syscall.GetCurrentProcess()
	if err != nil {
		tb.Fatalf("GetCurrentProcess: %v", err)
	}
	var creation, exit, kernel, user syscall.Filetime
	if err := syscall.GetProcessTimes(h, &creation, &exit, &kernel, &user); err != nil {
		tb.Fatalf("GetProcessTimes: %v", err)
	}
	return time.Duration(kernel.Nanoseconds() + user.Nanoseconds())
}
