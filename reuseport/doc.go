// Package reuseport opens TCP and UDP sockets with SO_REUSEPORT (and
// SO_REUSEADDR) set, so several sockets in one or more processes can bind the
// same address and port.
//
// An event-loop server uses this to give every loop its own listener on the
// shared port. On Linux the kernel then spreads incoming connections (and UDP
// datagrams) across the listeners by a hash of the peer address: each loop
// accepts only what the kernel handed it, no loop wakes for a connection
// another loop takes (no thundering herd), and no acceptor goroutine hands
// connections around.
//
// It also lets a new process bind the port while the old one still serves,
// which shortens a restart's gap but does not close it: on Linux each
// listener has its own accept queue, the kernel hashes a new connection to
// one of the listeners open at that moment, and when the old process closes
// its listener the connections still queued there (handshake done, not yet
// accepted) are reset. A restart without any refused or reset connection
// needs the listening socket itself handed to the new process, or the old
// one to stop accepting only after the new one is ready and to drain its
// queue before closing.
//
// Two limits come from the kernel, not from this package. Linux only lets
// sockets of the same effective user share a port. On macOS, NetBSD and
// OpenBSD the option lets the sockets bind but does not balance between
// them; DragonFly balances, and on FreeBSD the package sets SO_REUSEPORT_LB,
// which balances, instead of SO_REUSEPORT, which does not.
//
// The package works with any Go program: Listen and ListenPacket return
// ordinary net.Listener and net.PacketConn values, and Control plugs into a
// net.ListenConfig of your own. On systems without SO_REUSEPORT (Windows,
// Plan 9, Solaris, ...) the package still compiles and Control fails with an
// error wrapping ErrUnsupported, so a program can fall back to one listener.
//
// All functions are safe for concurrent use.
package reuseport
