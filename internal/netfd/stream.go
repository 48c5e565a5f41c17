package netfd

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"syscall"
	"time"
)

// The emulated socket buffers. They bound what a stream holds on each side
// of the net.Conn, as SO_RCVBUF and SO_SNDBUF bound a kernel socket;
// SetRecvBuffer and SetSendBuffer change them.
const (
	DefaultRecvBuffer = 256 << 10
	DefaultSendBuffer = 256 << 10
	// readChunk is the reader goroutine's buffer: the most one conn.Read
	// takes before its bytes are appended to the inbound buffer.
	readChunk = 32 << 10
	// smallRead is the reader's buffer for a quiet peer.
	smallRead = 256
	// writeChunk is the most one conn.Write is given, so the writer frees
	// send-buffer room as it goes rather than only at the end.
	writeChunk = 64 << 10
)

// stream is a connected (or connecting) stream socket. Everything below mu
// is guarded by it; the reader goroutine waits on room for inbound space.
type stream struct {
	mu     sync.Mutex
	room   sync.Cond
	conn   net.Conn
	notify func()

	small   [smallRead]byte // the reader's buffer while the peer is quiet
	in      []byte          // received, not yet read
	inBuf   *[]byte         // the pooled buffer in lives in
	inCap   int
	eof     bool  // the peer's FIN was read (after in drains, Read says 0)
	readErr error // the reader's error, returned once after in drains
	dead    bool  // reset: the connection is gone both ways

	out      []byte  // accepted by Write, not yet written to conn
	outBuf   *[]byte // the pooled buffer out lives in
	outCap   int
	writing  bool  // a writer goroutine runs
	shutWr   bool  // ShutdownWrite was called: later Writes fail
	writeErr error // the first write failure; later Writes return it

	// direct writes go to the system socket at once while nothing is
	// pending (see put); rawFn is rawWrite as a value made once, so a
	// write allocates nothing.
	direct    syscall.RawConn
	directTry bool // direct was looked up
	rawFn     func(fd uintptr) bool
	directP   []byte
	directN   int
	directErr error

	// writingFrom is the buffer the writer's chunk in flight is a slice
	// of; when out moves to a larger buffer meanwhile, that one waits in
	// retired until the write returns, then goes back to its pool.
	writingFrom, retired *[]byte

	pending error // what PendingError returns (SO_ERROR), cleared by it
	linger0 bool  // Close resets instead of sending what is pending
	unread  bool  // closed with received bytes unread: reset after the output
	closed  bool

	dialing bool
	cancel  context.CancelFunc // aborts the dial
	dialErr error
}

// readBuffers holds the readers' readChunk buffers between bursts.
var readBuffers = sync.Pool{New: func() any { b := make([]byte, readChunk); return &b }}

func newStream() *stream {
	s := &stream{inCap: DefaultRecvBuffer, outCap: DefaultSendBuffer}
	s.room.L = &s.mu
	return s
}

// Adopt enters an established connection as a stream descriptor; the
// descriptor owns c from now on.
func Adopt(c net.Conn) int {
	s := newStream()
	s.conn = c
	go s.readLoop(c)
	return add(s)
}

// Connect returns a descriptor for a stream to addr on network ("tcp",
// "tcp4", "tcp6", "unix") and starts dialing it; the error is always
// EINPROGRESS. The descriptor reports writable (and, on failure, an error
// and a hang-up) when the dial is over; ConnectResult says how it ended.
// Closing the descriptor aborts the dial.
func Connect(network, addr string) (int, error) {
	s := newStream()
	ctx, cancel := context.WithCancel(context.Background())
	s.dialing, s.cancel = true, cancel
	fd := add(s)
	go s.dial(ctx, network, addr)
	return fd, syscall.EINPROGRESS
}

func (s *stream) dial(ctx context.Context, network, addr string) {
	var d net.Dialer
	c, err := d.DialContext(ctx, network, addr)
	s.mu.Lock()
	s.dialing = false
	s.cancel()
	if s.closed {
		s.mu.Unlock()
		if c != nil {
			_ = c.Close()
		}
		return
	}
	if err != nil {
		s.dialErr = errnoOf(err)
		s.pending = s.dialErr
		s.dead = true
	} else {
		s.conn = c
		applyChanged(c, s.inCap, s.outCap) // set while dialing
		go s.readLoop(c)
		if len(s.out) > 0 || s.shutWr {
			s.startWriter()
		}
	}
	notify := s.notify
	s.mu.Unlock()
	if notify != nil {
		notify()
	}
}

// ConnectResult returns how the dial of fd ended: nil when connected,
// EINPROGRESS while it goes on, else the dial's error.
func ConnectResult(fd int) error {
	s, err := streamOf(fd)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dialing {
		return syscall.EINPROGRESS
	}
	s.pending = nil
	return s.dialErr
}

func streamOf(fd int) (*stream, error) {
	obj, err := lookup(fd)
	if err != nil {
		return nil, err
	}
	s, ok := obj.(*stream)
	if !ok {
		return nil, syscall.ENOTCONN
	}
	return s, nil
}

// readLoop moves bytes from c into the inbound buffer while it has room,
// until end of stream, an error, or Close. While the peer is quiet it reads
// into the small buffer inside the stream, so an idle connection holds no
// large one; a read that fills the small buffer makes the next one use a
// pooled readChunk buffer, until a read leaves that one part empty.
func (s *stream) readLoop(c net.Conn) {
	var big *[]byte
	defer func() {
		if big != nil {
			readBuffers.Put(big)
		}
	}()
	for {
		s.mu.Lock()
		for len(s.in) >= s.inCap && !s.closed {
			s.room.Wait()
		}
		if s.closed {
			s.mu.Unlock()
			return
		}
		room := s.inCap - len(s.in)
		s.mu.Unlock()

		buf := s.small[:]
		if big != nil {
			buf = *big
		}
		n, err := c.Read(buf[:min(room, len(buf))])

		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return
		}
		if n > 0 {
			s.in = appendPooled(&s.inBuf, s.in, buf[:n], true)
		}
		switch {
		case big == nil && n == len(s.small):
			big = readBuffers.Get().(*[]byte)
		case big != nil && n < len(*big)/2:
			readBuffers.Put(big)
			big = nil
		}
		switch {
		case err == nil:
		case errors.Is(err, io.EOF):
			s.eof = true
		default:
			s.readErr = errnoOf(err)
			if errors.Is(s.readErr, syscall.ECONNRESET) {
				s.dead = true
				s.pending = s.readErr
			}
		}
		notify := s.notify
		s.mu.Unlock()
		if notify != nil && (n > 0 || err != nil) {
			notify()
		}
		if err != nil {
			return
		}
	}
}

// Read copies received bytes into p: EAGAIN when none wait, (0, nil) at end
// of stream once everything before it was read, the read error (once)
// likewise.
func Read(fd int, p []byte) (int, error) {
	s, err := streamOf(fd)
	if err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.in) > 0 {
		wasFull := len(s.in) >= s.inCap
		n := copy(p, s.in)
		s.in = s.in[:copy(s.in, s.in[n:])]
		if len(s.in) == 0 {
			putBuffer(s.inBuf)
			s.in, s.inBuf = nil, nil
		}
		if wasFull {
			s.room.Signal()
		}
		return n, nil
	}
	if s.readErr != nil {
		err := s.readErr
		s.readErr, s.eof = nil, true
		return 0, err
	}
	if s.eof {
		return 0, nil
	}
	return 0, syscall.EAGAIN
}

// Unread reports how many received bytes wait to be read.
func Unread(fd int) int {
	s, err := streamOf(fd)
	if err != nil {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.in)
}

// Write copies as much of p as the send buffer has room for and returns
// that count, or EAGAIN when it is full; it never blocks. A failed
// connection returns its error, a shut-down one EPIPE.
func Write(fd int, p []byte) (int, error) {
	s, err := streamOf(fd)
	if err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.writable(); err != nil {
		return 0, err
	}
	n := s.put(p)
	if n == 0 && len(p) > 0 {
		return 0, syscall.EAGAIN
	}
	return n, nil
}

// put writes p to the system socket at once while nothing is pending, as
// a native write does, and queues what the socket does not take. Writing
// in the caller's turn keeps the system's send buffer as full as natively
// at every moment: output left to the writer goroutine alone would reach
// the socket later, so room the writer makes afterwards could let one more
// write in that a native socket would refuse. s.mu is held.
func (s *stream) put(p []byte) int {
	done := 0
	if len(p) > 0 && len(s.out) == 0 && !s.writing && !s.dialing && s.conn != nil {
		if !s.directTry {
			s.directTry = true
			s.direct = rawStream(s.conn)
			s.rawFn = s.rawWrite
		}
		if s.direct != nil {
			s.directP = p
			err := s.direct.Write(s.rawFn)
			n := s.directN
			s.directP, s.directN = nil, 0
			if err == nil && s.directErr == nil && n > 0 {
				done = n
			}
			// An error other than a full buffer is left to the writer
			// goroutine, which reports it as before.
			s.directErr = nil
		}
	}
	if done == len(p) {
		return done
	}
	return done + s.queue(p[done:])
}

// rawWrite makes one non-blocking write of directP.
func (s *stream) rawWrite(fd uintptr) bool {
	s.directN, s.directErr = writeSystem(fd, s.directP)
	return true
}

// Writev is Write of the buffers in order.
func Writev(fd int, bufs [][]byte) (int, error) {
	s, err := streamOf(fd)
	if err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.writable(); err != nil {
		return 0, err
	}
	total, asked := 0, 0
	// One buffer goes out at once as Write's does; several are queued
	// together, so the peer never sees a part of what a single writev
	// would have sent whole.
	nonEmpty := 0
	for _, b := range bufs {
		if len(b) > 0 {
			nonEmpty++
		}
	}
	for _, b := range bufs {
		asked += len(b)
		var n int
		if nonEmpty == 1 {
			n = s.put(b)
		} else {
			n = s.queue(b)
		}
		total += n
		if n < len(b) {
			break
		}
	}
	if total == 0 && asked > 0 {
		return 0, syscall.EAGAIN
	}
	return total, nil
}

// writable says why a write cannot be taken at all. s.mu is held.
func (s *stream) writable() error {
	switch {
	case s.writeErr != nil:
		return s.writeErr
	case s.dead && s.readErr != nil:
		return s.readErr
	case s.dead:
		return syscall.EPIPE
	case s.shutWr:
		return syscall.EPIPE
	}
	return nil
}

// queue appends what fits of p to the outbound buffer and makes sure a
// writer runs. s.mu is held.
func (s *stream) queue(p []byte) int {
	n := min(s.outCap-len(s.out), len(p))
	if n <= 0 {
		return 0
	}
	old := s.outBuf
	s.out = appendPooled(&s.outBuf, s.out, p[:n], false)
	if old != nil && old != s.outBuf {
		if old == s.writingFrom {
			s.retired = old // the writer puts it back after its write
		} else {
			putBuffer(old)
		}
	}
	if !s.dialing {
		s.startWriter()
	}
	return n
}

// startWriter starts the writer goroutine unless it runs. s.mu is held.
func (s *stream) startWriter() {
	if !s.writing {
		s.writing = true
		starting.mu.Lock()
		starting.streams = append(starting.streams, s)
		starting.mu.Unlock()
		go runWriter()
	}
}

// starting hands each new writer goroutine its stream. A go statement
// with arguments allocates a closure for them, once per burst of output;
// a goroutine started without arguments that takes its stream from here
// does not, which keeps an echo turn free of allocations.
var starting struct {
	mu      sync.Mutex
	streams []*stream
}

// runWriter runs the writer of one stream from starting; each go
// runWriter() follows one append, so there is always one to take.
func runWriter() {
	starting.mu.Lock()
	last := len(starting.streams) - 1
	s := starting.streams[last]
	starting.streams[last] = nil
	starting.streams = starting.streams[:last]
	starting.mu.Unlock()
	s.mu.Lock()
	c := s.conn
	s.mu.Unlock()
	s.writeLoop(c)
}

// writeLoop writes the outbound buffer to c in order and exits when it is
// drained, after the FIN of a ShutdownWrite or the close a Close left to it.
func (s *stream) writeLoop(c net.Conn) {
	for {
		s.mu.Lock()
		if len(s.out) == 0 || s.writeErr != nil || s.closed && s.linger0 {
			if s.outBuf != nil {
				putBuffer(s.outBuf) // this goroutine was its last reader
			}
			s.out, s.outBuf = nil, nil
			s.writing = false
			shut := s.shutWr && s.writeErr == nil
			closeConn, reset := s.closed, s.unread || s.linger0
			notify := s.notify
			s.mu.Unlock()
			switch {
			case closeConn:
				if tc, ok := c.(*net.TCPConn); ok && reset {
					_ = tc.SetLinger(0)
				}
				_ = c.Close()
			case shut:
				_ = closeWrite(c)
			}
			if notify != nil {
				notify()
			}
			return
		}
		// Write appends past len(out) and never touches these bytes, so
		// they can be written without the lock.
		chunk := s.out[:min(len(s.out), writeChunk)]
		s.writingFrom = s.outBuf
		s.mu.Unlock()

		n, err := c.Write(chunk)

		s.mu.Lock()
		// Close may have dropped the buffer meanwhile (a reset).
		s.out = s.out[:copy(s.out, s.out[min(n, len(s.out)):])]
		if s.retired != nil {
			putBuffer(s.retired)
			s.retired = nil
		}
		s.writingFrom = nil
		if err != nil && !s.closed {
			s.writeErr = errnoOf(err)
			if !errors.Is(s.writeErr, syscall.ECONNRESET) {
				s.writeErr = syscall.EPIPE
			}
			s.pending = s.writeErr
			s.dead = true
		} else if err != nil {
			s.writeErr = syscall.EPIPE
		}
		notify := s.notify
		s.mu.Unlock()
		if notify != nil {
			notify()
		}
	}
}

func closeWrite(c net.Conn) error {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// ShutdownWrite sends a FIN once everything written before it is sent;
// later Writes fail with EPIPE.
func ShutdownWrite(fd int) error {
	s, err := streamOf(fd)
	if err != nil {
		return err
	}
	s.mu.Lock()
	if s.shutWr {
		s.mu.Unlock()
		return nil
	}
	s.shutWr = true
	if s.writing || s.dialing || s.conn == nil {
		s.mu.Unlock()
		return nil // the writer (or the dial) sends the FIN after the bytes
	}
	c := s.conn
	s.mu.Unlock()
	if err := closeWrite(c); err != nil {
		return errnoOf(err)
	}
	return nil
}

// PendingError returns and clears fd's pending error.
func PendingError(fd int) error {
	obj, err := lookup(fd)
	if err != nil {
		return err
	}
	s, ok := obj.(*stream)
	if !ok {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	err, s.pending = s.pending, nil
	return err
}

// SetLinger with sec == 0 makes Close reset the connection and drop what is
// pending; any other value restores the default (pending bytes are sent).
func SetLinger(fd int, sec int) error {
	s, err := streamOf(fd)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.linger0 = sec == 0
	return nil
}

// SetRecvBuffer sets the emulated receive buffer (and asks the system for
// the same on the connection, so the peer is held back by TCP soon after).
func SetRecvBuffer(fd, n int) error {
	if n <= 0 {
		return syscall.EINVAL
	}
	obj, err := lookup(fd)
	if err != nil {
		return err
	}
	switch o := obj.(type) {
	case *stream:
		o.mu.Lock()
		o.inCap = n
		c := o.conn
		o.room.Broadcast()
		o.mu.Unlock()
		if c != nil {
			applyBuffers(c, n, 0)
		}
	case *listener:
		o.mu.Lock()
		o.inCap = n
		o.mu.Unlock()
	case *datagram:
		o.mu.Lock()
		o.inCap = n
		o.mu.Unlock()
		_ = o.conn.SetReadBuffer(n)
	}
	return nil
}

// SetSendBuffer sets the emulated send buffer.
func SetSendBuffer(fd, n int) error {
	if n <= 0 {
		return syscall.EINVAL
	}
	obj, err := lookup(fd)
	if err != nil {
		return err
	}
	switch o := obj.(type) {
	case *stream:
		o.mu.Lock()
		o.outCap = n
		c := o.conn
		o.mu.Unlock()
		if c != nil {
			applyBuffers(c, 0, n)
		}
	case *listener:
		o.mu.Lock()
		o.outCap = n
		o.mu.Unlock()
	case *datagram:
		_ = o.conn.SetWriteBuffer(n)
	}
	return nil
}

// applyBuffers sizes the system buffers of c like the emulated ones (0:
// leave as is), so that the bytes in flight stay near what a native socket
// would hold.
func applyBuffers(c net.Conn, recv, send int) {
	type sized interface {
		SetReadBuffer(int) error
		SetWriteBuffer(int) error
	}
	if b, ok := c.(sized); ok {
		if recv > 0 {
			_ = b.SetReadBuffer(recv)
		}
		if send > 0 {
			_ = b.SetWriteBuffer(send)
		}
	}
}

// applyChanged applies the emulated buffer sizes that differ from the
// defaults to c's system buffers; the defaults leave the system's own
// (autotuned) sizes alone.
func applyChanged(c net.Conn, recv, send int) {
	if recv == DefaultRecvBuffer {
		recv = 0
	}
	if send == DefaultSendBuffer {
		send = 0
	}
	applyBuffers(c, recv, send)
}

// SetNoDelay turns Nagle's algorithm off (on == true) or on.
func SetNoDelay(fd int, on bool) error {
	c, err := Conn(fd)
	if err != nil {
		return err
	}
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return syscall.EOPNOTSUPP
	}
	return errnoOf(tc.SetNoDelay(on))
}

// SetKeepAlive enables keep-alive probes.
func SetKeepAlive(fd int, idle, interval time.Duration, count int) error {
	c, err := Conn(fd)
	if err != nil {
		return err
	}
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return syscall.EOPNOTSUPP
	}
	return errnoOf(tc.SetKeepAliveConfig(net.KeepAliveConfig{
		Enable: true, Idle: idle, Interval: interval, Count: count,
	}))
}

// Conn returns the net.Conn behind a connected stream descriptor, for
// addresses and socket options; the descriptor still owns it.
func Conn(fd int) (net.Conn, error) {
	s, err := streamOf(fd)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil {
		return nil, syscall.ENOTCONN
	}
	return s.conn, nil
}

func (s *stream) ready() Ready {
	s.mu.Lock()
	defer s.mu.Unlock()
	var r Ready
	switch {
	case s.closed || s.dialing:
		return 0
	case s.dialErr != nil:
		r = Writable | Hangup
	default:
		ended := s.eof || s.readErr != nil || s.dead
		if len(s.in) > 0 || ended {
			r |= Readable
		}
		if ended {
			r |= ReadHangup
		}
		// Like the kernel, report room only once a third of the buffer is
		// free, so a writer is not woken for a few bytes at a time.
		if s.writeErr != nil || s.dead || len(s.out) <= s.outCap-s.outCap/3 {
			r |= Writable
		}
		if s.dead || ended && s.shutWr {
			r |= Hangup
		}
	}
	if s.pending != nil {
		r |= Failed
	}
	return r
}

func (s *stream) watch(notify func(), _ bool) {
	s.mu.Lock()
	s.notify = notify
	s.mu.Unlock()
}

// close: the reader exits now; pending output is still sent (then the
// connection closes) unless linger 0 was set or received bytes were never
// read, in which case the connection is reset at once, as the kernel does.
func (s *stream) close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.notify = nil
	s.room.Broadcast()
	if s.cancel != nil {
		s.cancel()
	}
	c := s.conn
	// Unread bytes make the kernel reset the connection instead of
	// sending a FIN; what was written before had usually left already, so
	// the writer still sends it, then resets.
	s.unread = len(s.in) > 0
	reset := s.linger0 || s.unread && !s.writing
	if s.inBuf != nil {
		putBuffer(s.inBuf)
	}
	s.in, s.inBuf = nil, nil
	if c == nil || s.writing && !reset {
		s.mu.Unlock()
		return nil // the dial or the writer closes the connection
	}
	s.out, s.outBuf = nil, nil // a writer may still read it: not pooled
	if tc, ok := c.(*net.TCPConn); ok && reset {
		// Under the lock: a writer that closes c first must not send a
		// FIN before the linger is set.
		_ = tc.SetLinger(0)
	}
	s.mu.Unlock()
	return errnoOf(c.Close())
}
