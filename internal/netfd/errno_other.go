//go:build !windows

package netfd

import "syscall"

// systemErrno: package net reports POSIX errnos already here.
func systemErrno(error) (syscall.Errno, bool) { return 0, false }
