package exampletest

import (
	"bufio"
	"context"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// mainAddrEnv makes a test binary run the example's main instead of its
// tests, on the address it holds; MainStopsOnSignal starts it that way.
// mainArgsEnv holds more flags for it, one per line.
const (
	mainAddrEnv = "EVLOOP_EXAMPLE_MAIN_ADDR"
	mainArgsEnv = "EVLOOP_EXAMPLE_MAIN_ARGS"
)

// RunMain is called first by an example's TestMain. When MainStopsOnSignal
// started the test binary, it runs main as the command name with one loop
// (and the flags MainStopsOnSignal was given) and reports true: the process is the command, not the tests. Otherwise
// it reports false and TestMain runs the tests (under goleak; this package
// leaves goleak to the test files so that it stays a test-only dependency).
func RunMain(name string, main func()) bool {
	addr := os.Getenv(mainAddrEnv)
	if addr == "" {
		return false
	}
	os.Args = []string{name, "-addr", addr, "-loops", "1"}
	if more := os.Getenv(mainArgsEnv); more != "" {
		os.Args = append(os.Args, strings.Split(more, "\n")...)
	}
	main()
	return true
}

// MainStopsOnSignal runs the command name as a process, in one subtest for
// SIGINT and one for SIGTERM: it must announce "<name> listening on
// tcp://<addr>", serve the exchange on a connection to that address, and
// exit 0 on the signal. exchange returns the check to run on the same
// connection once the command has exited. args are more flags for the
// command (after -addr and -loops). The test binary's TestMain must call
// RunMain.
func MainStopsOnSignal(t *testing.T, name string, exchange func(tb testing.TB, c net.Conn) (afterExit func(tb testing.TB)), args ...string) {
	t.Helper()
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
			cmd.Env = append(os.Environ(), mainAddrEnv+"=tcp://127.0.0.1:0", mainArgsEnv+"="+strings.Join(args, "\n"))
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
			announce := name + " listening on tcp://"
			addr, ok := strings.CutPrefix(strings.TrimSpace(line), announce)
			if !ok {
				t.Fatalf("first line %q, want %q", line, announce+"<addr>")
			}
			c, err := net.DialTimeout("tcp", addr, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			afterExit := exchange(t, c)
			if err := cmd.Process.Signal(tt.signal); err != nil {
				t.Fatal(err)
			}
			if err := cmd.Wait(); err != nil {
				t.Fatalf("exit after %v: %v", tt.signal, err)
			}
			afterExit(t)
		})
	}
}
