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

// listener is a listening stream socket: an accept goroutine takes one
// connection at a time from the system's backlog into queue, and only when
// queue is empty, and Accept takes it from there. Taking more ahead would
// gain little (the system queues them anyway) and lose connections that a
// successor process could accept from the shared socket: closing a
// listener resets whatever sits in its queue.
type listener struct {
	mu     sync.Mutex
	room   sync.Cond
	ln     net.Listener
	notify func()
	queue  []net.Conn
	err    error // an accept error, returned once by Accept
	closed bool
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
	go l.acceptLoop()
	return add(l)
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
	if !l.closed && (len(l.queue) > 0 || l.err != nil) {
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
	if d, ok := l.ln.(interface{ SetDeadline(time.Time) error }); ok {
		var t time.Time
		if paused {
			t = time.Now()
		}
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
	queue := l.queue
	l.queue = nil
	close(l.done)
	l.room.Broadcast()
	l.mu.Unlock()
	for _, c := range queue {
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		_ = c.Close()
	}
	return errnoOf(l.ln.Close())
}
