package evloop

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Each test here turns one option on (or off) and observes its effect;
// the ones that read the kernel's socket options of the engine's
// descriptors are in options_sockopt_native_test.go.

// tbPanicChildEnv makes TestOptionPanicPropagationChild serve; its value
// says what panics: "traffic" (OnTraffic) or "job" (a Conn.Submit job).
const tbPanicChildEnv = "EVLOOP_TEST_PANIC_CHILD"

// TestOptionPanicPropagation: with WithPanicPropagation(true) a panic in
// OnTraffic, or in a pool job submitted with Conn.Submit, kills the process
// as an unrecovered panic does: a non-zero exit status and the runtime's
// "panic: " report with the value on stderr. Without the option the engine
// recovers both and closes the connection with a *PanicError, which the
// child reports at once, so the test fails without waiting for a timeout.
func TestOptionPanicPropagation(t *testing.T) {
	for _, mode := range []string{"traffic", "job"} {
		t.Run(mode, func(t *testing.T) {
			child := childStart(t, childSpec{
				run:     "TestOptionPanicPropagationChild",
				env:     tbPanicChildEnv + "=" + mode,
				timeout: time.Minute,
				grace:   10 * time.Second,
			})
			nc := tbDial(t, tbResolveTCP(t, child.line(t, "addr ", 30*time.Second)))
			if _, err := io.WriteString(nc, "boom\n"); err != nil {
				t.Fatalf("write: %v", err)
			}
			deadline := time.After(30 * time.Second)
			for exited := false; !exited; {
				select {
				case l, ok := <-child.lines:
					exited = !ok
					if rest, found := strings.CutPrefix(l, "survived "); found {
						t.Fatalf("the engine recovered the %s panic: %s", mode, rest)
					}
				case <-deadline:
					t.Fatal("the child did not exit within 30s of the panic")
				}
			}
			// A crash is what this test wants: exitErr takes the exit
			// status off the child harness's checks.
			var exit *exec.ExitError
			if err := child.exitErr(t, 10*time.Second); !errors.As(err, &exit) || exit.ExitCode() == 0 {
				t.Errorf("the child ended with %v after a %s panic, want a crash (non-zero exit)", err, mode)
			}
			stderr, err := os.ReadFile(child.log)
			if err != nil {
				t.Fatal(err)
			}
			want := "panic: evloop-test-" + mode + "-boom"
			if !bytes.Contains(stderr, []byte(want)) {
				t.Errorf("the child's stderr does not contain %q:\n%s", want, stderr[max(0, len(stderr)-4096):])
			}
		})
	}
}

// TestOptionPanicPropagationChild is the child of TestOptionPanicPropagation:
// it serves with WithPanicPropagation(true), prints its address, and panics
// as its environment says on the first bytes it receives.
func TestOptionPanicPropagationChild(t *testing.T) {
	mode := os.Getenv(tbPanicChildEnv)
	if mode == "" {
		t.Skip("runs only as the child of TestOptionPanicPropagation")
	}
	h := &tbHandler{traffic: func(c Conn) Action {
		_, _ = c.Next(-1)
		if mode == "job" {
			if err := c.Submit(func() { panic("evloop-test-job-boom") }); err != nil {
				fmt.Println("submit error", err)
			}
			return None
		}
		panic("evloop-test-traffic-boom")
	}}
	h.close = func(_ Conn, err error) Action {
		if pe := (*PanicError)(nil); errors.As(err, &pe) {
			fmt.Println("survived", err)
		}
		return None
	}
	s := startEngine(t, h, "tcp://127.0.0.1:0", WithLoops(1), WithPanicPropagation(true))
	fmt.Println("addr", s.addr)
	// Serve until the parent closes stdin: reaching the end means the
	// panic did not kill the process.
	_, _ = io.Copy(io.Discard, os.Stdin)
}

func tbResolveTCP(tb testing.TB, s string) *net.TCPAddr {
	tb.Helper()
	a, err := net.ResolveTCPAddr("tcp", s)
	if err != nil {
		tb.Fatalf("address %q: %v", s, err)
	}
	return a
}

// TestOptionLoopsZero: WithLoops(0) asks for the default,
// runtime.GOMAXPROCS(0) loops, as in gnet.
func TestOptionLoopsZero(t *testing.T) {
	s := startEngine(t, echoHandler{}, "tcp://127.0.0.1:0", WithLoops(0))
	if got, want := len(s.eng.e.loops), runtime.GOMAXPROCS(0); got != want {
		t.Errorf("WithLoops(0) started %d loops, want GOMAXPROCS = %d", got, want)
	}
	if err := tbEcho(s.dial(t), []byte("hello"), 10*time.Second); err != nil {
		t.Fatal(err)
	}
}
