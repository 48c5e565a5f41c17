// Package netfd emulates non-blocking socket descriptors on top of package
// net, for the portable backend: systems without a native poller (Windows
// first), and Linux built with the evloop_portable tag so the whole test
// suite can run against it.
//
// A descriptor is a small integer, allocated lowest-free from 3 and reused
// after Close as the kernel's are, because the engine indexes slices by fd.
// Behind each number sits one object:
//
//   - a stream (a *net.TCPConn or *net.UnixConn): a reader goroutine fills an
//     inbound buffer bounded like a receive buffer and blocks when it is
//     full, so a paused reader backpressures the peer through TCP; Write
//     never blocks: while nothing is pending it writes to the system socket
//     at once (on unix systems), as natively, and copies what the socket
//     does not take into an outbound buffer bounded like a send buffer,
//     which a writer goroutine, running only while output is pending,
//     writes to the connection in order;
//   - a listener: on unix systems a goroutine waits, without accepting,
//     until the system's backlog is not empty, and Accept takes the
//     connection from the system itself, so one the engine did not accept
//     stays in a backlog shared with a successor; elsewhere an accept
//     goroutine takes one connection at a time ahead of Accept;
//   - a datagram socket: a reader goroutine queues received datagrams,
//     dropping what does not fit, as a full kernel buffer does; sends are
//     synchronous; one taken just as the watcher stops reading goes to
//     another descriptor object on the same system socket that reads (a
//     successor it was handed to), as the system's shared buffer would;
//   - a connecting stream (Connect): a goroutine dials, then the object
//     serves as a stream.
//
// Readiness (readable, writable, read hang-up, hang-up, error) is computed
// from that state on demand, and a poller that watches an object is told
// when it may have grown. Errors are the syscall errnos the native backend
// returns (EAGAIN, EPIPE, ECONNRESET, ...), mapped from whatever package net
// reports, so the engine compares them the same way on every system.
//
// The descriptor table is process-wide, like the kernel's: descriptors are
// handed from the acceptor to the loops and from dialers to loops by number.
package netfd
