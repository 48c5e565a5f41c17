package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/evloop/evloop"
)

// Zero-downtime restart (-graceful). On SIGHUP the server starts a new
// process of its own binary with the same flags and its listening sockets
// (Engine.Listeners, passed as descriptors 3, 4, ... with -inherit N), and
// a pipe the successor writes "ready" to once it serves them. Then it stops
// accepting (Engine.Drain: its copies of the sockets close, their queues,
// shared with the successor, are untouched), waits up to -drain-timeout
// for its clients to finish and close, closes what is left, and exits. No
// connection is refused or reset, and a client's session is never cut: it
// ends on the process that accepted it. If the successor fails to start,
// the server keeps serving and says so.

// readyTimeout bounds how long a successor may take to start serving.
const readyTimeout = 10 * time.Second

// inherited returns the listening sockets a predecessor handed over
// (-inherit n: descriptors 3 to 3+n-1) and the pipe to report readiness on
// (descriptor 3+n).
func inherited(n int) (files []*os.File, ready *os.File) {
	for i := range n {
		files = append(files, os.NewFile(uintptr(3+i), "listener-"+strconv.Itoa(i)))
	}
	return files, os.NewFile(uintptr(3+n), "ready")
}

// watchRestarts hands the engine over to a successor on SIGHUP, then
// drains and stops it with stop. It returns when ctx is done.
func watchRestarts(ctx context.Context, cfg config, booted <-chan evloop.Engine, stop context.CancelFunc) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	var eng evloop.Engine
	select {
	case eng = <-booted:
	case <-ctx.Done():
		return
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
		}
		pid, err := handOver(eng, cfg.args)
		if err != nil {
			fmt.Fprintln(os.Stderr, "echo: restart failed, still serving:", err)
			continue
		}
		fmt.Printf("echo process %d handed over to %d; draining\n", os.Getpid(), pid)
		dctx, cancel := context.WithTimeout(ctx, cfg.drainTimeout)
		err = eng.Drain(dctx)
		cancel()
		if err != nil && !errors.Is(err, context.Canceled) {
			fmt.Fprintln(os.Stderr, "echo: drain:", err, "(closing the connections left)")
		}
		stop()
		return
	}
}

// handOver starts the successor with eng's listeners and waits until it
// serves them; it returns its pid.
func handOver(eng evloop.Engine, args []string) (int, error) {
	files, err := eng.Listeners()
	if err != nil {
		return 0, err
	}
	defer func() {
		for _, f := range files {
			f.Close() // the successor has its own copies
		}
	}()
	exe, err := os.Executable()
	if err != nil {
		return 0, err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return 0, err
	}
	defer r.Close()
	cmd := exec.Command(exe, append(args, "-inherit", strconv.Itoa(len(files)))...)
	cmd.ExtraFiles = append(files, w)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	err = cmd.Start()
	w.Close()
	if err != nil {
		return 0, err
	}
	ready := make(chan error, 1)
	go func() {
		line, err := bufio.NewReader(r).ReadString('\n')
		if err == nil && line != "ready\n" {
			err = fmt.Errorf("the successor said %q", line)
		}
		ready <- err
	}()
	select {
	case err = <-ready:
	case <-time.After(readyTimeout):
		err = fmt.Errorf("the successor did not serve within %v", readyTimeout)
	}
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return 0, err
	}
	pid := cmd.Process.Pid
	// The successor outlives this process; nobody waits for it here.
	_ = cmd.Process.Release()
	return pid, nil
}
