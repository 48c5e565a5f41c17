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
// Address parsing (ParseAddr, IsStream), the errnos and the per-system
// answers (systems.go) are portable; everything else is built for Linux,
// darwin and the BSDs. Only what differs between them has its own file:
// accept4 or accept (accept*.go), socket flags and SIGPIPE (open*.go),
// read, write and writev by number or through libc (rawio_*.go), batched
// datagrams (batch_mmsg.go on Linux, batch_msg.go looping recvmsg and
// sendmsg elsewhere, over the slots of batch_native.go), keepalive timing (keep*.go), SO_REUSEPORT or
// FreeBSD's SO_REUSEPORT_LB (reuseport*.go), the unread byte count
// (unread_*.go), the socket's domain and protocol (inspect_*.go) and the
// default listen backlog (backlog_*.go).
package socket
