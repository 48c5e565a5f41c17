//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows || evloop_portable

package evloop

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"runtime"
	"time"

	"github.com/panjf2000/ants/v2"

	"github.com/evloop/evloop/internal/socket"
)

// LoadBalancing chooses the loop that serves a newly accepted connection in
// main-reactor mode.
type LoadBalancing int

const (
	// RoundRobin hands connections to the loops in turn.
	RoundRobin LoadBalancing = iota
	// LeastConnections picks the loop serving the fewest connections.
	LeastConnections
	// SourceAddrHash picks a loop by hashing the peer's IP address, so one
	// client's connections share a loop (and its state).
	SourceAddrHash
)

func (lb LoadBalancing) String() string {
	switch lb {
	case RoundRobin:
		return "round-robin"
	case LeastConnections:
		return "least-connections"
	case SourceAddrHash:
		return "source-addr-hash"
	}
	return fmt.Sprintf("LoadBalancing(%d)", int(lb))
}

// Option configures an engine. Options are applied in order and validated
// once when Run starts.
type Option func(*options)

type options struct {
	loops          int
	lockOSThread   bool
	reusePort      bool
	reuseAddr      bool
	lb             LoadBalancing
	readBufferSize int
	noDelay        bool
	keepAlive      time.Duration
	recvBuffer     int
	sendBuffer     int
	backlog        int
	ticker         bool
	logger         *slog.Logger
	propagatePanic bool
	poolSize       int
	pool           *ants.Pool
	outHigh        int
	outLow         int
	outLimit       int
	inLimit        int
	halfClose      bool
	outboundPause  bool
	linger         time.Duration
	stopTimeout    time.Duration
	execPause      bool
	idleTimeout    time.Duration
	dgramSlot      int
	dgramBatch     int
	watchdog       time.Duration
	watchdogKill   time.Duration
	callbackTiming bool
	listeners      []any // *os.File or net.Listener (WithListeners, WithNetListeners)
	tls            *tls.Config
	tlsTimeout     time.Duration
	tlsLimit       int
}

// Defaults, documented where they are declared.
const (
	// DefaultReadBufferSize is each loop's read buffer: one read per
	// readiness event takes at most this many bytes.
	DefaultReadBufferSize = 64 << 10
	// DefaultPoolSize is the number of goroutines the engine's pool may
	// run at once when neither WithPoolSize nor WithPool is given.
	DefaultPoolSize = 10000
	// DefaultOutboundHigh and DefaultOutboundLow are the watermarks of a
	// connection's pending output: above the high one the connection stops
	// reading, below the low one it reads again.
	DefaultOutboundHigh = 1 << 20
	DefaultOutboundLow  = 256 << 10
	// DefaultOutboundLimit is the hard cap on a connection's pending output.
	DefaultOutboundLimit = 16 << 20
	// DefaultInboundLimit caps the received bytes a handler leaves unread.
	DefaultInboundLimit = 4 << 20
	// DefaultLinger bounds how long a closing connection may take to flush.
	DefaultLinger = 30 * time.Second
	// DefaultStopTimeout bounds the drain of a stop nobody gave a context
	// for: a Shutdown action, or the end of RunContext's ctx.
	DefaultStopTimeout = 5 * time.Second
)

func defaultOptions() options {
	return options{
		loops:          runtime.GOMAXPROCS(0),
		reuseAddr:      true,
		readBufferSize: DefaultReadBufferSize,
		noDelay:        true,
		poolSize:       DefaultPoolSize,
		outHigh:        DefaultOutboundHigh,
		outLow:         DefaultOutboundLow,
		outLimit:       DefaultOutboundLimit,
		outboundPause:  true,
		inLimit:        DefaultInboundLimit,
		linger:         DefaultLinger,
		stopTimeout:    DefaultStopTimeout,
		dgramSlot:      DefaultDatagramSlot,
		dgramBatch:     DefaultDatagramBatch,
		tlsTimeout:     DefaultTLSHandshakeTimeout,
		tlsLimit:       DefaultTLSHandshakeLimit,
	}
}

// maxOutboundLimit keeps the outbound accounting of a connection, which
// off-loop producers read, in 32 bits.
const maxOutboundLimit = 1 << 30

// normalize validates the options once, at Run.
func (o *options) normalize() error {
	if o.loops == 0 {
		o.loops = runtime.GOMAXPROCS(0)
	}
	switch {
	case o.loops < 0:
		return fmt.Errorf("%w: loops must not be negative, got %d", ErrInvalidOption, o.loops)
	case o.readBufferSize < 512:
		return fmt.Errorf("%w: read buffer must be at least 512 bytes, got %d", ErrInvalidOption, o.readBufferSize)
	case o.lb < RoundRobin || o.lb > SourceAddrHash:
		return fmt.Errorf("%w: unknown load balancing %v", ErrInvalidOption, o.lb)
	case o.keepAlive != 0 && (o.keepAlive < time.Second || o.keepAlive > maxKeepAlive):
		return fmt.Errorf("%w: keepalive must be 0 (off) or between 1s and %v, got %v",
			ErrInvalidOption, maxKeepAlive, o.keepAlive)
	case o.recvBuffer < 0 || o.sendBuffer < 0 || o.backlog < 0:
		return fmt.Errorf("%w: negative socket option", ErrInvalidOption)
	case o.pool == nil && o.poolSize <= 0:
		return fmt.Errorf("%w: pool size must be positive, got %d", ErrInvalidOption, o.poolSize)
	case o.outLow < 0 || o.outHigh <= o.outLow || o.outLimit < o.outHigh:
		return fmt.Errorf("%w: outbound watermarks need 0 <= low < high <= limit, got %d/%d/%d",
			ErrInvalidOption, o.outLow, o.outHigh, o.outLimit)
	case o.inLimit < 1:
		return fmt.Errorf("%w: inbound limit must be positive, got %d", ErrInvalidOption, o.inLimit)
	case o.linger <= 0:
		return fmt.Errorf("%w: linger must be positive, got %v", ErrInvalidOption, o.linger)
	case o.idleTimeout < 0:
		return fmt.Errorf("%w: idle timeout must not be negative, got %v", ErrInvalidOption, o.idleTimeout)
	case o.stopTimeout <= 0:
		return fmt.Errorf("%w: stop timeout must be positive, got %v", ErrInvalidOption, o.stopTimeout)
	case o.dgramSlot < minDatagramSlot || o.dgramSlot > DefaultDatagramSlot:
		return fmt.Errorf("%w: datagram slot must be between %d and %d bytes, got %d",
			ErrInvalidOption, minDatagramSlot, DefaultDatagramSlot, o.dgramSlot)
	case o.dgramBatch < 1 || o.dgramBatch > maxDatagramBatch:
		return fmt.Errorf("%w: datagram batch must be between 1 and %d, got %d", ErrInvalidOption, maxDatagramBatch, o.dgramBatch)
	case o.watchdog < 0 || o.watchdog > 0 && o.watchdog < minWatchdog:
		return fmt.Errorf("%w: watchdog threshold must be 0 (off) or at least %v, got %v", ErrInvalidOption, minWatchdog, o.watchdog)
	case o.watchdogKill < 0 || o.watchdogKill > 0 && (o.watchdog == 0 || o.watchdogKill < o.watchdog):
		return fmt.Errorf("%w: watchdog kill time must be 0 (off) or at least the watchdog threshold (%v), got %v",
			ErrInvalidOption, o.watchdog, o.watchdogKill)
	case o.outLimit > maxOutboundLimit:
		return fmt.Errorf("%w: outbound limit must be at most %d, got %d", ErrInvalidOption, maxOutboundLimit, o.outLimit)
	}
	if err := o.normalizeTLS(); err != nil {
		return err
	}
	if err := o.systemSupport(); err != nil {
		return err
	}
	if o.logger == nil {
		o.logger = slog.Default()
	}
	return nil
}

// systemSupport fails Run for an option this system cannot honour instead
// of dropping it silently; which systems lack what is internal/socket's
// answer, so the engine itself has one behaviour everywhere.
func (o *options) systemSupport() error {
	if o.keepAlive > 0 {
		if err := socket.KeepAliveTuning(); err != nil {
			return fmt.Errorf("%w: WithTCPKeepAlive: %w", ErrInvalidOption, err)
		}
	}
	if o.backlog > 0 {
		if err := socket.BacklogSetting(); err != nil {
			return fmt.Errorf("%w: WithBacklog: %w", ErrInvalidOption, err)
		}
	}
	if o.reusePort && o.loops > 1 {
		if err := socket.ReusePortBalancing(); err != nil {
			return fmt.Errorf("%w: WithReusePort: %w", ErrInvalidOption, err)
		}
	}
	return nil
}

// WithLoops sets the number of event loops (default, and with n == 0:
// runtime.GOMAXPROCS(0); a negative n makes Run fail with
// ErrInvalidOption). More loops than Ps do not add parallelism: they only
// delay the goroutines that share those Ps.
func WithLoops(n int) Option { return func(o *options) { o.loops = n } }

// WithLockOSThread pins each loop goroutine to its own OS thread, for
// handlers that use thread-local state (cgo libraries, thread priorities).
// Default off.
func WithLockOSThread(on bool) Option { return func(o *options) { o.lockOSThread = on } }

// WithReusePort gives every loop its own SO_REUSEPORT listener per TCP
// address, so the kernel balances connections and no acceptor goroutine is
// needed. Default off: one acceptor hands connections to the loops by the
// WithLoadBalancing policy. Unix addresses always use the acceptor. Where
// the kernel does not balance between such listeners (macOS, NetBSD,
// OpenBSD) Run fails, with more than one loop, with an error wrapping
// ErrInvalidOption and errors.ErrUnsupported rather than leave every loop
// but one idle.
func WithReusePort(on bool) Option { return func(o *options) { o.reusePort = on } }

// WithReuseAddr sets SO_REUSEADDR on listeners (default on), so a restarted
// server can bind while old connections sit in TIME_WAIT.
func WithReuseAddr(on bool) Option { return func(o *options) { o.reuseAddr = on } }

// WithLoadBalancing selects how the acceptor spreads connections over the
// loops (default RoundRobin).
func WithLoadBalancing(lb LoadBalancing) Option { return func(o *options) { o.lb = lb } }

// WithReadBufferSize sets each loop's read buffer (default
// DefaultReadBufferSize, minimum 512 bytes).
func WithReadBufferSize(n int) Option { return func(o *options) { o.readBufferSize = n } }

// WithTCPNoDelay sets TCP_NODELAY on accepted TCP connections (default on:
// request/response protocols want their small writes sent now); off leaves
// the kernel's default, Nagle's algorithm. Unix-socket connections are left
// alone.
func WithTCPNoDelay(on bool) Option { return func(o *options) { o.noDelay = on } }

// WithTCPKeepAlive's bounds and probe count: the kernel takes TCP_KEEPIDLE
// and TCP_KEEPINTVL in whole seconds, at most 32767.
const (
	maxKeepAlive    = 32767 * time.Second
	keepAliveProbes = 9
)

// WithTCPKeepAlive enables TCP keepalive on accepted TCP connections
// (default 0: off). The one value d is both the idle time before the first
// probe (TCP_KEEPIDLE) and the interval between probes (TCP_KEEPINTVL); a
// connection is dropped after 9 unanswered probes (TCP_KEEPCNT), so a dead
// peer is noticed about 10*d after its last packet. The kernel counts in
// whole seconds: d is rounded up to a whole second, and Run fails with
// ErrInvalidOption unless d is 0 or between 1s and 32767s (about 9 hours).
// On OpenBSD, which has no per-socket keepalive timing, any d > 0 makes Run
// fail with an error wrapping ErrInvalidOption and errors.ErrUnsupported.
// Unix-socket connections are left alone.
func WithTCPKeepAlive(d time.Duration) Option { return func(o *options) { o.keepAlive = d } }

// WithSocketRecvBuffer sets SO_RCVBUF on accepted connections and on udp://
// sockets (default 0: the kernel's autotuning, or for datagrams its
// net.core.rmem_default). A UDP server that must ride out bursts wants a
// few MiB: datagrams that arrive while the receive buffer is full are lost.
// The kernel caps the value at net.core.rmem_max.
func WithSocketRecvBuffer(n int) Option { return func(o *options) { o.recvBuffer = n } }

// WithSocketSendBuffer sets SO_SNDBUF on accepted connections and on udp://
// sockets (default 0: the kernel's autotuning or default).
func WithSocketSendBuffer(n int) Option { return func(o *options) { o.sendBuffer = n } }

// WithBacklog sets the listen backlog (default 0: the system's somaxconn).
// The portable backend cannot set it: there Run refuses n > 0 with an
// error wrapping ErrInvalidOption and errors.ErrUnsupported.
func WithBacklog(n int) Option { return func(o *options) { o.backlog = n } }

// WithTicker enables EventHandler.OnTick on loop 0 (default off).
func WithTicker(on bool) Option { return func(o *options) { o.ticker = on } }

// WithLogger sets where the engine logs recovered panics and accept
// back-offs (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithPanicPropagation makes a panic in a handler or pool job crash the
// process, as an unrecovered panic would (default off: the panic is logged
// with its stack and only the connection concerned is closed).
func WithPanicPropagation(on bool) Option { return func(o *options) { o.propagatePanic = on } }

// WithPoolSize sets how many goroutines the engine's own pool runs at once
// for Conn.Submit and Engine.Submit (default DefaultPoolSize). A submit when
// all are busy fails with ErrPoolOverload instead of blocking the loop.
func WithPoolSize(n int) Option { return func(o *options) { o.poolSize = n } }

// WithPool makes the engine submit blocking work to p instead of a pool of
// its own. The engine does not release p; p's own options (blocking or not)
// decide what a submit does when it is full.
func WithPool(p *ants.Pool) Option { return func(o *options) { o.pool = p } }

// WithOutboundWatermarks sets when a connection with pending output stops
// and resumes reading (defaults DefaultOutboundHigh, DefaultOutboundLow):
// above high bytes pending, its reads pause (unless WithOutboundPause is
// off), so a peer that sends but does not read is held back by TCP flow
// control instead of growing memory; at or below low they resume, and a
// handler that implements WritableHandler is told. Requires
// 0 <= low < high.
func WithOutboundWatermarks(high, low int) Option {
	return func(o *options) { o.outHigh, o.outLow = high, low }
}

// WithOutboundPause sets whether a connection stops reading while its
// pending output is above the high watermark (default on): right for a
// server that answers what it reads, as a peer that sends without reading
// is then held back by TCP flow control. Turn it off in a handler that
// relays between connections (a proxy), which pauses the connection that
// feeds the full one instead (Conn.PauseReading) and resumes it in
// OnWritable, still delivered when the output drains to the low watermark.
// With it on, a relay can deadlock: a backend blocked writing its replies
// to the proxy reads no more requests, so the proxy's output to it never
// drains, while the proxy, above the high watermark, reads no replies.
func WithOutboundPause(on bool) Option { return func(o *options) { o.outboundPause = on } }

// WithOutboundLimit sets the hard cap on a connection's pending output
// (default DefaultOutboundLimit; at least the high watermark, at most 1
// GiB). On the loop, a Write for which pending plus new bytes would exceed
// it (a single write larger than the cap included) fails with
// ErrOutboundFull and writes nothing, and the connection is closed with
// that error and a reset: a peer this far behind is not reading, and
// holding more for it would let one client exhaust memory. AsyncWrite and
// AsyncWritev count the bytes they queue against the same cap, together
// with the pending output: one that would pass it returns ErrOutboundFull
// at once, queues nothing and leaves the connection open, so producers on
// other goroutines feel the back-pressure.
func WithOutboundLimit(n int) Option { return func(o *options) { o.outLimit = n } }

// WithInboundLimit caps the received bytes a handler may leave unread on a
// connection (default DefaultInboundLimit). At the cap the connection stops
// reading until the handler consumes some: make it larger than the largest
// message the handler waits for. If OnTraffic (or a Wake) returns with the
// cap reached and nothing consumed, no progress is possible (a frame larger
// than the cap): the connection is closed with ErrInboundFull, and counted
// in Stats.InboundFull.
func WithInboundLimit(n int) Option { return func(o *options) { o.inLimit = n } }

// WithHalfClose keeps a connection open for writing after its peer shuts
// down its writing side (default off). The handler learns of it through
// ReadCloseHandler and closes the connection when it is done.
//
// Off, the peer's FIN closes the connection as soon as the output already
// written is flushed: right for handlers that answer on the loop, whose
// replies are written before the FIN is even read. A handler that answers
// from the pool (Execute, Submit) should turn it on: otherwise replies its
// jobs produce after a client's FIN (nc -N, a here-document piped into a
// socket, any client that sends its last request and shuts down its side)
// find the connection closed and are lost with ErrClosed, where std net
// would still deliver them. examples/echo -blocking shows the pattern.
func WithHalfClose(on bool) Option { return func(o *options) { o.halfClose = on } }

// WithStopTimeout bounds the drain of a stop that comes with no context of
// its own (default DefaultStopTimeout): the end of RunContext's ctx, or a
// Shutdown returned by a handler. Engine.Stop's ctx bounds its own drain.
// When the drain runs out of time, connections with output still pending
// are reset and closed with ErrStopTimeout.
func WithStopTimeout(d time.Duration) Option { return func(o *options) { o.stopTimeout = d } }

// WithIdleTimeout closes a connection that has neither received nor sent a
// byte for d, with ErrIdleTimeout (default 0: never). It costs no syscall
// and no heap operation per message: each read or write records the loop's
// clock, and the connection's timer, when it fires, re-arms at the last
// activity plus d. Conn.SetIdleTimeout overrides it per connection.
func WithIdleTimeout(d time.Duration) Option { return func(o *options) { o.idleTimeout = d } }

// WithExecutePause changes what Conn.Execute does when the pool is full
// (default off: it fails with ErrPoolOverload and the caller decides). On,
// Execute queues the job anyway and the connection stops reading, so a
// client that sends faster than the pool serves is slowed by TCP flow
// control instead of being refused; as soon as a goroutine of the pool is
// free (one of the engine's jobs returns, or a retry finds room) it runs
// the connection's queued jobs, in order, and the connection reads again.
// Jobs still waiting when a stop's drain runs out of time never run.
func WithExecutePause(on bool) Option { return func(o *options) { o.execPause = on } }

// WithLinger bounds how long a closing connection may take to flush its
// pending output (default DefaultLinger); after that it is closed with
// ErrLingerTimeout and the rest is dropped.
func WithLinger(d time.Duration) Option { return func(o *options) { o.linger = d } }

// Bounds of the datagram options.
const (
	minDatagramSlot  = 64
	maxDatagramBatch = 1024 // the kernel's UIO_MAXIOV, the most sendmmsg takes
)

// WithDatagramSlot sets the size of each slot of a loop's datagram buffer:
// the largest datagram a udp:// socket delivers. A larger one is dropped,
// never delivered cut, and counted in Stats.DatagramsTruncated. Default
// DefaultDatagramSlot (64 KiB: any UDP datagram); at least 64. A loop with
// datagram sockets holds WithDatagramBatch slots, touched as datagrams
// fill them.
func WithDatagramSlot(n int) Option { return func(o *options) { o.dgramSlot = n } }

// WithDatagramBatch sets how many datagrams one recvmmsg(2) reads and one
// sendmmsg(2) sends at most (default DefaultDatagramBatch, 32; 1 to 1024).
// A batch's OnTraffic calls run back to back, and the replies they write
// leave together at its end.
func WithDatagramBatch(n int) Option { return func(o *options) { o.dgramBatch = n } }

// minWatchdog is the shortest WithWatchdog threshold: the watchdog wakes
// four times per threshold.
const minWatchdog = 4 * time.Millisecond

// WithWatchdog reports a loop that stays inside one callback or task for
// longer than threshold (default 0: no watchdog; otherwise at least 4 ms):
// a Warn through the logger, once per stall, with the loop, what it runs
// (OnTraffic, OnOpen, a task, a timer...), the connection's remote address,
// how long, and the loop goroutine's stack; LoopStats.Stalls and
// Stats.Stalls count them. The loop pays one atomic store per callback or
// task and one per wait; a goroutine looks at every loop four times per
// threshold.
func WithWatchdog(threshold time.Duration) Option {
	return func(o *options) { o.watchdog = threshold }
}

// WithWatchdogKill makes the watchdog panic, crashing the process with the
// stuck loop's stack, once a stall lasts d (default 0: never; otherwise at
// least the WithWatchdog threshold, which it needs): for deployments that
// prefer a restart by their supervisor to a stuck worker, like Envoy's kill
// timeout. The panic is not recoverable: it happens on the watchdog's own
// goroutine.
func WithWatchdogKill(d time.Duration) Option { return func(o *options) { o.watchdogKill = d } }

// WithCallbackTiming measures every callback's duration into
// LoopStats.Callbacks and LoopStats.MaxCallback (default false: the loop
// only measures whole iterations, LoopStats.Busy). It costs two clock
// reads per callback.
func WithCallbackTiming(on bool) Option { return func(o *options) { o.callbackTiming = on } }
