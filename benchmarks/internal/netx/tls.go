package netx

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"
)

// HandshakeAll makes each of conns a TLS client connection with cfg and
// completes its handshake, at most parallel at a time, each within
// timeout. It returns the TLS connections in order; on the first failure
// it returns the error (the caller closes conns).
//
// With drain, each connection then reads for up to drain what the server
// sent after the handshake (TLS 1.3 session tickets), so that nothing is
// left unread on the socket; application data there is an error.
func HandshakeAll(conns []net.Conn, cfg *tls.Config, parallel int, timeout, drain time.Duration) ([]net.Conn, error) {
	out := make([]net.Conn, len(conns))
	errs := make([]error, len(conns))
	sem := make(chan struct{}, max(parallel, 1))
	var wg sync.WaitGroup
	for i, c := range conns {
		tc := tls.Client(c, cfg)
		out[i] = tc
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := handshake(tc, timeout)
			<-sem
			if err == nil && drain > 0 {
				err = drainTickets(tc, drain) // without the semaphore: it only waits
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("TLS connection %d of %d: %w", i+1, len(conns), err)
		}
	}
	return out, nil
}

func handshake(tc *tls.Conn, timeout time.Duration) error {
	if err := tc.SetDeadline(time.Now().Add(timeout)); err != nil {
		return err
	}
	if err := tc.Handshake(); err != nil {
		return fmt.Errorf("handshake: %w", err)
	}
	return tc.SetDeadline(time.Time{})
}

// drainTickets reads tc for d: crypto/tls handles the session tickets,
// and the read ends at the deadline, which does not break the connection.
func drainTickets(tc *tls.Conn, d time.Duration) error {
	if err := tc.SetReadDeadline(time.Now().Add(d)); err != nil {
		return err
	}
	var b [1]byte
	n, err := tc.Read(b[:])
	if n > 0 {
		return errors.New("the server sent data unasked")
	}
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		return fmt.Errorf("after the handshake: %w", err)
	}
	return tc.SetReadDeadline(time.Time{})
}
