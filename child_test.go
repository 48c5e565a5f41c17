package evloop

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Some tests run the engine in a child process: this test binary,
// re-executed to run one test that serves only when an environment
// variable is set, talking to the parent over stdin and stdout.

// childSpec says which test a child process runs and how long it may take.
type childSpec struct {
	run     string        // the test to run, by exact name
	env     string        // "NAME=value" that makes that test serve instead of skipping
	timeout time.Duration // the child's -test.timeout
	grace   time.Duration // how long Cleanup waits for an exit after closing stdin, before the kill
}

// childProcess is a running child.
type childProcess struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string // stdout, line by line; closed at EOF
	log   string      // the child's stderr, for failure messages
}

// childStart starts the child spec describes and kills it when the test
// ends, whatever happened.
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
	ch := &childProcess{cmd: cmd, stdin: stdin, lines: make(chan string, 64), log: logPath}
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		defer close(ch.lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case ch.lines <- sc.Text():
			default: // nobody reads any more; drop
			}
		}
	}()
	tb.Cleanup(func() {
		stdin.Close()
		waited := make(chan error, 1)
		go func() { waited <- cmd.Wait() }()
		select {
		case <-waited:
		case <-time.After(spec.grace):
			_ = cmd.Process.Kill()
			<-waited
		}
		<-readerDone
		if tb.Failed() {
			if b, err := os.ReadFile(logPath); err == nil && len(b) > 0 {
				tb.Logf("child stderr (last 4 KiB):\n%s", b[max(0, len(b)-4096):])
			}
		}
	})
	return ch
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

// waitExit waits for the child's stdout to end, which happens when it exits.
func (ch *childProcess) waitExit(tb testing.TB, timeout time.Duration) {
	tb.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case _, ok := <-ch.lines:
			if !ok {
				return
			}
		case <-deadline:
			tb.Fatalf("child did not exit within %v", timeout)
		}
	}
}
