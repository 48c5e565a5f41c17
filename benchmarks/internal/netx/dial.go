// Package netx opens the load generators' connections: many at once, from
// several loopback source addresses when one address's ephemeral ports are
// not enough.
package netx

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// PortsPerSource is how many connections one source address is given: well
// below the ~28,000 ephemeral ports of Linux's default range, so that ports
// left in TIME_WAIT by a previous run do not run out.
const PortsPerSource = 20000

// Sources returns the loopback source addresses for n connections:
// 127.0.0.2, 127.0.0.3 ... (every 127/8 address is local on Linux), or nil
// when one address, chosen by the kernel, is enough.
func Sources(n int) []netip.Addr {
	if n <= PortsPerSource {
		return nil
	}
	k := (n + PortsPerSource - 1) / PortsPerSource
	srcs := make([]netip.Addr, k)
	for i := range srcs {
		srcs[i] = netip.AddrFrom4([4]byte{127, 0, 0, byte(2 + i)})
	}
	return srcs
}

// DialAll opens n TCP connections to addr, at most parallel at a time, each
// within timeout, and returns them in order. Connection i comes from
// source i % len(srcs) when srcs is not empty. On the first failure it closes
// what it opened and returns the error with how many had succeeded.
func DialAll(addr string, n, parallel int, srcs []netip.Addr, timeout time.Duration) ([]net.Conn, error) {
	conns := make([]net.Conn, n)
	dialers := make([]*net.Dialer, max(len(srcs), 1))
	for i := range dialers {
		dialers[i] = &net.Dialer{Timeout: timeout}
		if len(srcs) > 0 {
			dialers[i].LocalAddr = &net.TCPAddr{IP: srcs[i].AsSlice()}
			dialers[i].Control = bindNoPort
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		opened   int
	)
	sem := make(chan struct{}, max(parallel, 1))
	for i := range conns {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c, err := dialers[i%len(dialers)].DialContext(ctx, "tcp", addr)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = err
					cancel()
				}
				return
			}
			conns[i] = c
			opened++
		}()
	}
	wg.Wait()
	if firstErr != nil {
		for _, c := range conns {
			if c != nil {
				_ = c.Close()
			}
		}
		return nil, fmt.Errorf("%d of %d connections opened: %w", opened, n, firstErr)
	}
	return conns, nil
}

// bindNoPort sets IP_BIND_ADDRESS_NO_PORT so that binding a source address
// leaves the port choice to connect, which can then share a port between
// different destinations and reuse TIME_WAIT ports as a plain connect does.
func bindNoPort(_, _ string, rc syscall.RawConn) error {
	var serr error
	err := rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT, 1)
	})
	if err != nil {
		return err
	}
	return serr
}
