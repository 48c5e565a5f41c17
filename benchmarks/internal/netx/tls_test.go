package netx

import (
	"crypto/tls"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/evloop/evloop/benchmarks/internal/fakesrv"
	"github.com/evloop/evloop/benchmarks/internal/tlscert"
)

// pending reports whether bytes wait unread on c's socket.
func pending(t *testing.T, c net.Conn) bool {
	t.Helper()
	rc, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var b [1]byte
	var n int
	var rerr error
	if err := rc.Control(func(fd uintptr) {
		n, _, rerr = unix.Recvfrom(int(fd), b[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
	}); err != nil {
		t.Fatal(err)
	}
	return n > 0 || !errors.Is(rerr, unix.EAGAIN)
}

// TestHandshakeAllDrainsTickets: after the handshakes, with drain, the
// TLS 1.3 session tickets the server sent are read, and nothing is left on
// the sockets; each connection still works.
func TestHandshakeAllDrainsTickets(t *testing.T) {
	cfg, err := tlscert.Config()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := DialAll(fakesrv.Serve(t, ln, fakesrv.Echo(nil)), 4, 2, nil, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, c := range raw {
			c.Close()
		}
	}()
	conns, err := HandshakeAll(raw, tlscert.Client(), 2, 5*time.Second, 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range conns {
		tc := c.(*tls.Conn)
		if v := tc.ConnectionState().Version; v != tls.VersionTLS13 || tc.ConnectionState().DidResume {
			t.Errorf("connection %d: %s, resumed %v", i, tls.VersionName(v), tc.ConnectionState().DidResume)
		}
		if pending(t, raw[i]) {
			t.Errorf("connection %d: bytes left unread after the drain", i)
		}
		if _, err := c.Write([]byte("ping")); err != nil {
			t.Fatal(err)
		}
		b := make([]byte, 4)
		if _, err := c.Read(b); err != nil || string(b) != "ping" {
			t.Fatalf("connection %d after the drain: %q, %v", i, b, err)
		}
	}
}

// TestHandshakeAllFails: a server that does not speak TLS fails the
// handshakes, and the error says which connection.
func TestHandshakeAllFails(t *testing.T) {
	addr := fakesrv.Listen(t, func(c net.Conn) {
		_, _ = c.Write([]byte("HTTP/1.1 400 Bad Request\r\n\r\n"))
	})
	raw, err := DialAll(addr, 2, 2, nil, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_, err = HandshakeAll(raw, tlscert.Client(), 2, 5*time.Second, 0)
	if err == nil || !strings.Contains(err.Error(), "TLS connection 1 of 2: handshake") {
		t.Fatalf("handshakes with a plain server: %v", err)
	}
}
