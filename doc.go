// Package evloop is a reactor-style networking engine: a few event loops,
// each one goroutine with its own epoll instance, serve tens of thousands of
// TCP or Unix stream connections without a goroutine per connection.
//
// evloop runs on Linux only for now: on any other system the package does
// not compile, and the build says so.
//
// # A server in twenty lines
//
//	type echo struct{ evloop.BaseHandler }
//
//	func (echo) OnTraffic(c evloop.Conn) evloop.Action {
//		b, _ := c.Next(-1) // everything received, without a copy
//		c.Write(b)         // to the socket now; the rest when it drains
//		return evloop.None
//	}
//
//	func main() {
//		log.Fatal(evloop.Run(echo{}, "tcp://127.0.0.1:9000", evloop.WithLoops(2)))
//	}
//
// # The model
//
// Run binds the listeners, calls OnBoot, and starts one loop per core
// (WithLoops). Connections are accepted either by one acceptor goroutine that
// hands them to the loops by a load-balancing policy (the default), or by
// every loop on its own SO_REUSEPORT listener (WithReusePort). A connection
// lives on one loop for its whole life, and all its callbacks run there, one
// at a time: handler state reached only from one connection's callbacks needs
// no lock.
//
// A loop iteration waits for readiness, reads once into the loop's read
// buffer for each readable connection and calls OnTraffic, which sees those
// bytes without a copy (Peek, Next, Read, Discard). What the handler leaves
// unread is copied into a per-connection buffer that exists only while it
// holds bytes. Writes go straight to the socket; what the kernel does not
// take waits, in order, in a per-connection output buffer that is sent as the
// socket drains. Then the loop runs the tasks other goroutines queued for it.
//
// # Goroutines
//
// A handler must never block its loop. Blocking work goes to the engine's
// goroutine pool with Conn.Submit, and its reply comes back through
// Conn.AsyncWrite, which queues the write on the connection's loop:
//
//	func (h *handler) OnTraffic(c evloop.Conn) evloop.Action {
//		req, _ := c.Next(-1)
//		req = bytes.Clone(req) // the view dies when OnTraffic returns
//		c.Submit(func() {
//			c.AsyncWrite(h.lookup(req), nil) // any goroutine
//		})
//		return evloop.None
//	}
//
// Which Conn methods may be called where:
//
//	any goroutine                        only inside the connection's callbacks
//	-------------                        ---------------------------------------
//	AsyncWrite, AsyncWritev, Wake        Read, Peek, Next, Discard, InboundBuffered
//	Close, CloseWithCallback, CloseWrite Write, Writev, Flush, OutboundBuffered
//	Abort, PauseReading, ResumeReading   Context, SetContext
//	Submit, Execute
//	LocalAddr, RemoteAddr, Engine.*
//
// A goroutine may outlive its connection: every call from outside the loop
// on a closed connection fails with ErrClosed (or runs its callback with
// ErrClosed), and never reaches a newer connection that reuses the fd.
//
// Build with -tags evloop_debug to have every method of the second column
// panic, naming itself and what to call instead, when it is called from
// any goroutine other than the connection's loop (a pool job, say). Calls
// on another connection of the same loop, from inside a callback, are
// allowed. Without the tag the check compiles to nothing.
//
// # Callback order
//
//	OnBoot
//	  OnOpen -> OnTraffic* -> OnClose       once per connection, on its loop
//	  OnTick                                on loop 0, WithTicker(true)
//	Stop: stop accepting -> drain -> OnClose for each open connection
//	OnShutdown -> Run returns
//
// # Buffer lifetimes
//
// Slices returned by Peek and Next are valid until the callback returns or
// the next Read, Peek, Next or Discard on that connection. Buffers passed to
// Write, Writev, AsyncWrite and AsyncWritev may be reused as soon as the call
// returns. The out slice returned by OnOpen may be reused after OnOpen.
//
// # Flow control
//
// Memory per connection is bounded the way TCP bounds it for std net: a
// connection whose pending output passes the high watermark stops reading
// (its EPOLLIN interest is dropped) until the output drains to the low one,
// so a peer that sends without reading is slowed by its own full window;
// output beyond a hard cap fails with ErrOutboundFull and closes that
// connection; unread input at the inbound limit pauses reading too. See
// WithOutboundWatermarks, WithOutboundLimit and WithInboundLimit; handlers
// that relay between connections use PauseReading and WritableHandler.
//
// Close flushes pending output before closing, for at most WithLinger;
// Abort resets at once. WithHalfClose keeps a connection writable after its
// peer's FIN (ReadCloseHandler); CloseWrite sends ours.
//
// # Failures
//
// A peer that resets its connection closes that connection only (OnClose
// gets the error). A panic in a handler or pool job is recovered, logged
// with its stack and closes the connection concerned, unless
// WithPanicPropagation. Running out of file descriptors pauses accepting
// with a back-off; the engine keeps serving the connections it has.
package evloop
