package socket

import "syscall"

// The errnos the engine tells apart. Every backend returns these values
// where it means them (the native ones straight from the kernel, the
// portable one from what package net reports), so the engine compares
// against one set of names and imports no system package. Each is a
// syscall.Errno, the type golang.org/x/sys/unix uses too, so the values
// compare equal to the unix constants.
const (
	EAGAIN       = syscall.EAGAIN
	EINTR        = syscall.EINTR
	EINPROGRESS  = syscall.EINPROGRESS
	ECONNABORTED = syscall.ECONNABORTED
	ECONNRESET   = syscall.ECONNRESET
	EPIPE        = syscall.EPIPE
	EPROTO       = syscall.EPROTO
	EMFILE       = syscall.EMFILE
	ENFILE       = syscall.ENFILE
	ENOBUFS      = syscall.ENOBUFS
	ENOMEM       = syscall.ENOMEM
	EMSGSIZE     = syscall.EMSGSIZE
	EAFNOSUPPORT = syscall.EAFNOSUPPORT
)
