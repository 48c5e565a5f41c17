package evloop

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Some tests run the engine in a child process: this test binary,
// re-executed to run one test that serves only when an environment
// variable is set, talking to the parent over stdin and stdout.
//
// The child's own checks (Stop's and Run's results, goleak) count: when
// the test ends, a child that exited non-zero, or had to be killed,
// fails it, with the child's stderr and the end of its stdout. A test
// that expects the child to fail asks for the exit error with exitErr,
// which leaves the verdict to it.

// childSpec says which test a child process runs and how long it may take.
type childSpec struct {
	run     string        // the test to run, by exact name
	env     string        // "NAME=value" that makes that test serve instead of skipping
	timeout time.Duration // the child's -test.timeout
	grace   time.Duration // how long Cleanup waits for an exit after closing stdin, before the kill
}

// childTailLines is how much of the child's stdout a failure shows.
const childTailLines = 40

// childProcess is a running child.
type childProcess struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string // stdout, line by line; closed at EOF
	log   string      // the child's stderr, for failure messages

	exited  chan struct{} // closed once cmd.Wait returned
	waitErr error         // cmd.Wait's result, set before exited is closed

	mu      sync.Mutex
	tail    []string // the last childTailLines lines of stdout
	killed  bool     // the child was killed before it exited on its own
	checked bool     // the test took the verdict with exitErr
}

// childStart starts the child spec describes. When the test ends it closes
// the child's stdin, waits spec.grace for it to exit, kills it otherwise,
// and fails the test unless the child exited with status 0 (or the test
// called exitErr).
func childStart(tb testing.TB, spec childSpec) *childProcess {
	tb.Helper()
	logPath := filepath.Join(tb.TempDir(), "child.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		tb.Fatal(err)
	}
	defer logFile.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^"+spec.run+"$", "-test.count=1", "-test.timeout="+spec.timeout.String())
	cmd.Env = append(os.Environ(), spec.env)
	cmd.Stderr = logFile // a file: no copying goroutine to outlive the test
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start child: %v", err)
	}
	ch := &childProcess{cmd: cmd, stdin: stdin, lines: make(chan string, 64), log: logPath, exited: make(chan struct{})}
	// One goroutine reads stdout to its end, then reaps the child: Wait
	// must not run before the reads from the pipe are done.
	go func() {
		defer close(ch.exited)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			ch.keep(sc.Text())
			select {
			case ch.lines <- sc.Text():
			default: // nobody reads any more; drop
			}
		}
		close(ch.lines)
		_, _ = io.Copy(io.Discard, stdout) // after a line too long to scan
		ch.waitErr = cmd.Wait()
	}()
	tb.Cleanup(func() {
		stdin.Close()
		select {
		case <-ch.exited:
		case <-time.After(spec.grace):
			ch.kill()
		}
		ch.verdict(tb, fmt.Sprintf("did not exit within %v of its stdin closing", spec.grace))
	})
	return ch
}

// keep remembers a line of stdout for failure messages.
func (ch *childProcess) keep(line string) {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if len(ch.tail) == childTailLines {
		copy(ch.tail, ch.tail[1:])
		ch.tail = ch.tail[:childTailLines-1]
	}
	ch.tail = append(ch.tail, line)
}

// kill ends a child that has not exited, and waits until it is reaped.
func (ch *childProcess) kill() {
	ch.mu.Lock()
	ch.killed = true
	ch.mu.Unlock()
	_ = ch.cmd.Process.Kill()
	<-ch.exited
}

// verdict fails the test if the child, which has exited, failed and the
// test did not take the verdict itself; on any failure of the test it
// shows what the child printed.
func (ch *childProcess) verdict(tb testing.TB, why string) {
	tb.Helper()
	ch.mu.Lock()
	killed, checked, tail := ch.killed, ch.checked, strings.Join(ch.tail, "\n")
	ch.mu.Unlock()
	switch {
	case checked:
	case killed:
		tb.Errorf("child %s: killed", why)
	case ch.waitErr != nil:
		tb.Errorf("child exited with %v: its own checks failed or it crashed", ch.waitErr)
	}
	if tb.Failed() {
		if b, err := os.ReadFile(ch.log); err == nil && len(b) > 0 {
			tb.Logf("child stderr (last 4 KiB):\n%s", b[max(0, len(b)-4096):])
		}
		if tail != "" {
			tb.Logf("child stdout (last %d lines):\n%s", childTailLines, tail)
		}
	}
}

// exitErr waits up to timeout for the child to exit (killing it after
// that) and returns how it exited: nil for status 0, else the
// *exec.ExitError. The test takes the verdict: the cleanup no longer
// fails it for a non-zero exit. For tests that expect the child to crash.
func (ch *childProcess) exitErr(tb testing.TB, timeout time.Duration) error {
	tb.Helper()
	select {
	case <-ch.exited:
	case <-time.After(timeout):
		ch.kill()
	}
	ch.mu.Lock()
	defer ch.mu.Unlock()
	ch.checked = true
	if ch.killed {
		return fmt.Errorf("child killed after %v: %w", timeout, ch.waitErr)
	}
	return ch.waitErr
}

// line returns the next stdout line starting with prefix, skipping others.
func (ch *childProcess) line(tb testing.TB, prefix string, timeout time.Duration) string {
	tb.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case l, ok := <-ch.lines:
			if !ok {
				tb.Fatalf("child exited before printing %q", prefix)
			}
			if rest, found := strings.CutPrefix(l, prefix); found {
				return rest
			}
		case <-deadline:
			tb.Fatalf("child did not print %q within %v", prefix, timeout)
		}
	}
}

// ask sends a command to the child and returns the rest of the reply line
// that starts with prefix.
func (ch *childProcess) ask(tb testing.TB, cmd, prefix string) string {
	tb.Helper()
	if _, err := io.WriteString(ch.stdin, cmd+"\n"); err != nil {
		tb.Fatalf("command %q to the child: %v", cmd, err)
	}
	return ch.line(tb, prefix, 30*time.Second)
}

// waitExit waits for the child to exit and fails the test at once if it
// exited non-zero (the cleanup would too, but later, after the rest of the
// test ran against a dead child).
func (ch *childProcess) waitExit(tb testing.TB, timeout time.Duration) {
	tb.Helper()
	select {
	case <-ch.exited:
	case <-time.After(timeout):
		tb.Fatalf("child did not exit within %v", timeout)
	}
	if ch.waitErr != nil {
		tb.Fatalf("child exited with %v: its own checks failed or it crashed", ch.waitErr)
	}
}

// childSelfEnv makes TestChildHarnessChild run; its value says how the
// child ends.
const childSelfEnv = "EVLOOP_TEST_CHILD_HARNESS"

// TestChildHarnessChild is the child of TestChildHarness; run directly it
// skips. It prints "ready", then on stdin's EOF ends the way the variable
// says: "pass" returns, "fail" fails the test (exit status 1), "hang"
// ignores stdin's end and sleeps until it is killed.
func TestChildHarnessChild(t *testing.T) {
	mode := os.Getenv(childSelfEnv)
	if mode == "" {
		t.Skip("child process of TestChildHarness")
	}
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin)
	switch mode {
	case "fail":
		t.Error("failing on purpose")
	case "hang":
		time.Sleep(time.Minute)
	}
}

// childTB is a testing.TB that records failures instead of failing, and
// runs its cleanups when told, so TestChildHarness can watch what the
// harness does to a test.
type childTB struct {
	testing.TB
	mu       sync.Mutex
	errors   []string
	cleanups []func()
}

func (c *childTB) Helper() {}

func (c *childTB) Errorf(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.errors = append(c.errors, fmt.Sprintf(format, args...))
}

func (c *childTB) Failed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.errors) > 0
}

func (c *childTB) Logf(string, ...any) {}

func (c *childTB) Cleanup(f func()) { c.cleanups = append(c.cleanups, f) }

func (c *childTB) runCleanups() {
	for i := len(c.cleanups) - 1; i >= 0; i-- {
		c.cleanups[i]()
	}
}

// TestChildHarness: a child that passes passes the test; one that fails,
// or has to be killed, fails it; exitErr hands a test the exit error and
// keeps the cleanup from failing it.
func TestChildHarness(t *testing.T) {
	tests := []struct {
		name      string
		mode      string
		useExit   bool   // the test takes the verdict with exitErr
		wantError string // in the parent's failure; "" for none
		wantExit  bool   // exitErr reports a failure
	}{
		{name: "pass", mode: "pass"},
		{name: "fail", mode: "fail", wantError: "exit status 1"},
		{name: "hang", mode: "hang", wantError: "killed"},
		{name: "fail, expected", mode: "fail", useExit: true, wantExit: true},
		{name: "pass, checked", mode: "pass", useExit: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := &childTB{TB: t}
			ch := childStart(tb, childSpec{
				run:     "TestChildHarnessChild",
				env:     childSelfEnv + "=" + tt.mode,
				timeout: time.Minute,
				grace:   2 * time.Second,
			})
			ch.line(t, "ready", 30*time.Second)
			if tt.useExit {
				ch.stdin.Close()
				err := ch.exitErr(t, 30*time.Second)
				var exit *exec.ExitError
				switch {
				case tt.wantExit && (!errors.As(err, &exit) || exit.ExitCode() != 1):
					t.Errorf("exitErr = %v, want exit status 1", err)
				case !tt.wantExit && err != nil:
					t.Errorf("exitErr = %v, want nil", err)
				}
			}
			tb.runCleanups()
			got := strings.Join(tb.errors, "\n")
			switch {
			case tt.wantError == "" && got != "":
				t.Errorf("the harness failed the test: %s", got)
			case tt.wantError != "" && !strings.Contains(got, tt.wantError):
				t.Errorf("the harness's failure = %q, want one mentioning %q", got, tt.wantError)
			}
		})
	}
}
