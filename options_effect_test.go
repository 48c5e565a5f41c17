//go:build linux

package evloop

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestOptionLockOSThread: with WithLockOSThread the loop goroutine runs
// every callback on the OS thread it started on. The first callback names
// its thread (prctl PR_SET_NAME) and every later one reports its thread id
// and name, while the callback itself yields (runtime.Gosched, and now and
// then runtime.GC) and other goroutines keep every P busy, so an unlocked
// goroutine is rescheduled onto other threads. It catches the option not
// reaching the loop goroutine (not locked, or locked on a different
// goroutine than the one that runs the callbacks). The unlocked run is a
// control, logged and not asserted: an unlocked goroutine may stay put by
// chance, which says nothing about the option.
func TestOptionLockOSThread(t *testing.T) {
	rounds := tbScale(300, 3)
	moved := tbThreadMoves(t, rounds, false)
	t.Logf("without WithLockOSThread: %d of %d callbacks ran on another thread", moved, rounds)
	if moved := tbThreadMoves(t, rounds, true); moved != 0 {
		t.Errorf("with WithLockOSThread: %d of %d callbacks ran on another thread than OnOpen", moved, rounds)
	}
}

// tbThreadMoves serves one client for rounds round trips and counts the
// callbacks that did not run on OnOpen's thread (by id or by name).
func tbThreadMoves(tb testing.TB, rounds int, lock bool) int {
	tb.Helper()
	const name = "evloop-pinned"
	var original [16]byte
	h := &tbHandler{
		open: func(Conn) ([]byte, Action) {
			_ = unix.Prctl(unix.PR_GET_NAME, uintptr(unsafe.Pointer(&original[0])), 0, 0, 0)
			b := append([]byte(name), 0)
			if err := unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(&b[0])), 0, 0, 0); err != nil {
				return []byte("error " + err.Error() + "\n"), Close
			}
			return tbThreadLine(), None
		},
		traffic: func(c Conn) Action {
			b, _ := c.Next(-1)
			for range bytes.Count(b, []byte{'\n'}) {
				runtime.Gosched()
				_, _ = c.Write(tbThreadLine())
			}
			return None
		},
		close: func(Conn, error) Action {
			// Give the thread its name back: unlocked, or once the loop
			// unlocks at exit, other goroutines run on it.
			_ = unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(&original[0])), 0, 0, 0)
			return None
		},
	}
	s := startEngine(tb, h, "tcp://127.0.0.1:0", WithLoops(1), WithLockOSThread(lock))

	stop := make(chan struct{})
	var churn sync.WaitGroup
	for i := range runtime.GOMAXPROCS(0) + 2 {
		churn.Add(1)
		go func() {
			defer churn.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				runtime.KeepAlive(make([]byte, 1024+n%4096))
				if i == 0 && n%2000 == 0 {
					runtime.GC()
				}
				runtime.Gosched()
			}
		}()
	}
	defer func() { close(stop); churn.Wait() }()

	nc := s.dial(tb)
	if err := nc.SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
		tb.Fatal(err)
	}
	r := newTBLineReader(nc)
	first := r.line(tb)
	// Unlocked, OnOpen itself may move threads between naming its thread
	// and reporting it: only the locked run must keep the name.
	if lock && !strings.HasSuffix(first, " "+name) {
		tb.Fatalf("OnOpen reported %q, want its thread named %q", first, name)
	}
	moved := 0
	for i := 0; i < rounds; i++ {
		if _, err := io.WriteString(nc, "?\n"); err != nil {
			tb.Fatalf("round %d: write: %v", i, err)
		}
		if l := r.line(tb); l != first {
			moved++
		}
	}
	return moved
}

// tbThreadLine is "tid name\n" for the calling thread.
func tbThreadLine() []byte {
	var name [16]byte
	_ = unix.Prctl(unix.PR_GET_NAME, uintptr(unsafe.Pointer(&name[0])), 0, 0, 0)
	n := bytes.IndexByte(name[:], 0)
	if n < 0 {
		n = len(name)
	}
	return fmt.Appendf(nil, "%d %s\n", unix.Gettid(), name[:n])
}

// tbLineReader reads newline-terminated replies.
type tbLineReader struct {
	r   io.Reader
	buf []byte
}

func newTBLineReader(r io.Reader) *tbLineReader { return &tbLineReader{r: r} }

func (lr *tbLineReader) line(tb testing.TB) string {
	tb.Helper()
	for {
		if i := bytes.IndexByte(lr.buf, '\n'); i >= 0 {
			l := string(lr.buf[:i])
			lr.buf = lr.buf[i+1:]
			return l
		}
		var chunk [256]byte
		n, err := lr.r.Read(chunk[:])
		lr.buf = append(lr.buf, chunk[:n]...)
		if err != nil && n == 0 {
			tb.Fatalf("read reply: %v", err)
		}
	}
}

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
