//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows || evloop_portable

package evloop

import "time"

// Action is what an event handler asks the engine to do next.
type Action int

const (
	// None: carry on.
	None Action = iota
	// Close: close this connection (after flushing what it has pending).
	Close
	// Shutdown: stop the whole engine, as Engine.Stop does.
	Shutdown
)

// EventHandler receives the events of an engine. Every method runs on an
// event-loop goroutine (OnBoot and OnShutdown on the goroutine that called
// Run), so a handler must not block: blocking work goes to Conn.Submit and
// replies with Conn.AsyncWrite.
//
// Callback order for one connection, all on its loop's goroutine:
//
//	OnOpen -> OnTraffic* -> OnClose   (exactly one OnClose per OnOpen)
//
// and for the engine: OnBoot -> ... -> OnClose for every open connection ->
// OnShutdown -> Run returns.
type EventHandler interface {
	// OnBoot runs once the listeners are bound, before the loops start.
	// Returning Shutdown stops the engine before it serves anything.
	OnBoot(eng Engine) Action
	// OnShutdown runs once, after every connection's OnClose.
	OnShutdown(eng Engine)
	// OnOpen runs when a connection is accepted, enrolled (Engine.Enroll,
	// EnrollFD) or, dialed by Engine.Dial or Loop.Dial, has connected (a
	// dial that fails gets neither OnOpen nor OnClose). It runs after the fd is watched, so whatever it writes
	// (out, or c.Write) is sent even if it is larger than the socket
	// buffer. out is copied or written before OnOpen's caller returns; the
	// handler may reuse it afterwards. A dialed connection's Context is
	// already the value given to Loop.Dial.
	OnOpen(c Conn) (out []byte, action Action)
	// OnClose runs once per connection with the reason it closed:
	//   - nil: an orderly close by either side (the peer's FIN, or with
	//     WithTLS its close_notify; Close or a Close action with everything
	//     flushed, Abort, or a stop whose drain flushed everything);
	//   - a *os.SyscallError: the socket failed (ECONNRESET, EPIPE, ...),
	//     while reading, writing or flushing before a close;
	//   - *PanicError: a handler, AsyncCallback or pool job of this
	//     connection panicked;
	//   - ErrOutboundFull: a Write on the loop would have passed
	//     WithOutboundLimit (the peer got a reset);
	//   - ErrInboundFull: the unread input reached WithInboundLimit and the
	//     handler consumed none of it;
	//   - ErrReadTimeout, ErrWriteTimeout: a deadline set with
	//     SetReadDeadline or SetWriteDeadline passed (both match
	//     os.ErrDeadlineExceeded; pending output is dropped with a reset);
	//   - ErrIdleTimeout: nothing was received or sent for the idle timeout
	//     (WithIdleTimeout, Conn.SetIdleTimeout);
	//   - ErrLingerTimeout: Close could not flush within WithLinger (reset);
	//   - ErrStopTimeout: the engine stopped before the output was flushed
	//     (reset);
	//   - with WithTLS, ErrTLSTruncated: the peer closed without
	//     close_notify; or crypto/tls's error for a record it refused (a
	//     bad record MAC, an unexpected message, a peer's alert), after
	//     the alert it sent in reply.
	// Check them with errors.Is and errors.As. Loop-only Conn methods still
	// work here (Write returns ErrClosed); the Conn must not be used after.
	OnClose(c Conn, err error) Action
	// OnTraffic runs when bytes arrived (or when Conn.Wake asked for it).
	// The bytes are read with c.Peek/Next/Read; whatever is left unread
	// stays buffered for the next OnTraffic.
	//
	// For a udp:// socket it runs once per datagram, with a datagram Conn:
	// c.Next(-1) is the whole datagram, RemoteAddr its sender, and each
	// Write a reply datagram to that sender. What is left unread is
	// dropped, and the returned Action is ignored except Shutdown. See
	// "Datagrams" in the package doc.
	OnTraffic(c Conn) Action
	// OnTick runs on loop 0's goroutine when the engine was started
	// WithTicker(true): first right after boot, then after each returned
	// delay. State touched only by OnTick and by connections of loop 0
	// needs no lock.
	OnTick() (delay time.Duration, action Action)
}

// BaseHandler implements every EventHandler method as a no-op. Embed it and
// override the events you need.
type BaseHandler struct{}

// OnBoot does nothing.
func (BaseHandler) OnBoot(Engine) Action { return None }

// OnShutdown does nothing.
func (BaseHandler) OnShutdown(Engine) {}

// OnOpen does nothing.
func (BaseHandler) OnOpen(Conn) ([]byte, Action) { return nil, None }

// OnClose does nothing.
func (BaseHandler) OnClose(Conn, error) Action { return None }

// OnTraffic does nothing: received bytes stay buffered, unread.
func (BaseHandler) OnTraffic(Conn) Action { return None }

// OnTick asks to be called again in a second.
func (BaseHandler) OnTick() (time.Duration, Action) { return time.Second, None }

// WritableHandler is implemented by handlers that want to know when a
// connection can take output again. OnWritable runs on the connection's
// loop after its pending output, having gone above the high watermark, has
// drained to the low one: a proxy pauses its source (Conn.PauseReading) when
// the sink's OutboundBuffered grows, and resumes it here (and runs with
// WithOutboundPause(false), see there; examples/proxy shows the pattern).
type WritableHandler interface {
	OnWritable(c Conn) Action
}

// ReadCloseHandler is implemented by handlers of engines started
// WithHalfClose(true). OnReadClosed runs on the connection's loop once the
// peer has shut down its writing side and every byte it sent has been shown
// to OnTraffic. The connection stays open for writing, from the loop or from
// the pool, until the handler closes it.
type ReadCloseHandler interface {
	OnReadClosed(c Conn) Action
}
