//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows || evloop_portable

package evloop

import (
	"errors"
	"os"

	"github.com/evloop/evloop/internal/socket"
)

// flushBudget bounds the bytes one flush offers the kernel. A loopback or
// LAN socket's send buffer can take megabytes at once, and copying them in
// one go would keep the loop from its other connections for milliseconds;
// the rest waits for the next EPOLLOUT, one loop iteration later, as a
// read waits for the next EPOLLIN after one read of at most the read
// buffer. 256 KiB is a few tens of microseconds of copying, and large
// enough that a bulk transfer pays one wake per 256 KiB.
const flushBudget = 256 << 10

func (c *conn) OutboundBuffered() int {
	c.loopOnly("OutboundBuffered")
	return c.outbound.Buffered()
}

// usable reports why the handler may not write to c, if it may not.
func (c *conn) usable() error {
	if c.state != connOpen || c.flags&flagWantFIN != 0 {
		return ErrClosed
	}
	return c.failure()
}

func (c *conn) Write(p []byte) (int, error) {
	c.loopOnly("Write")
	if err := c.usable(); err != nil {
		return 0, err
	}
	if c.flags&flagTLS != 0 {
		return c.tlsWrite(p)
	}
	return c.writeRaw(p)
}

// writeRaw is Write to the socket: what the handler writes on a plain
// connection, TLS records on a TLS one.
func (c *conn) writeRaw(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	// All or nothing: a write that could exceed the hard cap is refused
	// before any of it reaches the socket.
	if err := c.reserve(len(p)); err != nil {
		return 0, err
	}
	if !c.outbound.IsEmpty() {
		// Bytes already wait: these go behind them, never around them.
		return c.buffer(p, 0)
	}
	n, err := c.writeOnce(p)
	if err != nil {
		return n, err
	}
	return c.buffer(p[n:], n)
}

func (c *conn) Writev(bufs [][]byte) (int, error) {
	c.loopOnly("Writev")
	if err := c.usable(); err != nil {
		return 0, err
	}
	if c.flags&flagTLS != 0 {
		return c.tlsWritev(bufs)
	}
	total := 0
	for _, b := range bufs {
		total += len(b)
	}
	if total == 0 {
		return 0, nil
	}
	if err := c.reserve(total); err != nil {
		return 0, err
	}
	written := 0
	if c.outbound.IsEmpty() {
		for written < total {
			n, offered, err := c.writevOnce(bufs, written)
			if err != nil {
				return written, err
			}
			written += n
			if n < offered {
				break // the kernel took less than offered: it is full
			}
		}
	}
	if written == total {
		return total, nil
	}
	if err := c.reserve(total - written); err != nil {
		return written, err
	}
	// Queue the unsent rest, buffer by buffer, skipping what went out.
	skip := written
	for _, b := range bufs {
		if skip >= len(b) {
			skip -= len(b)
			continue
		}
		if _, err := c.outbound.Write(b[skip:]); err != nil {
			c.fail(err)
			return written, err
		}
		skip = 0
	}
	c.outboundChanged()
	return total, c.failure()
}

// reserve checks that n more pending bytes stay within the hard cap, and
// fails the connection if they would not.
func (c *conn) reserve(n int) error {
	if c.outbound.Buffered()+n > c.loop.eng.opts.outLimit {
		c.fail(ErrOutboundFull)
		return ErrOutboundFull
	}
	return nil
}

// buffer queues p behind pending output and returns the count the caller
// reports: everything, as the bytes are now the loop's to deliver.
func (c *conn) buffer(p []byte, sent int) (int, error) {
	if len(p) == 0 {
		return sent, nil
	}
	if err := c.reserve(len(p)); err != nil {
		return sent, err
	}
	if _, err := c.outbound.Write(p); err != nil {
		c.fail(err)
		return sent, err
	}
	c.outboundChanged()
	return sent + len(p), nil
}

// writeOnce makes one write(2), retrying only EINTR. EAGAIN is not an error:
// it means nothing was taken.
func (c *conn) writeOnce(p []byte) (int, error) {
	for {
		n, err := socket.Write(int(c.fd), p)
		st := &c.loop.st
		st.writes++
		switch {
		case err == nil:
			if n > 0 {
				c.active()
				st.bytesOut += uint64(n)
			}
			if n < len(p) {
				st.blocked++
			}
			return n, nil
		case err == socket.EINTR:
			continue
		case err == socket.EAGAIN:
			st.blocked++
			return 0, nil
		default:
			err = os.NewSyscallError("write", err)
			c.fail(err)
			return 0, err
		}
	}
}

// writevOnce makes one writev(2) of bufs from byte offset off, and reports
// how many bytes it offered (at most socket.MaxIovecs buffers' worth).
func (c *conn) writevOnce(bufs [][]byte, off int) (n, offered int, err error) {
	iov, offered := c.loop.iovFrom(bufs, off)
	defer clear(iov) // do not keep the caller's buffers reachable
	for {
		n, err := socket.Writev(int(c.fd), iov)
		st := &c.loop.st
		st.writes++
		switch {
		case err == nil:
			if n > 0 {
				c.active()
				st.bytesOut += uint64(n)
			}
			if n < offered {
				st.blocked++
			}
			return n, offered, nil
		case err == socket.EINTR:
			continue
		case err == socket.EAGAIN:
			st.blocked++
			return 0, offered, nil
		default:
			err = os.NewSyscallError("writev", err)
			c.fail(err)
			return 0, offered, err
		}
	}
}

func (c *conn) Flush() error {
	c.loopOnly("Flush")
	if err := c.usable(); err != nil {
		return err
	}
	return c.flush()
}

// flush sends pending output, at most flushBudget bytes; the watermarks,
// the interest set and a pending FIN follow from what is left. Loop only.
func (c *conn) flush() error {
	for budget := flushBudget; budget > 0 && !c.outbound.IsEmpty(); {
		head, tail := c.outbound.Peek(budget)
		c.loop.pair[0], c.loop.pair[1] = head, tail
		n, offered, err := c.writevOnce(c.loop.pair[:], 0)
		c.loop.pair[0], c.loop.pair[1] = nil, nil
		if err != nil {
			return err
		}
		c.outbound.Discard(n)
		budget -= n
		if n < offered {
			break
		}
	}
	c.outboundChanged()
	return nil
}

// fail records the first error of a connection; the loop closes it with
// that error as soon as the running callback or task returns.
func (c *conn) fail(err error) {
	if c.flags&flagFailed != 0 || c.state == connClosed {
		return
	}
	if errors.Is(err, socket.EPIPE) || errors.Is(err, socket.ECONNRESET) {
		// The peer is gone; nothing pending can be delivered.
		c.outbound.Reset()
	}
	c.flags |= flagFailed
	c.loop.errs[c] = err
	c.loop.failed = append(c.loop.failed, c)
}
