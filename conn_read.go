//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows || evloop_portable

package evloop

import (
	"fmt"
	"io"
)

// Inbound bytes live in one of two places. Right after a read they are a
// view of the loop's read buffer (l.view, valid while l.cur == c), which is
// what keeps the common case copy-free. Whatever the handler leaves unread
// is copied into c.inbound when the callback returns, and later reads are
// appended there, so the two are never both non-empty.

// view returns the read-buffer bytes this connection is being shown.
func (c *conn) view() []byte {
	if c.loop.cur == c {
		return c.loop.view
	}
	return nil
}

func (c *conn) InboundBuffered() int {
	c.loopOnly("InboundBuffered")
	return len(c.view()) + c.inbound.Buffered()
}

func (c *conn) Peek(n int) ([]byte, error) {
	c.loopOnly("Peek")
	buffered := c.InboundBuffered()
	var err error
	if n < 0 || n > buffered {
		if n > buffered {
			err = ErrShortBuffer
		}
		n = buffered
	}
	if v := c.view(); len(v) > 0 {
		return v[:n:n], err
	}
	head, tail := c.inbound.Peek(n)
	if len(tail) == 0 {
		return head[:len(head):len(head)], err
	}
	// The bytes wrap around the ring's end: hand out a contiguous copy.
	s := c.loop.scratchFor(n)
	copy(s[copy(s, head):], tail)
	return s, err
}

func (c *conn) Next(n int) ([]byte, error) {
	c.loopOnly("Next")
	b, err := c.Peek(n)
	c.discard(len(b))
	return b, err
}

func (c *conn) Discard(n int) (int, error) {
	c.loopOnly("Discard")
	if n < 0 {
		return 0, fmt.Errorf("%w: Discard(%d)", ErrNegativeSize, n)
	}
	return c.discard(n), nil
}

// discard drops up to n bytes. A ring emptied here keeps its memory until
// the callback returns: slices handed out by Next may still point into it.
func (c *conn) discard(n int) int {
	if v := c.view(); len(v) > 0 {
		n = min(n, len(v))
		c.loop.view = v[n:]
		return n
	}
	d, _ := c.inbound.Discard(n)
	return d
}

func (c *conn) Read(p []byte) (int, error) {
	c.loopOnly("Read")
	if len(p) == 0 {
		return 0, nil
	}
	if v := c.view(); len(v) > 0 {
		n := copy(p, v)
		c.loop.view = v[n:]
		return n, nil
	}
	if c.inbound.IsEmpty() {
		return 0, io.EOF
	}
	return c.inbound.Read(p)
}
