//go:build linux && !evloop_portable

package socket

import (
	"context"
	"net"
	"net/netip"

	"golang.org/x/sys/unix"
)

// Syscall seams. Every socket syscall the engine makes goes through one of
// these variables so tests can inject EAGAIN, EINTR, short writes, EMFILE or
// ECONNABORTED without a misbehaving kernel.
//
// They are plain variables read without synchronisation on the hot path:
// swap them only while no engine or listener is in use (in a test, before
// starting and restored in t.Cleanup), never concurrently with a call.
var (
	// Accept4Func is accept4(2), returning the peer as SockaddrToAddrPort
	// would. Accept calls it.
	Accept4Func func(fd int, flags int) (nfd int, peer netip.AddrPort, err error) = rawAccept4

	// ReadFunc is read(2). Read calls it.
	ReadFunc func(fd int, p []byte) (int, error) = rawRead

	// WriteFunc is write(2). Write calls it.
	WriteFunc func(fd int, p []byte) (int, error) = rawWrite

	// WritevFunc is writev(2) over at most MaxIovecs non-empty buffers.
	// Writev calls it.
	WritevFunc func(fd int, bufs [][]byte) (int, error) = writev

	// RecvmmsgFunc is recvmmsg(2) with MSG_DONTWAIT. Recvmmsg calls it.
	RecvmmsgFunc func(fd int, msgs []Mmsghdr) (int, error) = rawRecvmmsg

	// SendmmsgFunc is sendmmsg(2) with MSG_DONTWAIT|MSG_NOSIGNAL. Sendmmsg
	// calls it.
	SendmmsgFunc func(fd int, msgs []Mmsghdr) (int, error) = rawSendmmsg

	// CloseFunc is close(2). Close and Listener.Close call it, and Listen
	// calls it to release a socket after a failure.
	CloseFunc func(fd int) error = unix.Close

	// SocketFunc is socket(2). Listen and Connect call it.
	SocketFunc func(domain, typ, proto int) (int, error) = unix.Socket

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
