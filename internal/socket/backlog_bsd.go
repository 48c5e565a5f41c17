//go:build (darwin || dragonfly || freebsd || netbsd || openbsd) && !evloop_portable

package socket

import (
	"runtime"

	"golang.org/x/sys/unix"
)

// backlog reads the system's listen queue limit at each Listen rather than
// caching it in a package variable: listening is rare and the sysctl may
// change while a process runs. The sysctl names are package net's;
// NetBSD has none, so it gets unix.SOMAXCONN.
func backlog(n int) int {
	if n > 0 {
		return n
	}
	name := backlogSysctl(runtime.GOOS)
	if name == "" {
		return unix.SOMAXCONN
	}
	v, err := unix.SysctlUint32(name)
	if err != nil || v == 0 {
		return unix.SOMAXCONN
	}
	// The kernels keep the backlog in 16 bits; a larger limit would wrap.
	return int(min(v, 1<<16-1))
}

func backlogSysctl(goos string) string {
	switch goos {
	case "darwin":
		return "kern.ipc.somaxconn"
	case "freebsd":
		return "kern.ipc.soacceptqueue"
	case "dragonfly":
		return "kern.ipc.somaxconn"
	case "openbsd":
		return "kern.somaxconn"
	}
	return ""
}
