//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows || evloop_portable

package evloop

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
)

var (
	// ErrClosed: the connection is closed (or was replaced by a new one on
	// the same fd); the call did nothing.
	ErrClosed = errors.New("evloop: connection closed")
	// ErrEngineStopped: the engine is stopping or stopped.
	ErrEngineStopped = errors.New("evloop: engine stopped")
	// ErrUnsupportedNetwork: the address names a network the engine cannot
	// serve (evloop serves tcp, tcp4, tcp6 and unix streams and udp, udp4
	// and udp6 datagrams; unixgram and unixpacket are recognised and
	// refused).
	ErrUnsupportedNetwork = errors.New("evloop: unsupported network")
	// ErrNotStream: the call needs a connection, and the Conn stands for a
	// datagram of a udp:// socket (see DatagramPeerOf): it cannot be
	// closed, woken, ordered with Execute or given deadlines.
	ErrNotStream = errors.New("evloop: not a stream connection: a datagram Conn has no connection to close, wake or time")
	// ErrShortBuffer: Peek or Next asked for more bytes than are buffered;
	// the call returned what there is. It also matches io.ErrShortBuffer
	// with errors.Is, as handlers written for gnet expect.
	ErrShortBuffer error = &aliasError{msg: "evloop: fewer bytes buffered than requested", alias: io.ErrShortBuffer}
	// ErrNegativeSize: a negative count was passed where a size is needed.
	ErrNegativeSize = errors.New("evloop: negative size")
	// ErrPoolOverload: every goroutine of the engine's pool is busy; the
	// job was not run. The caller decides: retry, reply with an error, or
	// close the connection.
	ErrPoolOverload = errors.New("evloop: goroutine pool overloaded")
	// ErrInvalidOption: an option value is out of range.
	ErrInvalidOption = errors.New("evloop: invalid option")
	// ErrOutboundFull: a write would take the connection's pending output
	// above WithOutboundLimit. From Write on the loop, the connection is
	// closed with this error; from AsyncWrite, nothing was queued and the
	// connection stays open.
	ErrOutboundFull = errors.New("evloop: outbound buffer full")
	// ErrLingerTimeout: a closing connection did not flush its pending
	// output within WithLinger.
	ErrLingerTimeout = errors.New("evloop: pending output not flushed within the linger time")
	// ErrStopTimeout: the engine stopped before the connection's pending
	// output was flushed; the rest was dropped and the peer got a reset.
	ErrStopTimeout = errors.New("evloop: pending output dropped: the engine stopped before it was flushed")
	// ErrInboundFull: the connection's unread input reached
	// WithInboundLimit and the handler consumed none of it, so no progress
	// was possible (a message larger than the limit); it was closed.
	ErrInboundFull = errors.New("evloop: inbound buffer full and nothing consumed")
	// ErrReadTimeout: the connection's read deadline passed without being
	// moved. It matches os.ErrDeadlineExceeded.
	ErrReadTimeout = fmt.Errorf("evloop: read deadline exceeded: %w", os.ErrDeadlineExceeded)
	// ErrWriteTimeout: the connection's write deadline passed with output
	// still pending; it was dropped and the peer got a reset. It matches
	// os.ErrDeadlineExceeded.
	ErrWriteTimeout = fmt.Errorf("evloop: write deadline exceeded with output pending: %w", os.ErrDeadlineExceeded)
	// ErrIdleTimeout: the connection neither received nor sent a byte for
	// its idle timeout (WithIdleTimeout, Conn.SetIdleTimeout). Unlike the
	// deadline errors, it does not match os.ErrDeadlineExceeded.
	ErrIdleTimeout = errors.New("evloop: connection idle for longer than its idle timeout")
	// ErrDialTimeout: a dial did not connect within its timeout (Loop.Dial)
	// or before its context's deadline (Engine.Dial). It matches
	// os.ErrDeadlineExceeded and context.DeadlineExceeded, and is a
	// net.Error whose Timeout method reports true.
	ErrDialTimeout error = &timeoutError{msg: "evloop: dial timed out"}
	// ErrOnLoop: a call that waits for an event loop (Engine.Dial,
	// Engine.Enroll, Engine.EnrollFD) was made on a goroutine that loop, or
	// the start or stop of the engine, waits for: inside a handler
	// callback, an AsyncCallback or a loop timer, or in OnBoot or
	// OnShutdown. It would never return; it fails at once instead. On a
	// loop, Loop.Dial dials without blocking.
	ErrOnLoop = errors.New("evloop: blocking call on an event-loop goroutine (use Loop.Dial there)")
	// ErrBadSocket: Engine.Enroll or Engine.EnrollFD was given something
	// other than a connected TCP or unix stream socket: not a socket, a
	// datagram socket, a listening socket, or one not connected. The
	// error that wraps it says which, and wraps the errno (ENOTSOCK,
	// ENOTCONN, EBADF) where the kernel gave one.
	ErrBadSocket = errors.New("evloop: not a connected stream socket")
	// ErrTLSTruncated: the peer of a TLS connection (WithTLS) closed it
	// without close_notify, so what it sent may have been cut short (an
	// attacker can inject a FIN, not a close_notify). OnClose gets it; it
	// matches io.ErrUnexpectedEOF.
	ErrTLSTruncated = fmt.Errorf("evloop: TLS peer closed without close_notify: %w", io.ErrUnexpectedEOF)
)

// timeoutError is a timeout sentinel that matches both standard timeout
// errors and reports itself a timeout the way net.Error does.
type timeoutError struct{ msg string }

func (e *timeoutError) Error() string   { return e.msg }
func (e *timeoutError) Timeout() bool   { return true }
func (e *timeoutError) Temporary() bool { return true }
func (e *timeoutError) Is(target error) bool {
	return target == os.ErrDeadlineExceeded || target == context.DeadlineExceeded
}

// PanicError is the error a connection is closed with when a handler or a
// pool job panicked while serving it.
type PanicError struct {
	// Value is what was passed to panic.
	Value any
	// Stack is the goroutine's stack at the panic.
	Stack []byte
}

func (e *PanicError) Error() string { return fmt.Sprintf("evloop: handler panicked: %v", e.Value) }

// Unwrap returns the panic value when it is an error, so errors.Is and
// errors.As see through the panic.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// aliasError is a sentinel of its own that errors.Is also matches against
// a standard one, so code written for either works.
type aliasError struct {
	msg   string
	alias error
}

func (e *aliasError) Error() string        { return e.msg }
func (e *aliasError) Is(target error) bool { return target == e.alias }

// dialError is the error a dial reports: a *net.OpError, as net.Dial
// returns, with Op "dial"; addr is the address tried last, nil when none
// was (a bad address, a failed look-up, a stopped engine).
func dialError(network string, addr net.Addr, err error) error {
	return &net.OpError{Op: "dial", Net: network, Addr: addr, Err: err}
}

// listenError is the error Run returns for an address it cannot listen on:
// a *net.OpError, as net.Listen returns, with Op "listen". network is ""
// when the address did not parse far enough to name one.
func listenError(network string, err error) error {
	return &net.OpError{Op: "listen", Net: network, Err: err}
}
