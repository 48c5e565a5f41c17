package main

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// mainAddrEnv makes the test binary run main instead of the tests, on the
// address it holds; TestMainStopsOnSignal starts it that way.
const mainAddrEnv = "EVLOOP_EXAMPLE_MAIN_ADDR"

// Every test must leave no goroutine behind: the engine's loops, acceptor
// and pool as well as the test's clients. Goroutines that exist before the
// first test are ignored: importing ants starts its package-level default
// pool, which lives as long as the process.
func TestMain(m *testing.M) {
	if addr := os.Getenv(mainAddrEnv); addr != "" {
		os.Args = []string{"http", "-addr", addr, "-loops", "1"}
		main()
		return
	}
	goleak.VerifyTestMain(m, goleak.IgnoreCurrent())
}

// TestMainStopsOnSignal runs the command as a process: it announces its
// address, answers, and exits 0 on SIGINT and on SIGTERM.
func TestMainStopsOnSignal(t *testing.T) {
	tests := []struct {
		name   string
		signal syscall.Signal
	}{
		{name: "SIGINT", signal: syscall.SIGINT},
		{name: "SIGTERM", signal: syscall.SIGTERM},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), mainAddrEnv+"=tcp://127.0.0.1:0")
			cmd.Stderr = os.Stderr
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Wait()
			defer cmd.Process.Kill()
			line, err := bufio.NewReader(stdout).ReadString('\n')
			if err != nil {
				t.Fatalf("reading the first line: %v", err)
			}
			addr, ok := strings.CutPrefix(strings.TrimSpace(line), "http listening on tcp://")
			if !ok {
				t.Fatalf("first line %q, want \"http listening on tcp://<addr>\"", line)
			}
			nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			if err := nc.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
				t.Fatal(err)
			}
			c := &client{Conn: nc, r: bufio.NewReader(nc)}
			c.send(t, get(http.MethodGet, ""))
			c.expectHello(t, http.MethodGet)
			if err := cmd.Process.Signal(tt.signal); err != nil {
				t.Fatal(err)
			}
			if err := cmd.Wait(); err != nil {
				t.Fatalf("exit after %v: %v", tt.signal, err)
			}
			c.expectClosed(t)
		})
	}
}
