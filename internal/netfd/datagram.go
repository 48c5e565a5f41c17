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

// maxRead is the reader's buffer: larger than any UDP payload, so a
// datagram arrives whole and the reader of a slot can tell it was longer.
const maxRead = 64 << 10

// datagram is a bound UDP socket: a reader goroutine takes one datagram at
// a time from the system's buffer, when the one before was read, for the
// same reason a listener accepts one connection at a time: a socket handed
// to another process keeps what was not read in the buffer they share.
type datagram struct {
	mu     sync.Mutex
	resume sync.Cond // the reader waits on it while paused
	// paused: as for a listener, datagrams stay in the system's buffer
	// while the watcher does not want to read, so a process the socket was
	// handed to receives them.
	paused bool
	conn   *net.UDPConn
	notify func()
	queue  []packet // queue[head:] waits to be read
	head   int
	queued int // bytes of the buffers in queue, as a kernel counts them
	inCap  int
	closed bool
	// key identifies the system socket when hasKey (see siblings).
	key    socketKey
	hasKey bool
}

type packet struct {
	data *[]byte // pooled
	peer netip.AddrPort
}

// ListenPacket enters a bound UDP socket as a descriptor that owns it.
func ListenPacket(c *net.UDPConn) int {
	d := &datagram{conn: c, inCap: DefaultRecvBuffer}
	d.resume.L = &d.mu
	if d.key, d.hasKey = socketKeyOf(c); d.hasKey {
		joinSiblings(d)
	}
	go d.readLoop()
	return add(d)
}

func (d *datagram) readLoop() {
	buf := make([]byte, maxRead)
	for {
		d.mu.Lock()
		for (d.paused || d.head < len(d.queue)) && !d.closed {
			d.resume.Wait()
		}
		d.mu.Unlock()
		n, peer, err := d.conn.ReadFromUDPAddrPort(buf)
		d.mu.Lock()
		closed := d.closed
		d.mu.Unlock()
		if closed || errors.Is(err, net.ErrClosed) {
			return
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			continue // paused (see watch)
		}
		if err != nil {
			// An ICMP error for an earlier send (port unreachable) fails
			// a read on some systems; the kernel would not report it to
			// an unconnected socket, so it is dropped too.
			continue
		}
		d.mu.Lock()
		b := getBuffer(n)
		dropped := d.queued+cap(*b) > d.inCap
		if dropped {
			putBuffer(b)
		} else {
			*b = append(*b, buf[:n]...)
			d.queue = append(d.queue, packet{data: b, peer: peer})
			d.queued += cap(*b)
		}
		notify := d.notify
		paused := d.paused
		d.mu.Unlock()
		if notify != nil && !dropped {
			notify()
		}
		if paused {
			// Taken just as the watcher stopped wanting to read.
			d.handOff()
		}
	}
}

func datagramOf(fd int) (*datagram, error) {
	obj, err := lookup(fd)
	if err != nil {
		return nil, err
	}
	d, ok := obj.(*datagram)
	if !ok {
		return nil, syscall.ENOTSOCK
	}
	return d, nil
}

// RecvFrom copies the next datagram into p and returns its length (the
// whole datagram's, which exceeds len(p) when it was cut) and sender; EAGAIN
// when none waits.
func RecvFrom(fd int, p []byte) (n int, peer netip.AddrPort, err error) {
	d, err := datagramOf(fd)
	if err != nil {
		return 0, netip.AddrPort{}, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.head == len(d.queue) {
		return 0, netip.AddrPort{}, syscall.EAGAIN
	}
	pk := d.queue[d.head]
	d.queue[d.head] = packet{}
	if d.head++; d.head == len(d.queue) {
		d.queue, d.head = d.queue[:0], 0
		d.resume.Signal()
	}
	d.queued -= cap(*pk.data)
	copy(p, *pk.data)
	n = len(*pk.data)
	putBuffer(pk.data)
	return n, pk.peer, nil
}

// SendTo sends p to peer at once.
func SendTo(fd int, p []byte, peer netip.AddrPort) (int, error) {
	d, err := datagramOf(fd)
	if err != nil {
		return 0, err
	}
	n, err := d.conn.WriteToUDPAddrPort(p, peer)
	return n, errnoOf(err)
}

// PacketConn returns the *net.UDPConn behind a datagram descriptor; the
// descriptor still owns it.
func PacketConn(fd int) (*net.UDPConn, error) {
	d, err := datagramOf(fd)
	if err != nil {
		return nil, err
	}
	return d.conn, nil
}

func (d *datagram) ready() Ready {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return 0
	}
	if d.head < len(d.queue) {
		return Readable | Writable
	}
	return Writable
}

// watch pauses receiving as a listener's watch pauses accepting.
// What it took before it paused goes to a sibling that receives; once it
// receives again, it takes over what paused siblings hold.
func (d *datagram) watch(notify func(), read bool) {
	d.mu.Lock()
	d.notify = notify
	paused := notify == nil || !read
	if d.closed || paused == d.paused {
		d.mu.Unlock()
		return
	}
	d.paused = paused
	var t time.Time
	if paused {
		t = time.Now()
	}
	_ = d.conn.SetReadDeadline(t)
	d.resume.Broadcast()
	d.mu.Unlock()
	if paused {
		d.handOff()
	} else {
		d.pullFromSiblings()
	}
}

func (d *datagram) close() error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil
	}
	d.closed = true
	d.notify = nil
	d.resume.Broadcast()
	d.mu.Unlock()
	if d.hasKey {
		d.handOff()
		leaveSiblings(d)
	}
	d.mu.Lock()
	for _, pk := range d.queue[d.head:] {
		putBuffer(pk.data)
	}
	d.queue, d.head = nil, 0
	d.mu.Unlock()
	return errnoOf(d.conn.Close())
}
