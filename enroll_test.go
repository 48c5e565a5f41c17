//go:build unix

package evloop

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Enroll tests: connections made elsewhere, handed to a client engine,
// echo through it like dialed ones.

// TestEnrollNetConn enrolls connections made by net.Dial, TCP and unix:
// the engine serves them (the echo comes back through the handler), nc is
// closed, and the addresses are the socket's.
func TestEnrollNetConn(t *testing.T) {
	for _, network := range []string{"tcp", "unix"} {
		t.Run(network, func(t *testing.T) {
			addr := dtStdEcho(t, network)
			h := &dtEchoClient{}
			s := dtStartClient(t, h, WithLoops(2))
			for i := range 20 {
				nc, err := net.Dial(network, addr.String())
				if err != nil {
					t.Fatal(err)
				}
				local := nc.LocalAddr().String()
				c, err := s.eng.Enroll(nc)
				if err != nil {
					nc.Close()
					t.Fatalf("Enroll: %v", err)
				}
				if _, err := nc.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
					t.Errorf("write on nc after Enroll: %v, want net.ErrClosed", err)
				}
				if network == "tcp" && (c.LocalAddr().String() != local || c.RemoteAddr().String() != addr.String()) {
					t.Errorf("enrolled %v -> %v, want %v -> %v", c.LocalAddr(), c.RemoteAddr(), local, addr)
				}
				if err := dtSessionOn(h, c, uint64(i), 1+i*4000); err != nil {
					t.Fatalf("connection %d: %v", i, err)
				}
			}
			dtSettle(t, h, 20)
			if st := s.eng.Stats(); st.Enrolled != 20 || st.Dialed != 0 {
				t.Errorf("Stats = %+v, want 20 enrolled", st)
			}
		})
	}
}

// dtSessionOn runs one echo exchange on an open connection of h's engine.
func dtSessionOn(h *dtEchoClient, c Conn, seed uint64, size int) error {
	s := newDTSession(seed, size)
	h.sessions.Store(c, s)
	defer h.sessions.Delete(c)
	if err := c.AsyncWrite(s.want, nil); err != nil {
		return fmt.Errorf("AsyncWrite: %w", err)
	}
	select {
	case err := <-s.done:
		return err
	case <-time.After(10 * time.Second):
		return fmt.Errorf("no echo within 10s: %d of %d bytes", len(s.got), len(s.want))
	}
}

// TestEnrollFD enrolls raw descriptors: a blocking TCP socket connected
// with connect(2) (EnrollFD makes it non-blocking) and one end of a unix
// socket pair, whose other end the test talks on.
func TestEnrollFD(t *testing.T) {
	addr := dtStdEcho(t, "tcp").(*net.TCPAddr)
	h := &dtEchoClient{}
	s := dtStartClient(t, h, WithLoops(1))

	fd, err := tbSocket(unix.AF_INET, unix.SOCK_STREAM)
	if err != nil {
		t.Fatal(err)
	}
	sa := &unix.SockaddrInet4{Port: addr.Port}
	copy(sa.Addr[:], addr.IP.To4())
	if err := unix.Connect(fd, sa); err != nil {
		unix.Close(fd)
		t.Fatal(err)
	}
	c, err := s.eng.EnrollFD(fd)
	if err != nil {
		unix.Close(fd)
		t.Fatalf("EnrollFD(TCP): %v", err)
	}
	if err := dtSessionOn(h, c, 1, 300<<10); err != nil {
		t.Fatalf("TCP: %v", err)
	}

	pair, err := tbSocketpair(unix.AF_UNIX, unix.SOCK_STREAM)
	if err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(pair[1]), "pair")
	other, err := net.FileConn(f) // a dup: f is closed below
	f.Close()
	if err != nil {
		unix.Close(pair[0])
		t.Fatal(err)
	}
	defer other.Close()
	got := make(chan error, 1)
	go func() { _, err := io.Copy(other, other); got <- err }() // the far end echoes
	c, err = s.eng.EnrollFD(pair[0])
	if err != nil {
		unix.Close(pair[0])
		t.Fatalf("EnrollFD(socketpair): %v", err)
	}
	if c.RemoteAddr().Network() != "unix" {
		t.Errorf("RemoteAddr = %v (%s), want a unix address", c.RemoteAddr(), c.RemoteAddr().Network())
	}
	if err := dtSessionOn(h, c, 2, 100<<10); err != nil {
		t.Fatalf("socketpair: %v", err)
	}
	if err := tbRecv(t, got, 5*time.Second, "the far end's copy to end"); err != nil {
		t.Errorf("far end: %v", err)
	}
	dtSettle(t, h, 2)
}

// TestEnrollRejects: what is not a connected TCP or unix stream socket is
// refused with ErrBadSocket (and the errno, where the kernel gave one),
// and the descriptor is left open, still the caller's.
func TestEnrollRejects(t *testing.T) {
	s := dtStartClient(t, &dtEchoClient{}, WithLoops(1))
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	pipe := [2]int{int(pr.Fd()), int(pw.Fd())}
	mustSocket := func(domain, typ int) int {
		fd, err := tbSocket(domain, typ)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { unix.Close(fd) })
		return fd
	}
	udp := mustSocket(unix.AF_INET, unix.SOCK_DGRAM)
	listening := mustSocket(unix.AF_INET, unix.SOCK_STREAM)
	if err := unix.Bind(listening, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Listen(listening, 1); err != nil {
		t.Fatal(err)
	}
	unconnected := mustSocket(unix.AF_INET, unix.SOCK_STREAM)
	closedFD, err := tbSocket(unix.AF_INET, unix.SOCK_STREAM)
	if err != nil {
		t.Fatal(err)
	}
	unix.Close(closedFD)

	tests := []struct {
		name  string
		fd    int
		errno error // nil: none to check
		open  bool  // the fd must still be open after the refusal
	}{
		{name: "pipe", fd: pipe[0], errno: syscall.ENOTSOCK, open: true},
		{name: "udp socket", fd: udp, open: true},
		{name: "listening socket", fd: listening, open: true},
		{name: "unconnected socket", fd: unconnected, errno: syscall.ENOTCONN, open: true},
		{name: "closed descriptor", fd: closedFD, errno: syscall.EBADF},
		{name: "negative", fd: -1, errno: syscall.EBADF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := s.eng.EnrollFD(tt.fd)
			if c != nil || !errors.Is(err, ErrBadSocket) {
				t.Fatalf("EnrollFD = (%v, %v), want ErrBadSocket", c, err)
			}
			if tt.errno != nil && !errors.Is(err, tt.errno) {
				t.Errorf("EnrollFD = %v, want it to match %v", err, tt.errno)
			}
			t.Logf("%v", err)
			if _, ferr := unix.FcntlInt(uintptr(tt.fd), unix.F_GETFD, 0); tt.open && ferr != nil {
				t.Errorf("the descriptor was closed: %v", ferr)
			}
		})
	}
	udpConn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer udpConn.Close()
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	for _, nc := range []net.Conn{udpConn, a} {
		if c, err := s.eng.Enroll(nc); c != nil || !errors.Is(err, ErrBadSocket) {
			t.Errorf("Enroll(%T) = (%v, %v), want ErrBadSocket", nc, c, err)
		}
	}
	if err := udpConn.SetDeadline(time.Time{}); err != nil {
		t.Errorf("the refused *net.UDPConn was closed: %v", err)
	}
	if _, err := (Engine{}).EnrollFD(pipe[0]); !errors.Is(err, ErrEngineStopped) {
		t.Errorf("zero Engine's EnrollFD = %v, want ErrEngineStopped", err)
	}
	// A unixgram socket passes the type check of Enroll but not the
	// kernel's.
	gram, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: t.TempDir() + "/g.sock", Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer gram.Close()
	if c, err := s.eng.Enroll(gram); c != nil || !errors.Is(err, ErrBadSocket) {
		t.Errorf("Enroll(unixgram) = (%v, %v), want ErrBadSocket", c, err)
	}
	if _, err := gram.WriteTo([]byte("x"), gram.LocalAddr()); err != nil {
		t.Errorf("the refused unixgram connection was closed: %v", err)
	}
}
