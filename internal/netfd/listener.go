package netfd

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"time"
)

// acceptBackoff is how long the accept goroutine waits after an error
// other than the listener's closing (EMFILE, say) before it tries again,
// so a persistent failure does not spin.
const acceptBackoff = 10 * time.Millisecond

// listener is a listening stream socket. Where the system lets a goroutine
// wait for a connection without accepting it (unix: raw is set), a waiting
// goroutine only learns that the backlog is not empty (pending) and Accept
// takes the connection from the system itself, so a connection is never
// held by us that the system would still queue: when the engine stops
// accepting, whatever waits stays in the shared backlog for a successor,
// exactly as natively. Elsewhere an accept goroutine takes one connection
// at a time from the system's backlog into queue, and only when queue is
// empty, and Accept takes it from there; a connection taken just as the
// engine stops accepting is reset when the listener closes.
type listener struct {
	mu     sync.Mutex
	room   sync.Cond
	ln     net.Listener
	notify func()
	queue  []net.Conn
	// raw, when set, lets Accept take a connection from the system's
	// backlog on demand; rawFile is the duplicate of the socket it belongs
	// to. pending says the waiting goroutine saw a connection there.
	rawFile *os.File
	raw     syscall.RawConn
	pending bool
	held    *os.File // see acceptRaw
	err     error    // an accept error, returned once by Accept
	closed  bool
	// paused: the poller that watched the listener does not want to accept
	// or stopped watching it, so connections stay in the system's backlog,
	// where a process the socket was handed to can accept them, instead of
	// being taken into ours.
	paused bool
	done   chan struct{}
	// inCap and outCap are the buffers accepted streams start with.
	inCap, outCap int
}

// Listen enters ln as a listening descriptor; the descriptor owns ln.
// The backlog is ln's own, set by the system when ln was created.
func Listen(ln net.Listener) int {
	l := &listener{ln: ln, done: make(chan struct{}),
		inCap: DefaultRecvBuffer, outCap: DefaultSendBuffer}
	l.room.L = &l.mu
	if l.rawFile = rawListener(ln); l.rawFile != nil {
		l.raw, _ = l.rawFile.SyscallConn()
	}
	if l.raw != nil {
		go l.waitLoop()
	} else {
		go l.acceptLoop()
	}
	return add(l)
}

// waitLoop waits, while the watcher wants to read and no connection is
// known to wait, until the system's backlog is not empty, without taking
// anything from it, and then marks the listener readable.
func (l *listener) waitLoop() {
	for {
		l.mu.Lock()
		for (l.pending || l.paused) && !l.closed {
			l.room.Wait()
		}
		closed := l.closed
		l.mu.Unlock()
		if closed {
			return
		}

		err := l.raw.Read(backlogWaiting)

		l.mu.Lock()
		if l.closed {
			l.mu.Unlock()
			return
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			l.mu.Unlock()
			continue // paused (see watch)
		}
		if err != nil {
			if errors.Is(err, os.ErrClosed) {
				l.mu.Unlock()
				return
			}
			l.err = errnoOf(err)
		} else {
			l.pending = true
		}
		notify := l.notify
		l.mu.Unlock()
		if notify != nil {
			notify()
		}
		if err != nil {
			select {
			case <-l.done:
				return
			case <-time.After(acceptBackoff):
			}
		}
	}
}

func (l *listener) acceptLoop() {
	for {
		l.mu.Lock()
		for (len(l.queue) > 0 || l.paused) && !l.closed {
			l.room.Wait()
		}
		closed := l.closed
		l.mu.Unlock()
		if closed {
			return
		}

		c, err := l.ln.Accept()

		l.mu.Lock()
		if l.closed {
			l.mu.Unlock()
			if c != nil {
				_ = c.Close()
			}
			return
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			l.mu.Unlock()
			continue // paused (see watch)
		}
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				l.mu.Unlock()
				return
			}
			l.err = errnoOf(err)
		} else {
			l.queue = append(l.queue, c)
		}
		notify := l.notify
		l.mu.Unlock()
		if notify != nil {
			notify()
		}
		if err != nil {
			select {
			case <-l.done:
				return
			case <-time.After(acceptBackoff):
			}
		}
	}
}

// Accept takes one connection off fd's queue and enters it as a stream
// descriptor: EAGAIN when none waits. peer is the invalid AddrPort for a
// unix socket.
func Accept(fd int) (nfd int, peer netip.AddrPort, err error) {
	obj, err := lookup(fd)
	if err != nil {
		return -1, netip.AddrPort{}, err
	}
	l, ok := obj.(*listener)
	if !ok {
		return -1, netip.AddrPort{}, syscall.EINVAL
	}
	if l.raw != nil {
		return l.acceptRaw()
	}
	l.mu.Lock()
	if len(l.queue) == 0 {
		err, l.err = l.err, nil
		l.mu.Unlock()
		if err == nil {
			err = syscall.EAGAIN
		}
		return -1, netip.AddrPort{}, err
	}
	c := l.queue[0]
	l.queue[0] = nil
	l.queue = l.queue[1:]
	if len(l.queue) == 0 {
		l.queue = nil
	}
	inCap, outCap := l.inCap, l.outCap
	l.room.Signal()
	l.mu.Unlock()
	return enterAccepted(c, inCap, outCap)
}

// acceptRaw takes one connection from the system's backlog: EAGAIN when
// none waits, which sends the waiting goroutine back to waiting.
func (l *listener) acceptRaw() (int, netip.AddrPort, error) {
	l.mu.Lock()
	if err := l.err; err != nil {
		l.err = nil
		l.mu.Unlock()
		return -1, netip.AddrPort{}, err
	}
	inCap, outCap := l.inCap, l.outCap
	l.mu.Unlock()

	// A connection accepted before, whose descriptor could not be
	// duplicated for lack of descriptors, comes first.
	l.mu.Lock()
	f := l.held
	l.held = nil
	l.mu.Unlock()
	if f == nil {
		nfd := -1
		var aerr error
		if err := l.raw.Control(func(fd uintptr) { nfd, aerr = acceptSystem(int(fd)) }); err != nil {
			return -1, netip.AddrPort{}, errnoOf(err)
		}
		if aerr == syscall.EAGAIN || aerr == syscall.EWOULDBLOCK {
			l.mu.Lock()
			if l.pending {
				l.pending = false
				l.room.Signal()
			}
			l.mu.Unlock()
			return -1, netip.AddrPort{}, syscall.EAGAIN
		}
		if aerr != nil {
			return -1, netip.AddrPort{}, aerr
		}
		f = os.NewFile(uintptr(nfd), "accepted")
	}
	// net.FileConn duplicates the descriptor: out of descriptors, the
	// connection is kept for the next Accept, as the system would keep it
	// in the backlog, instead of being lost.
	c, err := net.FileConn(f)
	if err != nil {
		err = errnoOf(err)
		if errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
			l.mu.Lock()
			if !l.closed {
				l.held, f = f, nil
			}
			l.mu.Unlock()
		}
		if f != nil {
			_ = f.Close()
		}
		return -1, netip.AddrPort{}, err
	}
	_ = f.Close()
	if tc, ok := c.(*net.TCPConn); ok {
		// As accepted natively (and by a listener that disables them):
		// no keep-alive probes until the engine asks for them.
		_ = tc.SetKeepAlive(false)
	}
	return enterAccepted(c, inCap, outCap)
}

// enterAccepted enters an accepted connection as a stream descriptor.
func enterAccepted(c net.Conn, inCap, outCap int) (nfd int, peer netip.AddrPort, err error) {
	s := newStream()
	s.conn, s.inCap, s.outCap = c, inCap, outCap
	applyChanged(c, inCap, outCap)
	go s.readLoop(c)
	if tc, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		peer = tc.AddrPort()
	}
	return add(s), peer, nil
}

// Listener returns the net.Listener behind a listening descriptor; the
// descriptor still owns it.
func Listener(fd int) (net.Listener, error) {
	obj, err := lookup(fd)
	if err != nil {
		return nil, err
	}
	l, ok := obj.(*listener)
	if !ok {
		return nil, syscall.EINVAL
	}
	return l.ln, nil
}

func (l *listener) ready() Ready {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.closed && (len(l.queue) > 0 || l.pending || l.err != nil) {
		return Readable
	}
	return 0
}

// watch pauses accepting while the watcher does not want to read, or after
// it stopped watching: a deadline in the past makes the pending Accept
// return.
func (l *listener) watch(notify func(), read bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.notify = notify
	paused := notify == nil || !read
	if l.closed || paused == l.paused {
		return
	}
	l.paused = paused
	var t time.Time
	if paused {
		t = time.Now()
	}
	if l.rawFile != nil {
		_ = l.rawFile.SetReadDeadline(t)
	} else if d, ok := l.ln.(interface{ SetDeadline(time.Time) error }); ok {
		_ = d.SetDeadline(t)
	}
	l.room.Broadcast()
}

// close stops accepting; connections still queued are reset, as the
// kernel resets those in a closed listener's backlog.
func (l *listener) close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	l.notify = nil
	queue, held := l.queue, l.held
	l.queue, l.held = nil, nil
	close(l.done)
	l.room.Broadcast()
	l.mu.Unlock()
	for _, c := range queue {
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		_ = c.Close()
	}
	if held != nil {
		_ = held.Close()
	}
	if l.rawFile != nil {
		_ = l.rawFile.Close()
	}
	return errnoOf(l.ln.Close())
}
