//go:build (linux || darwin || dragonfly || freebsd || netbsd || openbsd) && !evloop_portable

package socket

import (
	"context"
	"net"
	"net/netip"

	"golang.org/x/sys/unix"
)

// Syscall seams. Every socket syscall the engine makes goes through one of
// these variables so tests can inject EAGAIN, EINTR, short writes, EMFILE or
// ECONNABORTED without a misbehaving kernel. The accept seam is declared
// with Accept (Accept4Func where the system has accept4, AcceptFunc on
// darwin and OpenBSD), the datagram seams with the batch that uses them
// (RecvmmsgFunc and SendmmsgFunc on Linux).
//
// They are plain variables read without synchronisation on the hot path:
// swap them only while no engine or listener is in use (in a test, before
// starting and restored in t.Cleanup), never concurrently with a call.
var (
	// ReadFunc is read(2). Read calls it.
	ReadFunc func(fd int, p []byte) (int, error) = rawRead

	// WriteFunc is write(2). Write calls it.
	WriteFunc func(fd int, p []byte) (int, error) = rawWrite

	// WritevFunc is writev(2) over at most MaxIovecs non-empty buffers.
	// Writev calls it.
	WritevFunc func(fd int, bufs [][]byte) (int, error) = writev

	// CloseFunc is close(2). Close and Listener.Close call it, and Listen
	// calls it to release a socket after a failure.
	CloseFunc func(fd int) error = unix.Close

	// SocketFunc is socket(2). Listen and Connect call it, with the type
	// already or'ed with SOCK_NONBLOCK|SOCK_CLOEXEC except on darwin,
	// whose socket(2) takes no such flags.
	SocketFunc func(domain, typ, proto int) (int, error) = unix.Socket

	// CreatedFunc is told every socket Listen and Connect create, once it
	// is ready, as the portable backend's is: tests that count or track
	// the engine's sockets use it on every backend.
	CreatedFunc = func(fd int) {}

	// ConnectFunc is connect(2) on a non-blocking socket. Connect calls it;
	// a fake that returns unix.EINPROGRESS without connecting simulates a
	// peer that never answers.
	ConnectFunc func(fd int, sa unix.Sockaddr) error = unix.Connect

	// ShutdownFunc is shutdown(2). Shutdown calls it.
	ShutdownFunc func(fd int, how int) error = unix.Shutdown

	// LookupNetIPFunc looks a host name up (net.DefaultResolver's
	// LookupNetIP). ResolveDial calls it; a fake that blocks until its
	// context ends simulates a resolver that does not answer.
	LookupNetIPFunc func(ctx context.Context, network, host string) ([]netip.Addr, error) = net.DefaultResolver.LookupNetIP
)
