//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows || evloop_portable

package evloop

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/evloop/evloop/internal/socket"
)

// Handing listeners over. A process restarts without refusing or resetting
// a connection by giving its listening sockets to its successor instead of
// closing them:
//
//  1. files, _ := eng.Listeners() duplicates every socket the engine
//     listens on (each loop's own, in reuseport mode, and udp sockets);
//  2. the successor gets them (exec.Cmd.ExtraFiles) and serves them with
//     WithListeners, usually with no address of its own;
//  3. once it is serving, eng.Drain(ctx) stops this engine's accepting
//     (its copies of the sockets close; the kernel's queues, shared with
//     the successor, are not touched, so nothing queued is reset) and
//     waits for its connections to be closed by their peers (or by the
//     protocol: an idle timeout), up to ctx;
//  4. eng.Stop closes what is left, and the process exits.
//
// examples/echo -graceful does this on SIGHUP. SystemdListeners takes the
// sockets of systemd's socket activation the same way.

// WithListeners serves already-open sockets, besides the addresses given to
// Run (RunAddrs may then be given none): listening TCP or Unix stream
// sockets, and bound UDP sockets, such as a predecessor's (Engine.Listeners)
// or systemd's (SystemdListeners). The engine serves duplicates of the
// descriptors: the caller keeps its files and may close them once Run has
// started. Stream sockets go to the acceptor, or with WithReusePort to the
// loops in turn (a predecessor's per-loop sockets are all served, whatever
// the two engines' loop counts); udp sockets go to the loops in turn. The
// engine never removes an adopted Unix socket's file. A file that is not
// such a socket makes Run fail with an error wrapping
// ErrUnsupportedNetwork.
func WithListeners(files ...*os.File) Option {
	return func(o *options) {
		for _, f := range files {
			o.listeners = append(o.listeners, f)
		}
	}
}

// WithNetListeners is WithListeners for listeners opened with package net
// (*net.TCPListener, *net.UnixListener, or any net.Listener that gives its
// descriptor through syscall.Conn). The engine serves duplicates: the
// caller keeps its listeners and may close them once Run has started, but
// closing a *net.UnixListener removes its socket file unless
// SetUnlinkOnClose(false) was called first. A net.Listener that does not
// give its descriptor makes Run fail with an error wrapping
// ErrUnsupportedNetwork.
func WithNetListeners(ls ...net.Listener) Option {
	return func(o *options) {
		for _, l := range ls {
			o.listeners = append(o.listeners, l)
		}
	}
}

// adoptListeners serves the sockets of WithListeners; stream sockets for the
// acceptor are appended to shared.
func (e *engine) adoptListeners(shared *[]*listener) error {
	seen := make(map[string]bool)
	for _, a := range e.addrs {
		seen[a.Network()+" "+a.String()] = true
	}
	var streams, datagrams int
	for _, f := range e.opts.listeners {
		ln, err := e.adopt(f)
		if err != nil {
			return err
		}
		if key := ln.addr.Network() + " " + ln.addr.String(); !seen[key] {
			seen[key] = true
			e.addrs = append(e.addrs, ln.addr)
		}
		switch {
		case ln.network == "udp":
			err = e.adoptDatagram(e.loops[datagrams%len(e.loops)], ln)
			datagrams++
		case e.opts.reusePort && ln.network != "unix":
			err = e.adoptPerLoop(e.loops[streams%len(e.loops)], ln)
			streams++
		default:
			*shared = append(*shared, ln)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// adopt duplicates the descriptor of s (an *os.File, a net.Listener) and
// makes a listener of it.
func (e *engine) adopt(s any) (*listener, error) {
	sc, ok := s.(syscall.Conn)
	if !ok || s == nil || sc == nil || reflectNil(s) {
		return nil, listenError("", fmt.Errorf("%w: %T in WithListeners gives no descriptor", ErrUnsupportedNetwork, s))
	}
	name := fmt.Sprintf("%T", s)
	if f, ok := s.(*os.File); ok {
		name = f.Name()
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil, listenError("", fmt.Errorf("%w: %s: %w", ErrUnsupportedNetwork, name, err))
	}
	fd := -1
	var dupErr error
	if err := rc.Control(func(raw uintptr) { fd, dupErr = socket.DupSystem(raw) }); err != nil {
		return nil, listenError("", fmt.Errorf("%w: %s: %w", ErrUnsupportedNetwork, name, err))
	}
	if dupErr != nil {
		return nil, listenError("", dupErr)
	}
	ls, err := socket.Adopt(fd)
	if err != nil {
		_ = socket.Close(fd)
		return nil, listenError("", fmt.Errorf("%w: %s: %w", ErrUnsupportedNetwork, name, err))
	}
	return e.track(ls), nil
}

// reflectNil reports whether v holds a nil *os.File, *net.TCPListener or
// *net.UnixListener, whose SyscallConn would fail or panic.
func reflectNil(v any) bool {
	switch x := v.(type) {
	case *os.File:
		return x == nil
	case *net.TCPListener:
		return x == nil
	case *net.UnixListener:
		return x == nil
	}
	return false
}

// Listeners returns a duplicate of every socket the engine listens on, in
// the order the engine opened them: for a successor process to serve
// (exec.Cmd.ExtraFiles, then WithListeners). The files are the caller's to
// close. From then on the engine never removes its Unix socket files: the
// successor serves those paths after this engine has stopped. It returns
// ErrEngineStopped once the engine stops accepting (Drain, Stop). Any
// goroutine.
func (eng Engine) Listeners() ([]*os.File, error) {
	e := eng.e
	if e == nil {
		return nil, ErrEngineStopped
	}
	// Under stopMu no listener is being closed: closing starts only after
	// stopAccepting or a stop, which take it first.
	e.stopMu.Lock()
	defer e.stopMu.Unlock()
	if e.stopping || e.notAccepting {
		return nil, ErrEngineStopped
	}
	files := make([]*os.File, 0, len(e.lns))
	for _, ln := range e.lns {
		f, err := socket.File(ln.fd, ln.addr.Network()+":"+ln.addr.String())
		if err != nil {
			for _, f := range files {
				_ = f.Close()
			}
			return nil, err
		}
		ln.sock.KeepFile()
		files = append(files, f)
	}
	return files, nil
}

// Drain stops accepting, on every listener and udp socket, and waits until
// every connection has been closed, by its peer or its handler, or until
// ctx is done (then it returns ctx.Err(); the connections left stay open
// for Stop to close). The sockets close in this process only: a successor
// that took them over (Listeners) keeps serving them, and connections
// waiting in their queues are accepted there. Drain does not stop the
// engine; Stop does. Called from one of the engine's own goroutines (a
// handler, OnBoot), it only stops accepting and returns nil at once. Any
// goroutine.
func (eng Engine) Drain(ctx context.Context) error {
	e := eng.e
	if e == nil {
		return ErrEngineStopped
	}
	e.stopAccepting()
	if e.onOwnGoroutine() {
		return nil
	}
	t := time.NewTicker(drainPoll)
	defer t.Stop()
	for eng.CountConnections() > 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-e.done:
			return nil
		case <-t.C:
		}
	}
	return nil
}

// stopAccepting stops the acceptor, which closes its listeners, and has
// every loop close its own and stop reading its udp sockets. Once.
func (e *engine) stopAccepting() {
	e.stopMu.Lock()
	done := e.notAccepting
	e.notAccepting = true
	e.stopMu.Unlock()
	if done {
		return
	}
	if e.acceptor != nil {
		e.acceptor.stop()
	}
	for _, l := range e.loops {
		_ = l.q.Push(task{kind: taskStopAccepting})
	}
}

// SystemdListeners returns the sockets systemd passed this process by
// socket activation (LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES; the
// descriptors from 3 on), as files named after LISTEN_FDNAMES, for
// WithListeners, and unsets those variables so that child processes do not
// take them too. Without the variables, or when LISTEN_PID is another
// process's, it returns none and no error.
func SystemdListeners() ([]*os.File, error) {
	pid, fds := os.Getenv("LISTEN_PID"), os.Getenv("LISTEN_FDS")
	if pid == "" || fds == "" || pid != strconv.Itoa(os.Getpid()) {
		return nil, nil
	}
	names := strings.Split(os.Getenv("LISTEN_FDNAMES"), ":")
	for _, v := range []string{"LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"} {
		_ = os.Unsetenv(v)
	}
	n, err := strconv.Atoi(fds)
	if err != nil || n < 0 {
		return nil, fmt.Errorf("%w: LISTEN_FDS=%q", ErrInvalidOption, fds)
	}
	const first = 3 // SD_LISTEN_FDS_START
	files := make([]*os.File, n)
	for i := range files {
		fd := first + i
		socket.CloseOnExec(fd)
		name := "systemd:" + strconv.Itoa(fd)
		if i < len(names) && names[i] != "" {
			name = names[i]
		}
		files[i] = os.NewFile(uintptr(fd), name)
	}
	return files, nil
}
