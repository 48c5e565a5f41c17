// Package socket holds every socket syscall the evloop engine makes: creating
// listeners, accepting, connecting (Connect, ConnectResult, and the
// addresses to dial: DialAddrs, ResolveDial), reading, writing, closing,
// socket options, inspecting a socket handed over by a caller, and the
// conversions between kernel socket addresses and net.Addr values.
//
// The per-connection functions (Accept, Read, Write, Writev, Close) are thin:
// they never allocate, never retry and return the raw unix.Errno, because
// they run on the event loop's hot path and only the caller knows whether
// EINTR or EAGAIN means "try again now" or "wait for readiness".
//
// Each of them calls through a package-level function variable (see
// hooks.go) so tests can inject EAGAIN, EINTR, short writes, EMFILE or
// ECONNABORTED deterministically, the way net/hook_unix.go does for the
// standard library.
//
// Address parsing (ParseAddr, IsStream) is portable; everything else is
// Linux only.
package socket
