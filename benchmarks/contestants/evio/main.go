// Command evio is the tidwall/evio contestant: -loops loops (NumLoops),
// round-robin as evloop's acceptor does, each connection reading into its
// loop's shared buffer (evio's ReuseInputBuffer option; by default evio
// copies every read), and TCP_NODELAY set on accepted connections as
// evloop does (evio leaves Nagle's algorithm on and has no option for it).
// evio copies a reply into the connection and writes it when the socket is
// next reported writable: that is its design, kept as is.
package main

import (
	"fmt"
	"reflect"

	"github.com/tidwall/evio"
	"golang.org/x/sys/unix"

	"github.com/evloop/evloop/benchmarks/internal/plaintext"
	"github.com/evloop/evloop/benchmarks/internal/server"
)

// session is an HTTP connection's state: the partial request evio's
// InputStream keeps between reads, and the connection's response buffer,
// which evio copies from once Data returns.
type session struct {
	is  evio.InputStream
	out []byte
}

func main() {
	cfg := server.Setup("evio", "echo", "http")
	var ev evio.Events
	ev.NumLoops = cfg.Loops
	ev.LoadBalance = evio.RoundRobin
	http := cfg.Proto == "http"
	ev.Opened = func(c evio.Conn) ([]byte, evio.Options, evio.Action) {
		if err := setNoDelay(c); err != nil {
			server.Fatal("evio", err)
		}
		if http {
			c.SetContext(&session{})
		}
		return nil, evio.Options{ReuseInputBuffer: true}, evio.None
	}
	if http {
		dates := plaintext.StartDates()
		ev.Data = func(c evio.Conn, in []byte) ([]byte, evio.Action) {
			s := c.Context().(*session)
			data := s.is.Begin(in)
			out, used, keepAlive := plaintext.Answer(s.out[:0], data, dates.Get())
			s.out = out
			s.is.End(data[used:])
			if !keepAlive {
				return out, evio.Close
			}
			return out, evio.None
		}
	} else {
		ev.Data = func(_ evio.Conn, in []byte) ([]byte, evio.Action) { return in, evio.None }
	}
	server.Fatal("evio", evio.Serve(ev, "tcp://"+cfg.Addr))
}

// setNoDelay sets TCP_NODELAY on c's socket. evio.Conn does not expose the
// descriptor, so it is read from evio's connection struct (evio v1.0.8,
// pinned in go.mod); a change there fails the first connection loudly.
func setNoDelay(c evio.Conn) error {
	v := reflect.ValueOf(c)
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return fmt.Errorf("evio.Conn is a %T, not a pointer to a struct: cannot find its descriptor", c)
	}
	fd := v.FieldByName("fd")
	if !fd.IsValid() || !fd.CanInt() {
		return fmt.Errorf("evio.Conn (%T) has no integer fd field: cannot set TCP_NODELAY", c)
	}
	return unix.SetsockoptInt(int(fd.Int()), unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
}
