package netfd

import (
	"io"
	"net"
	"syscall"
)

// Info describes what a descriptor is.
type Info struct {
	Stream, Datagram, Listening bool
	// Local is the bound address (nil for a stream still dialing).
	Local net.Addr
}

// Inspect describes fd.
func Inspect(fd int) (Info, error) {
	obj, err := lookup(fd)
	if err != nil {
		return Info{}, err
	}
	switch o := obj.(type) {
	case *stream:
		o.mu.Lock()
		defer o.mu.Unlock()
		in := Info{Stream: true}
		if o.conn != nil {
			in.Local = o.conn.LocalAddr()
		}
		return in, nil
	case *listener:
		return Info{Stream: true, Listening: true, Local: o.ln.Addr()}, nil
	case *datagram:
		return Info{Datagram: true, Local: o.conn.LocalAddr()}, nil
	case *foreign:
		return o.info, o.err
	}
	return Info{}, syscall.ENOTSOCK
}

// PeerAddr returns the address of a connected stream's peer: ENOTCONN for
// anything else, or while dialing.
func PeerAddr(fd int) (net.Addr, error) {
	obj, err := lookup(fd)
	if err != nil {
		return nil, err
	}
	s, ok := obj.(*stream)
	if !ok {
		return nil, syscall.ENOTCONN
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil {
		return nil, syscall.ENOTCONN
	}
	a := s.conn.RemoteAddr()
	if tcp, ok := a.(*net.TCPAddr); a == nil || ok && tcp == nil {
		return nil, syscall.ENOTCONN
	}
	return a, nil
}

// foreign is a socket (or other file) taken over from the system that the
// engine cannot serve: a unix datagram socket, a pipe. It exists so that
// asking what it is gives the same answers as natively.
type foreign struct {
	c    io.Closer
	info Info
	err  error // what Inspect says, for what is not a socket
}

// Foreign enters c, described by info (or failing Inspect with err), as a
// descriptor that owns c and is never ready.
func Foreign(c io.Closer, info Info, err error) int {
	return add(&foreign{c: c, info: info, err: err})
}

func (f *foreign) ready() Ready       { return 0 }
func (f *foreign) watch(func(), bool) {}
func (f *foreign) close() error       { return f.c.Close() }
