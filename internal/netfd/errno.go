package netfd

import (
	"errors"
	"io"
	"net"
	"os"
	"syscall"
)

// errnoOf maps an error from package net to the errno a kernel call would
// have returned, so callers compare with errors.Is against one set of
// names on every system. Errors with no errno equivalent are returned as
// they are.
func errnoOf(err error) error {
	if err == nil {
		return nil
	}
	for _, e := range []syscall.Errno{
		syscall.ECONNRESET, syscall.EPIPE, syscall.ECONNREFUSED, syscall.ECONNABORTED,
		syscall.ETIMEDOUT, syscall.ENETUNREACH, syscall.EHOSTUNREACH, syscall.EADDRINUSE,
		syscall.EADDRNOTAVAIL, syscall.EACCES, syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS,
		syscall.EMSGSIZE, syscall.EAFNOSUPPORT, syscall.EINVAL, syscall.ENOENT,
	} {
		if errors.Is(err, e) {
			return e
		}
	}
	if e, ok := systemErrno(err); ok {
		return e
	}
	switch {
	case errors.Is(err, net.ErrClosed), errors.Is(err, os.ErrClosed):
		return syscall.EBADF
	case errors.Is(err, os.ErrDeadlineExceeded):
		return syscall.ETIMEDOUT
	case errors.Is(err, io.ErrUnexpectedEOF):
		return syscall.ECONNRESET
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno
	}
	return err
}
