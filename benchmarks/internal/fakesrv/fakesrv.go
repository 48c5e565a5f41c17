// Package fakesrv runs the small servers the benchmark tools' tests talk
// to: a listener whose connections each get a goroutine running a handler,
// and an echo handler that can be told to corrupt what it sends back.
package fakesrv

import (
	"net"
	"testing"
)

// Serve accepts connections on ln until it is closed, which happens when
// the test ends, and runs handle on each in a goroutine of its own; the
// connection is closed when handle returns. It returns ln's address.
func Serve(tb testing.TB, ln net.Listener, handle func(c net.Conn)) string {
	tb.Helper()
	tb.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				handle(c)
			}()
		}
	}()
	return ln.Addr().String()
}

// Listen is Serve on a new TCP listener on 127.0.0.1.
func Listen(tb testing.TB, handle func(c net.Conn)) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	return Serve(tb, ln, handle)
}

// Echo returns a handler that writes back what it reads, each read whole,
// until the connection fails. corrupt, when not nil, may change the bytes
// of the n-th read (from 0) before they are written back.
func Echo(corrupt func(n int, b []byte)) func(c net.Conn) {
	return func(c net.Conn) {
		buf := make([]byte, 16<<10)
		for n := 0; ; n++ {
			k, err := c.Read(buf)
			if err != nil {
				return
			}
			if corrupt != nil {
				corrupt(n, buf[:k])
			}
			if _, err := c.Write(buf[:k]); err != nil {
				return
			}
		}
	}
}
