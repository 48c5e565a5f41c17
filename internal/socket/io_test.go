//go:build linux && !evloop_portable

package socket

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// TestAcceptReadWriteWritev drives one TCP connection from package net's
// side through Accept, Read, Write and Writev on the server side.
func TestAcceptReadWriteWritev(t *testing.T) {
	checkNoFDLeak(t)
	l := mustListen(t, "tcp", "127.0.0.1:0", Options{})
	c := dial(t, "tcp", l.Addr.String())
	nfd, sa := acceptOne(t, l)

	if got, want := sa.String(), c.LocalAddr().String(); got != want {
		t.Fatalf("accepted peer %s, client is %s", got, want)
	}
	fl, err := unix.FcntlInt(uintptr(nfd), unix.F_GETFL, 0)
	if err != nil || fl&unix.O_NONBLOCK == 0 {
		t.Fatalf("accepted fd not non-blocking: flags %#x, %v", fl, err)
	}

	// Client to server, read back with Read.
	up := pattern(200<<10, 1)
	errc := make(chan error, 1)
	go func() {
		_, err := c.Write(up)
		errc <- err
	}()
	got := make([]byte, 0, len(up))
	buf := make([]byte, 16<<10)
	for i := 0; len(got) < len(up) && i < 100000; i++ {
		n, err := Read(nfd, buf)
		switch {
		case errors.Is(err, unix.EAGAIN):
			waitFD(t, nfd, unix.POLLIN)
		case err != nil:
			t.Fatalf("Read: %v", err)
		case n == 0:
			t.Fatalf("Read: EOF after %d bytes", len(got))
		default:
			got = append(got, buf[:n]...)
		}
	}
	if err := <-errc; err != nil {
		t.Fatalf("client write: %v", err)
	}
	if !bytes.Equal(got, up) {
		t.Fatalf("server read %d bytes that differ from the %d sent", len(got), len(up))
	}

	// Server to client with Write, then a Writev larger than the socket
	// buffer so the loop meets EAGAIN and short writes.
	hello := []byte("hello")
	if n, err := Write(nfd, hello); n != len(hello) || err != nil {
		t.Fatalf("Write = (%d, %v), want (%d, nil)", n, err, len(hello))
	}
	bufs := [][]byte{pattern(300<<10, 2), nil, pattern(1, 3), pattern(700<<10, 4), {}}
	want := append(append([]byte(nil), hello...), bytes.Join(bufs, nil)...)
	readc := make(chan []byte, 1)
	go func() {
		b := make([]byte, len(want))
		n, err := io.ReadFull(c, b)
		if err != nil {
			errc <- err
			return
		}
		readc <- b[:n]
	}()
	writevAll(t, nfd, bufs)
	select {
	case err := <-errc:
		t.Fatalf("client read: %v", err)
	case b := <-readc:
		if !bytes.Equal(b, want) {
			t.Fatalf("client received %d bytes that differ from the %d written", len(b), len(want))
		}
	}

	// The client closing shows up as Read returning (0, nil).
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	waitFD(t, nfd, unix.POLLIN)
	if n, err := Read(nfd, buf); n != 0 || err != nil {
		t.Fatalf("Read after peer close = (%d, %v), want (0, nil)", n, err)
	}
}

func TestLocalAndPeerAddr(t *testing.T) {
	checkNoFDLeak(t)
	l := mustListen(t, "tcp", "127.0.0.1:0", Options{})
	c := dial(t, "tcp", l.Addr.String())
	nfd, _ := acceptOne(t, l)

	local, err := LocalAddr(nfd, "tcp")
	if err != nil || local.String() != c.RemoteAddr().String() {
		t.Fatalf("LocalAddr = %v, %v; want %v", local, err, c.RemoteAddr())
	}
	peer, err := PeerAddr(nfd, "tcp")
	if err != nil || peer.String() != c.LocalAddr().String() {
		t.Fatalf("PeerAddr = %v, %v; want %v", peer, err, c.LocalAddr())
	}
	if _, ok := peer.(*net.TCPAddr); !ok {
		t.Fatalf("PeerAddr is %T, want *net.TCPAddr", peer)
	}

	tests := []struct {
		name    string
		call    func() (net.Addr, error)
		syscall string
		errno   error
	}{
		{name: "local bad fd", call: func() (net.Addr, error) { return LocalAddr(-1, "tcp") }, syscall: "getsockname", errno: unix.EBADF},
		{name: "peer bad fd", call: func() (net.Addr, error) { return PeerAddr(-1, "tcp") }, syscall: "getpeername", errno: unix.EBADF},
		{name: "peer of listener", call: func() (net.Addr, error) { return PeerAddr(l.FD, "tcp") }, syscall: "getpeername", errno: unix.ENOTCONN},
	}
	for _, tt := range tests {
		a, err := tt.call()
		var se *os.SyscallError
		if a != nil || !errors.Is(err, tt.errno) || !errors.As(err, &se) || se.Syscall != tt.syscall {
			t.Errorf("%s: got (%v, %v), want an %s error wrapping %v", tt.name, a, err, tt.syscall, tt.errno)
		}
	}
}
