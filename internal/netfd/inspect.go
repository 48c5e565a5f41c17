package netfd

import (
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
	return s.conn.RemoteAddr(), nil
}
