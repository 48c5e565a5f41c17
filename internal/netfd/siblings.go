package netfd

import "sync"

// Datagram sockets can be handed over within the process (a successor
// engine adopting duplicates of the same system socket). The reader
// goroutine of one that stops receiving may already hold a datagram it
// took from the buffer they share; siblings passes such datagrams to
// another descriptor object on the same system socket, which the system
// would have let receive them, instead of losing them.
var siblings struct {
	mu    sync.Mutex
	byKey map[socketKey][]*datagram
}

func joinSiblings(d *datagram) {
	siblings.mu.Lock()
	defer siblings.mu.Unlock()
	if siblings.byKey == nil {
		siblings.byKey = make(map[socketKey][]*datagram)
	}
	siblings.byKey[d.key] = append(siblings.byKey[d.key], d)
}

func leaveSiblings(d *datagram) {
	siblings.mu.Lock()
	defer siblings.mu.Unlock()
	list := siblings.byKey[d.key]
	for i, o := range list {
		if o == d {
			list = append(list[:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(siblings.byKey, d.key)
	} else {
		siblings.byKey[d.key] = list
	}
}

// siblingsOf returns the other objects on d's system socket.
func siblingsOf(d *datagram) []*datagram {
	siblings.mu.Lock()
	defer siblings.mu.Unlock()
	var out []*datagram
	for _, o := range siblings.byKey[d.key] {
		if o != d {
			out = append(out, o)
		}
	}
	return out
}

// handOff passes the datagrams d holds, while it does not receive (paused
// or closed), to a sibling that receives, or, when d is closed, to any
// open sibling. What finds no taker stays with d, or is dropped when d is
// closed, as the system drops a closed socket's buffer.
func (d *datagram) handOff() {
	if !d.hasKey {
		return
	}
	d.mu.Lock()
	if !(d.paused || d.closed) || d.head == len(d.queue) {
		d.mu.Unlock()
		return
	}
	closed := d.closed
	d.mu.Unlock()
	var to *datagram
	for _, o := range siblingsOf(d) {
		o.mu.Lock()
		open, receiving := !o.closed, !o.closed && !o.paused
		o.mu.Unlock()
		if receiving || open && closed && to == nil {
			to = o
		}
		if receiving {
			break
		}
	}
	if to == nil {
		return
	}
	d.mu.Lock()
	held := append([]packet(nil), d.queue[d.head:]...)
	for i := d.head; i < len(d.queue); i++ {
		d.queue[i] = packet{}
	}
	d.queue, d.head, d.queued = d.queue[:0], 0, 0
	d.resume.Signal()
	d.mu.Unlock()

	to.mu.Lock()
	if to.closed {
		to.mu.Unlock()
		for _, pk := range held {
			putBuffer(pk.data)
		}
		return
	}
	for _, pk := range held {
		to.queue = append(to.queue, pk)
		to.queued += cap(*pk.data)
	}
	notify := to.notify
	to.mu.Unlock()
	if notify != nil {
		notify()
	}
}

// pullFromSiblings takes over what siblings that do not receive hold, once
// d receives again.
func (d *datagram) pullFromSiblings() {
	if !d.hasKey {
		return
	}
	for _, o := range siblingsOf(d) {
		o.handOff()
	}
}
