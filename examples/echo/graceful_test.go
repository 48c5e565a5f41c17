//go:build unix

package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// buildEcho builds this example into a temporary directory: the restart
// re-executes its own binary, which a test binary is not.
func buildEcho(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the go command is needed to build the example: %v", err)
		}
		t.Skipf("the go command is needed to build the example: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "echo")
	out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// alive reports whether process pid still runs (a zombie does not).
func alive(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// The state follows the command name in parentheses.
	i := bytes.LastIndexByte(stat, ')')
	return i >= 0 && i+2 < len(stat) && stat[i+2] != 'Z'
}

// sessionErrors counts what clients saw go wrong, by kind.
type sessionErrors struct {
	refused, reset, short, corrupt, other atomic.Int64
	sessions, bytes                       atomic.Int64
	first                                 atomic.Value // the first error, for the report
}

func (e *sessionErrors) add(err error) {
	e.first.CompareAndSwap(nil, err.Error())
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		e.refused.Add(1)
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		e.reset.Add(1)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		e.short.Add(1)
	default:
		e.other.Add(1)
	}
}

// session is one client: connect, a few echoes of random sizes, close. No
// retry: a retry would hide a refused or cut session.
func session(addr string, rng *rand.Rand, buf []byte, errs *sessionErrors) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		errs.add(err)
		return
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	for range 1 + rng.IntN(3) {
		n := 1 + rng.IntN(16<<10)
		msg := make([]byte, n)
		for i := range msg {
			msg[i] = byte(rng.Uint32())
		}
		if _, err := c.Write(msg); err != nil {
			errs.add(err)
			return
		}
		if _, err := io.ReadFull(c, buf[:n]); err != nil {
			errs.add(err)
			return
		}
		if !bytes.Equal(buf[:n], msg) {
			errs.corrupt.Add(1)
			errs.first.CompareAndSwap(nil, "corrupted echo")
			return
		}
		errs.bytes.Add(int64(n))
	}
	errs.sessions.Add(1)
}

// TestGracefulRestart: while 100 clients connect, echo and disconnect in a
// loop for 10 s, the server is restarted 5 times by SIGHUP. No connection
// is refused or reset, no byte is lost or corrupted, every old process
// exits, and one server process is left.
func TestGracefulRestart(t *testing.T) {
	bin := buildEcho(t)
	cmd := exec.Command(bin, "-addr", "tcp://127.0.0.1:0", "-loops", "2", "-graceful", "-drain-timeout", "5s")
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pids := []int{cmd.Process.Pid}
	defer func() {
		for _, pid := range pids {
			if alive(pid) {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		_ = cmd.Wait()
	}()
	lines := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	next := func(prefix string) string {
		t.Helper()
		timeout := time.After(20 * time.Second)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("the server's output ended before %q", prefix)
				}
				if strings.HasPrefix(l, prefix) {
					return l
				}
			case <-timeout:
				t.Fatalf("no %q line within 20s", prefix)
			}
		}
	}
	addr := strings.TrimPrefix(next("echo listening on tcp://"), "echo listening on tcp://")

	const clients, restarts = 100, 5
	const duration = 10 * time.Second
	var errs sessionErrors
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), 11))
			buf := make([]byte, 16<<10)
			for {
				select {
				case <-stop:
					return
				default:
				}
				session(addr, rng, buf, &errs)
			}
		}()
	}
	current := cmd.Process.Pid
	for r := range restarts {
		time.Sleep(duration / (restarts + 1))
		if err := syscall.Kill(current, syscall.SIGHUP); err != nil {
			t.Fatalf("restart %d: SIGHUP to %d: %v", r+1, current, err)
		}
		l := next(fmt.Sprintf("echo process %d handed over to ", current))
		rest := strings.TrimPrefix(l, fmt.Sprintf("echo process %d handed over to ", current))
		pid, err := strconv.Atoi(strings.TrimSuffix(rest, "; draining"))
		if err != nil {
			t.Fatalf("restart %d: %q", r+1, l)
		}
		current = pid
		pids = append(pids, pid)
	}
	time.Sleep(duration / (restarts + 1))
	close(stop)
	wg.Wait()

	t.Logf("%d sessions, %d bytes echoed, over %d processes", errs.sessions.Load(), errs.bytes.Load(), len(pids))
	if n := errs.refused.Load() + errs.reset.Load() + errs.short.Load() + errs.corrupt.Load() + errs.other.Load(); n > 0 {
		t.Errorf("%d failed sessions: %d refused, %d reset, %d cut short, %d corrupted, %d other; first: %v",
			n, errs.refused.Load(), errs.reset.Load(), errs.short.Load(), errs.corrupt.Load(), errs.other.Load(), errs.first.Load())
	}
	if errs.sessions.Load() < clients {
		t.Errorf("only %d sessions completed", errs.sessions.Load())
	}
	// Every old process drains and exits; the newest is the only one left.
	_ = cmd.Wait() // the first one is this test's child
	deadline := time.Now().Add(15 * time.Second)
	for _, pid := range pids[:len(pids)-1] {
		for alive(pid) {
			if time.Now().After(deadline) {
				t.Fatalf("old server process %d still runs", pid)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	if !alive(current) {
		t.Fatalf("the newest server process %d is gone", current)
	}
	if err := syscall.Kill(current, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for alive(current) {
		if time.Now().After(deadline.Add(10 * time.Second)) {
			t.Fatalf("the last server process %d did not stop on SIGTERM", current)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
