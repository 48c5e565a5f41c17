package main

import (
	"syscall"
	"testing"
	"time"
)

// processCPU returns the CPU time (user and system) this process has used.
func processCPU(tb testing.TB) time.Duration {
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
