package netfd

import (
	"errors"
	"syscall"

	"golang.org/x/sys/windows"
)

// systemErrno maps the Winsock errors package net passes through to the
// POSIX errnos the engine compares against (syscall defines both on
// Windows, with different values).
func systemErrno(err error) (syscall.Errno, bool) {
	var errno syscall.Errno // windows.Errno is the same type
	if !errors.As(err, &errno) {
		return 0, false
	}
	switch errno {
	case windows.WSAECONNRESET, windows.WSAECONNABORTED, windows.ERROR_NETNAME_DELETED:
		return syscall.ECONNRESET, true
	case windows.WSAECONNREFUSED, windows.ERROR_CONNECTION_REFUSED:
		return syscall.ECONNREFUSED, true
	case windows.WSAEMSGSIZE:
		return syscall.EMSGSIZE, true
	case windows.WSAENOBUFS:
		return syscall.ENOBUFS, true
	case windows.WSAEMFILE:
		return syscall.EMFILE, true
	case windows.WSAEADDRINUSE:
		return syscall.EADDRINUSE, true
	case windows.WSAEAFNOSUPPORT:
		return syscall.EAFNOSUPPORT, true
	case windows.WSAETIMEDOUT:
		return syscall.ETIMEDOUT, true
	case windows.WSAENETUNREACH:
		return syscall.ENETUNREACH, true
	case windows.WSAEHOSTUNREACH:
		return syscall.EHOSTUNREACH, true
	case windows.WSAEADDRNOTAVAIL:
		return syscall.EADDRNOTAVAIL, true
	}
	return 0, false
}
