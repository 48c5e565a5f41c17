package evloop

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// tagEcho answers every message, on a stream or a datagram, with its tag
// followed by the message, so a client sees which engine served it.
type tagEcho struct {
	BaseHandler
	tag string
}

func (h tagEcho) OnTraffic(c Conn) Action {
	b, _ := c.Next(-1)
	_, _ = c.Writev([][]byte{[]byte(h.tag), b})
	return None
}

// startEngineAddrs is startEngine for any number of addresses, none
// included.
func startEngineAddrs(tb testing.TB, h EventHandler, addrs []string, opts ...Option) *testServer {
	tb.Helper()
	hook := &bootHook{EventHandler: h, booted: make(chan Engine, 1)}
	s := &testServer{errc: make(chan error, 1)}
	go func() { s.errc <- RunAddrs(hook.forwarding(h), addrs, opts...) }()
	select {
	case s.eng = <-hook.booted:
	case err := <-s.errc:
		tb.Fatalf("RunAddrs returned before boot: %v", err)
	case <-time.After(10 * time.Second):
		tb.Fatal("engine did not boot within 10s")
	}
	if a := s.eng.Addrs(); len(a) > 0 {
		s.addr = a[0]
	}
	tb.Cleanup(func() { s.stop(tb) })
	return s
}

// tbAsk sends msg on c and returns the reply (one read).
func tbAsk(tb testing.TB, c net.Conn, msg string) string {
	tb.Helper()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, msg); err != nil {
		tb.Fatalf("write: %v", err)
	}
	buf := make([]byte, 256)
	n, err := c.Read(buf)
	if err != nil {
		tb.Fatalf("read: %v", err)
	}
	return string(buf[:n])
}

// TestListenersHandOver: an engine's sockets (each loop's own in reuseport
// mode: TCP, and a Unix stream socket and UDP besides) handed to a second
// engine with Listeners and WithListeners. The second serves every
// address; Drain stops the first from accepting while its connection
// stays served, returns once that connection is closed, and the first
// engine's stop leaves the Unix socket file to the second.
func TestListenersHandOver(t *testing.T) {
	tbSkipUnlessReusePortBalances(t)
	sock := filepath.Join(t.TempDir(), "s.sock")
	a := startEngineAddrs(t, tagEcho{tag: "A:"}, []string{"tcp://127.0.0.1:0", "unix://" + sock, "udp://127.0.0.1:0"},
		WithLoops(2), WithReusePort(true))
	addrs := a.eng.Addrs()
	old := tbDial(t, addrs[0])
	if got := tbAsk(t, old, "x"); got != "A:x" {
		t.Fatalf("A answered %q", got)
	}
	files, err := a.eng.Listeners()
	if err != nil {
		t.Fatal(err)
	}
	// 2 loops: two TCP sockets, one Unix socket (never per loop), two UDP.
	if len(files) != 5 {
		t.Fatalf("Listeners returned %d files, want 5", len(files))
	}
	b := startEngineAddrs(t, tagEcho{tag: "B:"}, nil, WithLoops(2), WithListeners(files...))
	for _, f := range files {
		f.Close() // the engine serves its own duplicates
	}
	if got, want := fmt.Sprint(b.eng.Addrs()), fmt.Sprint(addrs); got != want {
		t.Fatalf("B serves %s, want A's %s", got, want)
	}
	drained := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		drained <- a.eng.Drain(ctx)
	}()
	// New connections, on every address, reach B.
	deadline := time.Now().Add(5 * time.Second)
	for _, addr := range addrs {
		for {
			c, err := net.DialTimeout(addr.Network(), addr.String(), 5*time.Second)
			if err != nil {
				t.Fatalf("dial %v after the hand-over: %v", addr, err)
			}
			got := tbAsk(t, c, "y")
			c.Close()
			if got == "B:y" {
				break
			}
			if got != "A:y" || time.Now().After(deadline) {
				t.Fatalf("%v answered %q, want B:y once A stopped accepting", addr, got)
			}
		}
	}
	// A's connection is still served by A, and Drain waits for it.
	if got := tbAsk(t, old, "z"); got != "A:z" {
		t.Fatalf("the connection A accepted answered %q after Drain began", got)
	}
	select {
	case err := <-drained:
		t.Fatalf("Drain returned %v with a connection still open", err)
	case <-time.After(50 * time.Millisecond):
	}
	old.Close()
	if err := tbRecv(t, drained, 10*time.Second, "Drain"); err != nil {
		t.Fatalf("Drain: %v", err)
	}
	if _, err := a.eng.Listeners(); !errors.Is(err, ErrEngineStopped) {
		t.Fatalf("Listeners after Drain: %v, want ErrEngineStopped", err)
	}
	a.stop(t)
	if _, err := os.Stat(sock); err != nil {
		t.Fatalf("A's stop removed the handed-over Unix socket file: %v", err)
	}
	c := tbDial(t, addrs[1])
	if got := tbAsk(t, c, "u"); got != "B:u" {
		t.Fatalf("the Unix socket answered %q after A stopped, want B:u", got)
	}
}

// TestDrainDeadline: Drain gives up at its context's end while a
// connection stays open, and that connection is still served.
func TestDrainDeadline(t *testing.T) {
	s := startEngine(t, tagEcho{tag: "A:"}, "tcp://127.0.0.1:0", WithLoops(1))
	c := s.dial(t)
	if got := tbAsk(t, c, "1"); got != "A:1" {
		t.Fatalf("answer %q", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := s.eng.Drain(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Drain with an open connection: %v, want DeadlineExceeded", err)
	}
	if got := tbAsk(t, c, "2"); got != "A:2" {
		t.Fatalf("after Drain gave up, the connection answered %q", got)
	}
	if _, err := net.DialTimeout("tcp", s.addr.String(), time.Second); err == nil {
		t.Fatal("a new connection was accepted after Drain")
	}
	var zero Engine
	if err := zero.Drain(ctx); !errors.Is(err, ErrEngineStopped) {
		t.Fatalf("zero Engine Drain: %v", err)
	}
	if _, err := zero.Listeners(); !errors.Is(err, ErrEngineStopped) {
		t.Fatalf("zero Engine Listeners: %v", err)
	}
}

// TestWithListenersRejects: a file that is not a listening stream socket
// or a udp socket makes Run fail with ErrUnsupportedNetwork.
func TestWithListenersRejects(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	connected, err := conn.(*net.TCPConn).File()
	if err != nil {
		t.Fatal(err)
	}
	defer connected.Close()
	for name, f := range map[string]*os.File{"pipe": r, "connected socket": connected, "nil": nil} {
		if err := RunAddrs(echoHandler{}, nil, WithListeners(f)); !errors.Is(err, ErrUnsupportedNetwork) {
			t.Errorf("%s: %v, want ErrUnsupportedNetwork", name, err)
		}
	}
}

// tbSystemdChildEnv makes TestSystemdActivationChild serve.
const tbSystemdChildEnv = "EVLOOP_TEST_SYSTEMD_CHILD"

// TestSystemdActivation passes a listening socket to a child as fd 3 with
// LISTEN_FDS=1 and LISTEN_PID set to the child's pid, as systemd does
// (through sh, which sets the variable to its own pid and then execs the
// test binary), and talks to the child through it.
func TestSystemdActivation(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	f, err := ln.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command("/bin/sh", "-c", `LISTEN_PID=$$ LISTEN_FDS=1 LISTEN_FDNAMES=web exec "$0" "$@"`,
		os.Args[0], "-test.run=^TestSystemdActivationChild$", "-test.count=1", "-test.timeout=1m")
	cmd.Env = append(os.Environ(), tbSystemdChildEnv+"=1")
	cmd.ExtraFiles = []*os.File{f}
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stdin.Close()
		if err := cmd.Wait(); err != nil {
			t.Errorf("child: %v", err)
		}
	}()
	sc := bufio.NewScanner(stdout)
	var ready string
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "serving "); ok {
			ready = rest
			break
		}
	}
	if ready != "web "+ln.Addr().String() {
		t.Fatalf("the child said %q, want it serving the socket named web at %v", ready, ln.Addr())
	}
	ln.Close() // the child serves its own copy
	c := tbDial(t, ln.Addr())
	if got := tbAsk(t, c, "hi"); got != "S:hi" {
		t.Fatalf("the child answered %q", got)
	}
	go io.Copy(io.Discard, stdout)
}

// TestSystemdActivationChild is TestSystemdActivation's child.
func TestSystemdActivationChild(t *testing.T) {
	if os.Getenv(tbSystemdChildEnv) == "" {
		t.Skip("runs only as the child of TestSystemdActivation")
	}
	files, err := SystemdListeners()
	if err != nil || len(files) != 1 {
		t.Fatalf("SystemdListeners = %v, %v; want one file", files, err)
	}
	if os.Getenv("LISTEN_FDS") != "" || os.Getenv("LISTEN_PID") != "" {
		t.Fatal("SystemdListeners left the variables set")
	}
	s := startEngineAddrs(t, tagEcho{tag: "S:"}, nil, WithLoops(1), WithListeners(files...))
	files[0].Close()
	fmt.Println("serving", files[0].Name(), s.eng.Addrs()[0])
	_, _ = io.Copy(io.Discard, os.Stdin)
}

// TestSystemdListenersNotOurs: variables meant for another process are
// left alone.
func TestSystemdListenersNotOurs(t *testing.T) {
	t.Setenv("LISTEN_PID", "1")
	t.Setenv("LISTEN_FDS", "1")
	files, err := SystemdListeners()
	if files != nil || err != nil || os.Getenv("LISTEN_FDS") != "1" {
		t.Fatalf("SystemdListeners for another pid: %v, %v", files, err)
	}
}

// TestWithNetListeners: listeners opened with package net are served too
// (the engine serves duplicates; the caller's may be closed).
func TestWithNetListeners(t *testing.T) {
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	unixLn, err := net.Listen("unix", filepath.Join(t.TempDir(), "n.sock"))
	if err != nil {
		t.Fatal(err)
	}
	s := startEngineAddrs(t, tagEcho{tag: "N:"}, nil, WithLoops(2), WithNetListeners(tcp, unixLn))
	tcp.Close()
	for _, a := range []net.Addr{tcp.Addr(), unixLn.Addr()} {
		if got := tbAsk(t, tbDial(t, a), "q"); got != "N:q" {
			t.Fatalf("%v answered %q", a, got)
		}
	}
	if got := fmt.Sprint(s.eng.Addrs()); got != fmt.Sprint([]net.Addr{tcp.Addr(), unixLn.Addr()}) {
		t.Fatalf("Addrs = %s", got)
	}
	unixLn.Close()
	var nilTCP *net.TCPListener
	if err := RunAddrs(echoHandler{}, nil, WithNetListeners(nilTCP)); !errors.Is(err, ErrUnsupportedNetwork) {
		t.Fatalf("a nil listener: %v, want ErrUnsupportedNetwork", err)
	}
}
