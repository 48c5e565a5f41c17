package main

import (
	"context"
	"errors"
	"expvar"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/evloop/evloop"
)

// The -stats-addr endpoint: expvar's /debug/vars, on a plain net/http
// server of its own, with the engine's Stats (every loop's counters among
// them) as the variable "evloop", next to expvar's memstats and cmdline.

var (
	publishOnce sync.Once
	// serving is the engine whose Stats the "evloop" variable shows; a
	// variable can be published once per process, the engine changes
	// when serve runs again (the tests run it many times).
	serving atomic.Pointer[evloop.Engine]
)

// publishStats makes eng the engine behind the "evloop" variable.
func publishStats(eng evloop.Engine) {
	publishOnce.Do(func() {
		expvar.Publish("evloop", expvar.Func(func() any {
			if e := serving.Load(); e != nil {
				return e.Stats()
			}
			return nil
		}))
	})
	serving.Store(&eng)
}

// statsServer serves /debug/vars until it is shut down.
type statsServer struct {
	srv  *http.Server
	addr net.Addr
	done chan error
}

// startStats listens on addr (host:port) and serves /debug/vars there.
func startStats(addr string) (*statsServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/debug/vars", expvar.Handler())
	s := &statsServer{
		srv:  &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second},
		addr: ln.Addr(),
		done: make(chan error, 1),
	}
	go func() { s.done <- s.srv.Serve(ln) }()
	return s, nil
}

// stop shuts the endpoint down within stopTimeout.
func (s *statsServer) stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if serr := <-s.done; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}
