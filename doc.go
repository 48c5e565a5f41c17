// Package evloop is a reactor-style networking engine: a few event loops,
// each one goroutine with its own epoll (Linux) or kqueue (macOS, the BSDs)
// instance, serve tens of thousands of TCP or Unix stream connections, and
// UDP datagrams in batches, without a goroutine per connection.
//
// evloop runs on Linux, macOS, FreeBSD, NetBSD, OpenBSD and DragonFly (see
// Systems); on any other system the package does not compile, and the
// build says so.
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
//		// Serve until SIGINT or SIGTERM, then stop gracefully: stop
//		// accepting, flush, close every connection, return nil.
//		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
//		defer stop()
//		log.Fatal(evloop.RunContext(ctx, echo{}, "tcp://127.0.0.1:9000", evloop.WithLoops(2)))
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
// goroutine pool, and its reply comes back through Conn.AsyncWrite, which
// queues the write on the connection's loop. Conn.Execute runs one
// connection's jobs one at a time, in call order, so replies to pipelined
// requests leave in request order:
//
//	func (h *handler) OnTraffic(c evloop.Conn) evloop.Action {
//		req, _ := c.Next(-1)
//		req = bytes.Clone(req) // the view dies when OnTraffic returns
//		if err := c.Execute(func() {
//			c.AsyncWrite(h.lookup(req), nil) // any goroutine
//		}); err != nil {
//			return evloop.Close // the pool is full (see WithExecutePause)
//		}
//		return evloop.None
//	}
//
// Conn.Submit runs jobs in parallel, in no particular order: use it for
// work whose results need no order (a push, a log write), Execute for
// request/response protocols. Engine.Submit is Submit without a connection.
//
// Which Conn methods may be called where:
//
//	any goroutine                        only inside the connection's callbacks
//	-------------                        ---------------------------------------
//	AsyncWrite, AsyncWritev, Wake        Read, Peek, Next, Discard, InboundBuffered
//	Close, CloseWithCallback, CloseWrite Write, Writev, Flush, OutboundBuffered
//	Abort, PauseReading, ResumeReading   Context, SetContext, ConnectionState
//	Submit, Execute
//	SetDeadline, SetReadDeadline
//	SetWriteDeadline, SetIdleTimeout
//	AfterFunc, Loop, LocalAddr, RemoteAddr
//	Engine.*, Loop.*, Timer.*
//
// Engine.Dial, Enroll and EnrollFD are the exception among Engine's
// methods: they wait for a loop, so inside a loop's callbacks (and in
// OnBoot and OnShutdown) they return ErrOnLoop at once; a handler dials
// with Loop.Dial, which never blocks.
//
// "Only inside the connection's callbacks" means inside any callback running
// on the loop that owns it (Conn.Loop), also one for another connection of
// that loop: a chat server broadcasts with Write to the connections of its
// own loop and with AsyncWrite to the others.
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
//	  timers (AfterFunc, Every)             on their loop; a Conn's never after its OnClose
//	  Loop.Dial: OnOpen -> DialCallback(c, nil) -> OnTraffic* -> OnClose,
//	             or only DialCallback(nil, err) when it fails
//	Stop: stop accepting -> drain -> OnClose for each open connection,
//	      ErrEngineStopped for each dial in progress
//	OnShutdown -> Run returns
//
// # Clients: dialing and enrolling
//
// An engine makes connections as well as accepting them, and serves them
// the same way: OnOpen, OnTraffic, flow control, deadlines, half-close,
// OnClose. Engine.Dial connects from any goroutine but the engine's own and
// returns once OnOpen has run. Loop.Dial connects from a handler without
// blocking, onto that loop, and reports on the loop through a
// DialCallback; that is how a proxy gives each client a backend
// connection it can use with plain loop-only calls (examples/proxy):
//
//	func (p *proxy) OnOpen(c evloop.Conn) ([]byte, evloop.Action) {
//		if _, ok := c.Context().(*backend); ok {
//			return nil, evloop.None // the backend itself: Dial set its Context
//		}
//		b := &backend{client: c}
//		c.Loop().Dial("tcp", "10.0.0.2:9000", 5*time.Second, b, func(bc evloop.Conn, err error) {
//			if err != nil {
//				c.Close() // refused, timed out: no OnOpen or OnClose for bc
//				return
//			}
//			bc.Write(greeting) // on c's loop: both are loop-local
//		})
//		return nil, evloop.None
//	}
//
// A dial is non-blocking throughout: connect(2) returns at once, the loop
// waits for the socket to become writable, and its timeout is one of the
// loop's timers. IP addresses are dialed directly; a host name is resolved
// off the loop. A dial that fails reports a *net.OpError (Op "dial") once,
// and runs neither OnOpen nor OnClose. Engine.Enroll and EnrollFD hand
// the engine a connection made elsewhere. An engine run with no address
// (RunAddrs(handler, nil)) serves only the connections it dials or is
// given: a client. A relay between connections (a proxy) runs with
// WithOutboundPause(false) and holds the connection that feeds a full one.
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
// # Time
//
// Each loop keeps its timers in one heap and sleeps in epoll_wait until the
// earliest is due: no goroutine and no runtime timer per connection.
//
//   - Deadlines, std-style: Conn.SetReadDeadline closes a connection whose
//     deadline passes without being moved (ErrReadTimeout); a handler
//     keeps an active connection open by moving it on each message, which
//     costs one atomic store. SetWriteDeadline drops output still pending
//     when it passes (ErrWriteTimeout, with a reset).
//   - WithIdleTimeout (or Conn.SetIdleTimeout) closes a connection that
//     neither received nor sent for a while (ErrIdleTimeout), at the cost
//     of one store per read or write.
//   - Conn.AfterFunc, Loop.AfterFunc and Engine.AfterFunc run a function
//     on a loop later; Loop.Every and Engine.Every periodically. Their
//     Timer's Stop and Reset work from any goroutine with time.Timer's
//     contract, and a connection's timers die with it.
//
// A handler keeps a read deadline ahead of an active connection by moving
// it on each message:
//
//	func (h *server) OnTraffic(c evloop.Conn) evloop.Action {
//		c.SetReadDeadline(time.Now().Add(30 * time.Second)) // or close
//		...
//	}
//
// # TLS
//
// WithTLS(cfg) serves every stream listener of the engine with the
// standard library's crypto/tls: the same *tls.Config, certificates, ALPN,
// session tickets and security fixes as a std net server, and no
// goroutine per connection once it is established.
//
//	cert, _ := tls.LoadX509KeyPair("cert.pem", "key.pem")
//	evloop.Run(echo{}, "tcp://:8443", evloop.WithTLS(&tls.Config{
//		Certificates: []tls.Certificate{cert},
//		NextProtos:   []string{"http/1.1"},
//	}))
//
// Handlers see plaintext only, through the usual Conn methods (Peek, Next,
// Write, AsyncWrite, Execute, deadlines), and OnOpen runs once the
// handshake has succeeded: Conn.ConnectionState then reports the version,
// ALPN protocol, server name and peer certificates. A handshake runs on a
// goroutine of its own, started by the connection's first bytes (an idle
// connect costs none), bounded by WithTLSHandshakeLimit and by
// WithTLSHandshakeTimeout from accept (10 s), and gone when it ends. One
// that fails closes the socket, is logged at debug level and counted
// (Stats.TLSHandshakeFailures); OnOpen and OnClose never run for it.
// After the handshake the loop decrypts what it reads and encrypts what
// the handler writes, on the loop: crypto/tls allocates a little per
// record, evloop nothing more. Close sends close_notify after the pending
// output; a peer that closes without one (a FIN an attacker could have
// sent) makes OnClose get ErrTLSTruncated.
//
// Engine.DialTLS and Loop.DialTLS dial as a TLS client, with tls.Client's
// semantics: ServerName defaults to the host dialed, the server's
// certificate is verified, ALPN and a ClientSessionCache work as under
// std net (the cache's Put for a TLS 1.3 ticket runs on the loop, so it
// must not block). The handshake runs as a server's does, bounded by the
// dial's timeout or WithTLSHandshakeTimeout, and OnOpen, then the dial's
// result, come once it has succeeded; a failed handshake is the dial's
// error (errors.As reaches crypto/tls's or x509's), and no handler runs:
//
//	c, err := eng.DialTLS(ctx, "tcp", "example.com:443", &tls.Config{
//		NextProtos:         []string{"http/1.1"},
//		ClientSessionCache: tls.NewLRUClientSessionCache(0),
//	})
//
// # Datagrams
//
// A "udp://host:port" address (also udp4, udp6) in Run or RunAddrs, beside
// stream addresses or alone, gets one SO_REUSEPORT socket per loop on the
// same port: the kernel spreads datagrams over the sockets by a hash of the
// sender's address, so one peer's datagrams always reach the same loop, in
// order, and many peers use every loop. A readable socket gets one
// recvmmsg(2) of up to WithDatagramBatch datagrams (32) into its loop's
// slots of WithDatagramSlot bytes (64 KiB); OnTraffic runs once per
// datagram, and the replies written meanwhile leave with one sendmmsg(2)
// at the end of the batch: two syscalls per batch instead of two per
// datagram. A datagram larger than its slot is dropped, never delivered
// cut, and counted (Stats.DatagramsTruncated).
//
// There are no connections: no OnOpen or OnClose, no deadlines or idle
// timeout, nothing to close (Close, CloseWrite, Abort, CloseWithCallback,
// Wake, Execute and the deadline setters return ErrNotStream), and
// CountConnections does not count datagram peers. The Conn OnTraffic gets
// is a view the socket reuses for every datagram, valid only inside the
// callback: Write and AsyncWrite on it after the callback returns
// ErrClosed. A Write that cannot become a datagram sends nothing and
// returns an error, counted in Stats.DatagramsDropped: ErrOutboundFull
// when the socket's queue is at WithOutboundLimit, and an error matching
// EMSGSIZE above 65,527 bytes. To reply later, take DatagramPeerOf(c) inside the callback:
// that small value names the peer and its socket, and its AsyncWrite
// sends a datagram to the peer from any goroutine. Context and SetContext
// hold a value for the current datagram only. PauseReading and
// ResumeReading pause the whole socket (from any goroutine, also after the
// callback): datagrams then wait in the kernel's receive buffer, and are
// lost when it overflows, as UDP is. Replies the kernel cannot take yet
// (EAGAIN) wait in the socket's queue for EPOLLOUT, up to
// WithOutboundLimit bytes; beyond it, and when the engine stops with
// replies still queued, they are dropped and counted
// (Stats.DatagramsDropped). Stop stops reading the sockets first and lets
// queued replies go out during its drain.
//
// # Operating it
//
// Engine.Stats returns the engine's counters and every loop's (LoopStats:
// connections, bytes and calls in and out, blocked writes, pending output,
// queue depth, iterations, a histogram of busy time, stalls, panics); it
// marshals to JSON and publishes with expvar (examples/http -stats-addr).
// WithWatchdog reports a loop stuck in one callback for longer than a
// threshold, with the loop goroutine's stack, and WithWatchdogKill can
// crash the process instead.
//
// A restart need not refuse or reset a connection: Engine.Listeners
// duplicates the listening sockets for a successor process
// (exec.Cmd.ExtraFiles), which serves them with WithListeners; the old
// engine's Drain then stops accepting without touching the queues it
// shares with the successor, and waits for its connections to be closed by
// their peers, before Stop closes what is left. A handed-over Unix socket
// file is never removed by the old process. SystemdListeners takes
// systemd's socket activation the same way; examples/echo -graceful
// restarts itself on SIGHUP.
//
// # Memory
//
// An idle connection costs a 128-byte struct and no buffer: its inbound and
// outbound buffers exist only while they hold bytes. A connection with a
// deadline, an idle timeout or a timer adds 96 bytes for all of them (each
// Timer is 112 bytes more); a dialed or enrolled one keeps its own
// local and peer addresses out of line. Each loop also keeps a
// table indexed by fd number, one 8-byte slot per number up to the highest
// fd it has served, and fd numbers are shared by the whole process: count
// loops x highest fd x 8 bytes (8 loops at 100,000 descriptors: 6.4 MB).
// The table grows on demand and is not shrunk while the engine runs.
//
// # Systems
//
// The engine behaves the same everywhere; what a system's kernel cannot
// do is refused by Run with an error, never dropped silently:
//
//	system        poller  unavailable there, and what Run returns
//	Linux         epoll   nothing
//	macOS         kqueue  WithReusePort with more than one loop (a)
//	                      abstract unix sockets, "unix://@name" (b)
//	FreeBSD       kqueue  abstract unix sockets (b)
//	NetBSD        kqueue  WithReusePort with more than one loop (a)
//	                      abstract unix sockets (b)
//	DragonFly     kqueue  abstract unix sockets (b)
//	OpenBSD       kqueue  WithTCPKeepAlive with d > 0 (a): no per-socket
//	                      keepalive timing, only system-wide sysctls
//	                      WithReusePort with more than one loop (a)
//	                      abstract unix sockets (b)
//
//	Windows       portable  WithBacklog with n > 0 (a)
//	                      WithReusePort (c)
//	                      WithListeners, Engine.Listeners, Enroll,
//	                      EnrollFD: taking over or handing over a
//	                      system socket (c)
//	                      abstract unix sockets (b)
//	any system,   portable  WithBacklog with n > 0 (a)
//	-tags evloop_portable   (on unix systems everything else works)
//
//	(a) an error wrapping both ErrInvalidOption and errors.ErrUnsupported
//	(b) a *net.OpError (Op "listen") saying abstract unix sockets exist
//	    only on Linux
//	(c) an error wrapping errors.ErrUnsupported (from Run for the
//	    options, from the method for the methods)
//
// The portable backend serves the same engine over package net: the
// loops, callbacks, buffers, flow control, timers and deadlines are the
// ones described here, but package net offers no readiness, so each
// connection holds one goroutine blocked in its Read (about 4.5 KiB per
// idle connection instead of a few hundred bytes), bytes are copied once
// more on their way in and out, and a datagram address is served by one
// socket on one loop where sockets cannot share an address (Windows).
// SystemdListeners finds no sockets on Windows. On Linux the build tag
// evloop_portable selects it, so the whole test suite runs against it.
//
// WithReusePort is refused where the kernel lets the loops' listeners
// share the port but does not balance connections between them, which
// would leave every loop but one idle (FreeBSD balances with
// SO_REUSEPORT_LB, which evloop sets there). A udp:// address has the same
// limit but nothing to fall back on: on macOS, NetBSD and OpenBSD each
// datagram reaches one of the loops' sockets, chosen by the kernel, not
// spread by peer. Off Linux, datagram batches are served with one
// recvmsg(2) or sendmsg(2) per datagram (there is no recvmmsg or sendmmsg),
// with the same semantics and no allocation; the default listen backlog
// is the system's limit (a sysctl; 128 on NetBSD, which has none).
// kqueue watches each direction with its own filter, so a connection whose
// reading is paused and that has nothing to flush hears nothing of its
// peer there: a reset is noticed when reading resumes, a write fails, or a
// deadline or idle timeout fires, where epoll reports it at once.
//
// # Failures
//
// A peer that resets its connection closes that connection only (OnClose
// gets the error; EventHandler.OnClose lists every error it can get). A panic in a handler or pool job is recovered, logged
// with its stack and closes the connection concerned, unless
// WithPanicPropagation. Running out of file descriptors pauses accepting
// with a back-off; the engine keeps serving the connections it has.
package evloop
