//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows || evloop_portable

package evloop

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/ants/v2"

	"github.com/evloop/evloop/internal/queue"
	"github.com/evloop/evloop/internal/socket"
	"github.com/evloop/evloop/poller"
)

// Run serves handler on addr until the engine stops, and returns why: nil
// after a requested stop (Engine.Stop, a Shutdown action, or the end of
// RunContext's ctx), the error otherwise: a listener that could not be
// opened, a poller failure, or the *PanicError of a panic in OnBoot. addr is
// "tcp://host:port" (also tcp4, tcp6), "unix:///path", "udp://host:port"
// (also udp4, udp6; see Datagrams in the package doc), or "host:port" for
// tcp. An address Run cannot listen on fails it with a *net.OpError (Op
// "listen"), as net.Listen would; an errno stays reachable with errors.Is,
// and ErrUnsupportedNetwork marks unixgram and other networks evloop does
// not serve. Run blocks; OnBoot receives the Engine that stops it.
func Run(handler EventHandler, addr string, opts ...Option) error {
	return RunAddrs(handler, []string{addr}, opts...)
}

// RunAddrs is Run for several addresses served by the same loops. With
// none (nil or empty), the engine listens nowhere and serves only the
// connections it dials (Engine.Dial, Loop.Dial) or is handed (Enroll,
// EnrollFD): a client. Its loops start as usual, and OnBoot's Engine is
// where the dials begin (from another goroutine, as Engine.Dial blocks):
//
//	func (h *client) OnBoot(eng evloop.Engine) evloop.Action {
//		go func() {
//			c, err := eng.Dial(ctx, "tcp", "127.0.0.1:9000")
//			...
//		}()
//		return evloop.None
//	}
func RunAddrs(handler EventHandler, addrs []string, opts ...Option) error {
	return RunAddrsContext(context.Background(), handler, addrs, opts...)
}

// RunContext is Run until ctx is done, then a graceful stop: accepting
// stops, pending output and pool jobs get up to WithStopTimeout to finish,
// every connection is closed (OnClose), OnShutdown runs, and RunContext
// returns nil. With signal.NotifyContext it is a whole server's main:
//
//	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
//	defer cancel()
//	log.Fatal(evloop.RunContext(ctx, handler, "tcp://127.0.0.1:9000"))
//
// Engine.Stop and Shutdown actions still work as with Run.
func RunContext(ctx context.Context, handler EventHandler, addr string, opts ...Option) error {
	return RunAddrsContext(ctx, handler, []string{addr}, opts...)
}

// RunAddrsContext is RunContext for several addresses, or none (see
// RunAddrs).
func RunAddrsContext(ctx context.Context, handler EventHandler, addrs []string, opts ...Option) error {
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	if err := o.normalize(); err != nil {
		return err
	}
	e, err := newEngine(handler, addrs, o)
	if err != nil {
		return err
	}
	if ctx.Done() != nil {
		// The stop itself runs on Run's goroutine; this only starts it.
		stop := context.AfterFunc(ctx, func() { e.requestStop(nil, nil) })
		defer stop()
	}
	return e.serve()
}

// Engine is the handle to a running engine, given to EventHandler.OnBoot.
// Its methods are safe from any goroutine. The zero Engine is valid: its
// Stop and Submit return ErrEngineStopped, the others zero values.
type Engine struct{ e *engine }

// Stop stops the engine: it stops accepting, lets pending output flush and
// pool jobs finish until ctx is done, then closes every connection (OnClose
// each; a connection whose output could not be flushed in time is reset and
// gets ErrStopTimeout), runs OnShutdown and makes Run return nil. Stop
// waits for all that and returns nil, or returns ctx.Err() when ctx ends
// first (the stop still completes, without waiting further for the drain).
//
// Called from a goroutine the stop itself waits for, Stop only starts the
// stop and returns nil at once: a handler callback or AsyncCallback (a loop
// goroutine), OnBoot or OnShutdown (Run's goroutine), or a pool job run by
// Submit or Execute (the drain waits for that job to return). Stopping
// twice is harmless; later calls return once the first stop completes.
// Any goroutine.
func (eng Engine) Stop(ctx context.Context) error {
	e := eng.e
	if e == nil {
		return ErrEngineStopped
	}
	e.requestStop(ctx, nil)
	if e.onOwnGoroutine() || calledFromJob() {
		return nil
	}
	select {
	case <-e.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// CountConnections returns the number of open connections, counting
// those accepted or dialed and not yet open (handed to a loop, or
// connecting). Any goroutine.
func (eng Engine) CountConnections() int {
	if eng.e == nil {
		return 0
	}
	n := 0
	for _, l := range eng.e.loops {
		n += int(l.count.Load())
	}
	return n
}

// Addrs returns the addresses the engine listens on, with ephemeral ports
// resolved, in the order they were given to Run; none for an engine run
// without an address. The slice is the caller's. Any goroutine.
func (eng Engine) Addrs() []net.Addr {
	if eng.e == nil {
		return nil
	}
	return append([]net.Addr(nil), eng.e.addrs...)
}

// Loops returns the engine's event loops, by index. The slice is the
// caller's. Any goroutine.
func (eng Engine) Loops() []Loop {
	if eng.e == nil {
		return nil
	}
	ls := make([]Loop, len(eng.e.loops))
	for i, l := range eng.e.loops {
		ls[i] = Loop{l}
	}
	return ls
}

// Submit runs job on the engine's goroutine pool. A panic in job is
// recovered and logged (unless WithPanicPropagation). It returns
// ErrPoolOverload when the pool is full and ErrEngineStopped once the
// engine has stopped (its connections are closed), also with WithPool.
// Jobs submitted during Stop's drain still run, and the drain waits for
// them. Any goroutine.
func (eng Engine) Submit(job func()) error {
	if eng.e == nil {
		return ErrEngineStopped
	}
	return eng.e.submit(nil, job)
}

// Stats are counters of an engine's life so far.
type Stats struct {
	// Accepted counts accepted connections.
	Accepted uint64
	// AcceptBackoffs counts the times a listener paused accepting because
	// the process or system was out of descriptors or memory.
	AcceptBackoffs uint64
	// Panics counts recovered panics in handlers and pool jobs.
	Panics uint64
	// InboundFull counts connections closed with ErrInboundFull.
	InboundFull uint64

	// Datagrams of udp:// sockets. DatagramsIn counts those delivered to
	// OnTraffic, DatagramsOut those the kernel took. DatagramsTruncated
	// counts datagrams larger than WithDatagramSlot, dropped unseen.
	// DatagramsDropped counts replies that were not sent: refused before
	// queuing (the queue at WithOutboundLimit, too large, an unreachable
	// address family), refused by the kernel, or still queued when the
	// engine stopped.
	DatagramsIn, DatagramsOut, DatagramsTruncated, DatagramsDropped uint64

	// Stalls counts the loops' stalls (WithWatchdog), over all loops.
	Stalls uint64
	// Loops are the loops' own counters, by index.
	Loops []LoopStats
	// Dialed counts connections opened by Engine.Dial and Loop.Dial, and
	// by their DialTLS once the handshake has succeeded.
	Dialed uint64
	// DialFailures counts dials that reported an error instead.
	DialFailures uint64
	// Enrolled counts connections opened by Engine.Enroll and EnrollFD.
	Enrolled uint64
	// TLSHandshakes counts TLS handshakes that succeeded (WithTLS,
	// DialTLS), and TLSHandshakeFailures those that failed, timed out or
	// were cut short by the peer or by Stop.
	TLSHandshakes, TLSHandshakeFailures uint64
}

// Stats returns the engine's counters and every loop's (zero for the zero
// Engine). It marshals to JSON, and publishes with expvar as
// expvar.Func(func() any { return eng.Stats() }). Any goroutine.
func (eng Engine) Stats() Stats {
	e := eng.e
	if e == nil {
		return Stats{}
	}
	st := Stats{
		Accepted:       e.accepted.Load(),
		AcceptBackoffs: e.acceptBackoffs.Load(),
		Panics:         e.panics.Load(),
		InboundFull:    e.inboundFull.Load(),
		Dialed:         e.dialed.Load(),
		DialFailures:   e.dialFailures.Load(),
		Enrolled:       e.enrolled.Load(),

		TLSHandshakes:        e.tlsHandshakes.Load(),
		TLSHandshakeFailures: e.tlsFailures.Load(),
	}
	st.Loops = make([]LoopStats, len(e.loops))
	for i, l := range e.loops {
		st.Loops[i] = l.stats()
		st.Stalls += st.Loops[i].Stalls
	}
	for _, s := range e.udps {
		st.DatagramsIn += s.received.Load()
		st.DatagramsOut += s.sent.Load()
		st.DatagramsTruncated += s.truncated.Load()
		st.DatagramsDropped += s.dropped.Load()
	}
	return st
}

type engine struct {
	opts     options
	handler  EventHandler
	writable WritableHandler  // handler, if it implements it
	readEOF  ReadCloseHandler // handler, if it implements it
	log      *slog.Logger
	loops    []*loop
	acceptor *acceptor
	lns      []*listener // every listener, for closing at the end
	udps     []*udpSock  // every datagram socket, for Stats; immutable once serving
	watchdog *watchdog   // WithWatchdog
	addrs    []net.Addr
	pool     *ants.Pool
	ownPool  bool
	runGoid  atomic.Uint64

	// Pool jobs submitted and finished: both only grow, so Stop's drain
	// can tell "none running" and "none started since" from two reads.
	jobsStarted    atomic.Uint64
	jobsDone       atomic.Uint64
	stopped        atomic.Bool // every connection is closed: refuse new jobs
	accepted       atomic.Uint64
	acceptBackoffs atomic.Uint64

	// WithTLS: the handshake goroutines (Stop waits for them) and the
	// handshakes waiting for one, and the handshakes' outcomes.
	tlsQueue      tlsQueue
	tlsWG         sync.WaitGroup
	tlsHandshakes atomic.Uint64
	tlsFailures   atomic.Uint64
	panics        atomic.Uint64
	inboundFull   atomic.Uint64
	dialed        atomic.Uint64
	dialFailures  atomic.Uint64
	enrolled      atomic.Uint64
	dialTurn      atomic.Uint32  // Engine.Dial's round-robin
	resolvers     resolvers      // Loop.Dial's look-ups of host names
	resolving     sync.WaitGroup // the look-ups in flight
	waiters       poolWaiters    // WithExecutePause
	base          time.Time      // the engine's clock starts here (engine.clock)
	timerNext     atomic.Uint32  // Engine.AfterFunc's round-robin

	stopMu       sync.Mutex
	stopping     bool
	notAccepting bool // stopAccepting ran (Drain, or the stop)
	stopCtx      context.Context
	cause        error
	stopCh       chan struct{} // closed by the first stop request
	done         chan struct{} // closed when Run is about to return
	wg           sync.WaitGroup
}

func newEngine(handler EventHandler, addrs []string, o options) (_ *engine, err error) {
	e := &engine{opts: o, handler: handler, log: o.logger, stopCh: make(chan struct{}), done: make(chan struct{}),
		base: time.Now()}
	e.resolvers.ctx, e.resolvers.cancel = context.WithCancel(context.Background())
	e.writable, _ = handler.(WritableHandler)
	e.readEOF, _ = handler.(ReadCloseHandler)
	defer func() {
		if err != nil {
			e.release() // whatever was opened before the failure
		}
	}()
	for i := 0; i < o.loops; i++ {
		l, err := newLoop(i, e)
		if err != nil {
			return nil, err
		}
		e.loops = append(e.loops, l)
	}
	var shared []*listener // served by the acceptor
	for _, addr := range addrs {
		network, address, err := socket.ParseAddr(addr)
		if err != nil {
			return nil, listenError("", err)
		}
		if isDatagram(network) {
			if err := e.listenDatagrams(network, address); err != nil {
				return nil, err
			}
			continue
		}
		if !socket.IsStream(network) {
			return nil, listenError(network, fmt.Errorf("%w %q (evloop serves tcp and unix streams, and udp datagrams)", ErrUnsupportedNetwork, addr))
		}
		if o.reusePort && network != "unix" {
			if err := e.listenPerLoop(network, address); err != nil {
				return nil, err
			}
			continue
		}
		ln, err := e.listen(network, address, false)
		if err != nil {
			return nil, err
		}
		shared = append(shared, ln)
		e.addrs = append(e.addrs, ln.addr)
	}
	if err := e.adoptListeners(&shared); err != nil {
		return nil, err
	}
	if len(shared) > 0 {
		if e.acceptor, err = newAcceptor(e, shared); err != nil {
			return nil, err
		}
	}
	if o.pool != nil {
		e.pool = o.pool
	} else if e.pool, err = ants.NewPool(o.poolSize, ants.WithNonblocking(true)); err != nil {
		return nil, err
	}
	e.ownPool = o.pool == nil
	return e, nil
}

// listenPerLoop gives every loop its own SO_REUSEPORT listener on one
// address.
func (e *engine) listenPerLoop(network, address string) error {
	return e.bindPerLoop(network, address, e.adoptPerLoop)
}

// adoptPerLoop makes ln one of l's own listeners (reuseport mode).
func (e *engine) adoptPerLoop(l *loop, ln *listener) error {
	if err := l.poller.Add(ln.fd, listenerGen, poller.Readable); err != nil {
		return err
	}
	l.lns = append(l.lns, ln)
	return nil
}

// bindPerLoop binds one SO_REUSEPORT socket per loop on address and hands
// each to adopt. The first bind resolves an ephemeral port; the others
// bind to it.
func (e *engine) bindPerLoop(network, address string, adopt func(l *loop, ln *listener) error) error {
	for i, l := range e.loops {
		ln, err := e.listen(network, address, true)
		if err != nil {
			return err
		}
		if i == 0 {
			address = ln.addr.String()
			e.addrs = append(e.addrs, ln.addr)
		}
		if err := adopt(l, ln); err != nil {
			return err
		}
	}
	return nil
}

func (e *engine) listen(network, address string, reusePort bool) (*listener, error) {
	s, err := socket.Listen(network, address, socket.Options{
		ReuseAddr: e.opts.reuseAddr,
		ReusePort: reusePort,
		Backlog:   e.opts.backlog,
	})
	if err != nil {
		return nil, err
	}
	return e.track(s), nil
}

// track makes a listener of s, which the engine closes at the end.
func (e *engine) track(s *socket.Listener) *listener {
	ln := &listener{origin: origin{network: s.Network, addr: s.Addr}, sock: s, fd: s.FD}
	ln.timer.idx = -1
	e.lns = append(e.lns, ln)
	return ln
}

// prepare applies the per-connection socket options to an fd accepted on
// a listener of network; the TCP ones would only fail on a unix socket.
// Failures are logged, not fatal: the connection works without them.
func (e *engine) prepare(fd int, network string) {
	o := &e.opts
	var err error
	if network != "unix" {
		if o.noDelay {
			err = errors.Join(err, socket.SetNoDelay(fd, true))
		}
		if o.keepAlive > 0 {
			err = errors.Join(err, socket.SetKeepAlive(fd, o.keepAlive, o.keepAlive, keepAliveProbes))
		}
	}
	if o.recvBuffer > 0 {
		err = errors.Join(err, socket.SetRecvBuffer(fd, o.recvBuffer))
	}
	if o.sendBuffer > 0 {
		err = errors.Join(err, socket.SetSendBuffer(fd, o.sendBuffer))
	}
	if err != nil {
		e.log.Debug("evloop: socket option not applied", "err", err)
	}
}

// serve runs the engine on the calling goroutine until it has stopped.
func (e *engine) serve() error {
	e.runGoid.Store(goid())
	if e.boot() == Shutdown {
		e.requestStop(nil, nil)
	}
	if e.stopRequested() {
		// Stopped during OnBoot: serve nothing, not even a connection
		// that already waits in a listener's backlog. The loops never ran,
		// so their cleanup runs here.
		e.stopResolving()
		for _, l := range e.loops {
			l.exit()
		}
		e.stopped.Store(true)
		e.shutdownHandler()
		e.release()
		close(e.done)
		return e.cause
	}
	if e.opts.watchdog > 0 {
		e.watchdog = newWatchdog(e)
		go e.watchdog.run()
	}
	acceptorDone := make(chan struct{})
	for _, l := range e.loops {
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			if err := l.run(); err != nil {
				e.requestStop(nil, err)
			}
		}()
	}
	if e.acceptor != nil {
		go func() {
			defer close(acceptorDone)
			if err := e.acceptor.run(); err != nil {
				e.requestStop(nil, err)
			}
		}()
	} else {
		close(acceptorDone)
	}
	<-e.stopCh
	e.shutdown(acceptorDone)
	return e.cause
}

func (e *engine) stopRequested() bool {
	select {
	case <-e.stopCh:
		return true
	default:
		return false
	}
}

// requestStop starts the stop once; ctx bounds its drain phase (nil: the
// handler default), cause is nil for a requested stop.
func (e *engine) requestStop(ctx context.Context, cause error) {
	e.stopMu.Lock()
	defer e.stopMu.Unlock()
	if e.stopping {
		if e.cause == nil && cause != nil {
			e.cause = cause
		}
		return
	}
	e.stopping = true
	e.stopCtx = ctx
	e.cause = cause
	close(e.stopCh)
}

// shutdown is the stop, in order: no new connections, drain, close every
// connection, OnShutdown, release everything.
func (e *engine) shutdown(acceptorDone <-chan struct{}) {
	defer close(e.done)
	e.stopMu.Lock()
	ctx, cause := e.stopCtx, e.cause
	e.stopMu.Unlock()
	if ctx == nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.Background(), e.opts.stopTimeout)
		defer cancel()
	}
	e.stopAccepting()
	<-acceptorDone
	if cause == nil {
		e.drain(ctx)
	}
	// Look-ups for Loop.Dial end now and hand their dials to loops that
	// are still there to fail them.
	e.stopResolving()
	for _, l := range e.loops {
		_ = l.q.Push(task{kind: taskShutdown}) // fails only for a loop that already exited
	}
	e.wg.Wait()
	e.tlsWG.Wait() // the loops closed every connection: handshakes end
	if e.watchdog != nil {
		close(e.watchdog.stop)
		<-e.watchdog.done
	}
	e.stopped.Store(true)
	e.shutdownHandler()
	e.release()
}

// drainPoll is how often the drain phase looks for remaining work.
const drainPoll = 2 * time.Millisecond

// drain waits until no pool job runs, no task is queued and no output is
// pending on any loop, all at once, or until ctx is done.
//
// Each of those can revive the others: a job queues an async write, the
// write's callback submits the next job, a loop's callback writes to a
// connection of another loop. So one look at each is not enough: the drain
// reads how many jobs and tasks were ever started, checks that no job runs,
// probes every loop (a probe runs after every task queued before it), and
// only trusts the answer if no job or task was started meanwhile.
func (e *engine) drain(ctx context.Context) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		before := e.activity()
		if e.jobsRunning() == 0 {
			asked, quiet := e.quiet(ctx)
			if quiet && e.jobsRunning() == 0 && e.activity() == before+asked {
				return
			}
		}
		t.Reset(drainPoll)
	}
}

// jobsRunning is how many pool jobs were submitted and have not returned.
// Done is read first: read the other way round, a job that starts and ends
// between the reads could make the count look negative.
func (e *engine) jobsRunning() uint64 {
	done := e.jobsDone.Load()
	return e.jobsStarted.Load() - done
}

// activity counts everything that was ever started: pool jobs and tasks
// queued on any loop.
func (e *engine) activity() uint64 {
	n := e.jobsStarted.Load()
	for _, l := range e.loops {
		n += l.q.Pushed()
	}
	return n
}

// quiet asks every loop, through its queue, whether it has work left, and
// returns how many probes it queued. The probe runs after every task queued
// before it, so a true answer means the async writes queued so far have
// been written and flushed.
func (e *engine) quiet(ctx context.Context) (asked uint64, quiet bool) {
	reply := make(chan bool, len(e.loops))
	for _, l := range e.loops {
		// Only ErrClosed means the probe is not queued (the loop exited);
		// after a wake error it is queued and will answer.
		if err := l.q.Push(task{kind: taskProbe, reply: reply}); !errors.Is(err, queue.ErrClosed) {
			asked++
		}
	}
	quiet = true
	for i := uint64(0); i < asked; i++ {
		select {
		case q := <-reply:
			quiet = quiet && q
		case <-ctx.Done():
			return asked, false
		}
	}
	return asked, quiet
}

// release frees the engine's descriptors and pool: after shutdown, or when
// newEngine fails half way.
func (e *engine) release() {
	if e.acceptor != nil {
		_ = e.acceptor.poller.Close()
	}
	for _, ln := range e.lns {
		ln.close()
	}
	for _, l := range e.loops {
		_ = l.poller.Close()
	}
	e.stopWaiting()
	if e.pool != nil && e.ownPool {
		_ = e.pool.ReleaseTimeout(time.Second)
	}
}

// onOwnGoroutine reports whether the caller is a goroutine the stop waits
// for (a loop, or Run's during OnBoot and OnShutdown), where waiting for
// the stop to finish would deadlock.
func (e *engine) onOwnGoroutine() bool {
	id := goid()
	if id == e.runGoid.Load() {
		return true
	}
	for _, l := range e.loops {
		if l.goid.Load() == id {
			return true
		}
	}
	return e.acceptor != nil && e.acceptor.goid.Load() == id
}
