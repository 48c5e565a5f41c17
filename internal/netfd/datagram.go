package netfd

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"syscall"
)

// maxRead is the reader's buffer: larger than any UDP payload, so a
// datagram arrives whole and the reader of a slot can tell it was longer.
const maxRead = 64 << 10

// datagram is a bound UDP socket: a reader goroutine queues what arrives,
// up to inCap bytes, and drops the rest as a full kernel buffer does.
type datagram struct {
	mu     sync.Mutex
	conn   *net.UDPConn
	notify func()
	queue  []packet
	queued int // bytes in queue
	inCap  int
	closed bool
}

type packet struct {
	data []byte
	peer netip.AddrPort
}

// ListenPacket enters a bound UDP socket as a descriptor that owns it.
func ListenPacket(c *net.UDPConn) int {
	d := &datagram{conn: c, inCap: DefaultRecvBuffer}
	go d.readLoop()
	return add(d)
}

func (d *datagram) readLoop() {
	buf := make([]byte, maxRead)
	for {
		n, peer, err := d.conn.ReadFromUDPAddrPort(buf)
		d.mu.Lock()
		closed := d.closed
		d.mu.Unlock()
		if closed || errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			// An ICMP error for an earlier send (port unreachable) fails
			// a read on some systems; the kernel would not report it to
			// an unconnected socket, so it is dropped too.
			continue
		}
		d.mu.Lock()
		dropped := d.queued+n > d.inCap
		if !dropped {
			d.queue = append(d.queue, packet{data: append([]byte(nil), buf[:n]...), peer: peer})
			d.queued += n
		}
		notify := d.notify
		d.mu.Unlock()
		if notify != nil && !dropped {
			notify()
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
	if len(d.queue) == 0 {
		return 0, netip.AddrPort{}, syscall.EAGAIN
	}
	pk := d.queue[0]
	d.queue[0] = packet{}
	d.queue = d.queue[1:]
	if len(d.queue) == 0 {
		d.queue = nil
	}
	d.queued -= len(pk.data)
	copy(p, pk.data)
	return len(pk.data), pk.peer, nil
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
	if len(d.queue) > 0 {
		return Readable | Writable
	}
	return Writable
}

func (d *datagram) watch(notify func()) {
	d.mu.Lock()
	d.notify = notify
	d.mu.Unlock()
}

func (d *datagram) close() error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil
	}
	d.closed = true
	d.notify = nil
	d.queue = nil
	d.mu.Unlock()
	return errnoOf(d.conn.Close())
}
