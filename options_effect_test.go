package evloop

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/evloop/evloop/internal/socket"
)

// Each test here turns one option on (or off) and observes its effect on a
// real socket: on the fd the engine accepted, read inside OnOpen on the
// loop, or on the engine's listener fd.

// tbSockopts is what a test reads from an accepted socket.
type tbSockopts struct {
	noDelay, keepAlive, keepIdle, keepIntvl, keepCnt int
	tcpErr                                           error // from the first TCP-level getsockopt
}

// tbAcceptedSockopts serves addr with opts, connects one client and returns
// the socket options of the fd the engine accepted for it, read in OnOpen;
// more, when not nil, reads there the ones whose names differ by system.
func tbAcceptedSockopts(tb testing.TB, addr string, more func(fd int, o *tbSockopts) error, opts ...Option) tbSockopts {
	tb.Helper()
	got := make(chan tbSockopts, 1)
	h := &tbHandler{open: func(c Conn) ([]byte, Action) {
		fd := int(c.(*conn).fd)
		var o tbSockopts
		// Booleans as 0 or 1: the BSDs report "on" as the option's bit.
		o.keepAlive, _ = unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_KEEPALIVE)
		o.keepAlive = min(o.keepAlive, 1)
		o.noDelay, o.tcpErr = unix.GetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY)
		o.noDelay = min(o.noDelay, 1)
		if more != nil {
			o.tcpErr = errors.Join(o.tcpErr, more(fd, &o))
		}
		got <- o
		return nil, None
	}}
	s := startEngine(tb, h, addr, append([]Option{WithLoops(1)}, opts...)...)
	s.dial(tb)
	return tbRecv(tb, got, 10*time.Second, "OnOpen")
}

// TestOptionTCPNoDelay: TCP_NODELAY is set on accepted connections by
// default and with WithTCPNoDelay(true), and left off (the kernel default)
// with WithTCPNoDelay(false).
func TestOptionTCPNoDelay(t *testing.T) {
	tests := []struct {
		name string
		opts []Option
		want int
	}{
		{name: "default", want: 1},
		{name: "on", opts: []Option{WithTCPNoDelay(true)}, want: 1},
		{name: "off", opts: []Option{WithTCPNoDelay(false)}, want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := tbAcceptedSockopts(t, "tcp://127.0.0.1:0", nil, tt.opts...)
			if o.tcpErr != nil {
				t.Fatalf("getsockopt: %v", o.tcpErr)
			}
			if o.noDelay != tt.want {
				t.Errorf("TCP_NODELAY = %d, want %d", o.noDelay, tt.want)
			}
		})
	}
}

// TestOptionTCPOptionsSkipUnix: the TCP options (on by default for
// TCP_NODELAY, asked for here for keepalive) are not applied to a
// unix-socket connection, where setting them can only fail: nothing is
// logged, even at debug level, and the socket has no keepalive.
func TestOptionTCPOptionsSkipUnix(t *testing.T) {
	logger, logs := itQuietLogger()
	path := filepath.Join(t.TempDir(), "s.sock")
	opts := []Option{WithTCPNoDelay(true), WithLogger(logger)}
	if socket.KeepAliveTuning() == nil {
		opts = append(opts, WithTCPKeepAlive(7*time.Second))
	}
	o := tbAcceptedSockopts(t, "unix://"+path, nil, opts...)
	if o.tcpErr == nil {
		t.Fatal("TCP-level getsockopt succeeded on a unix socket; the test does not test what it should")
	}
	if o.keepAlive != 0 {
		t.Errorf("SO_KEEPALIVE = %d on a unix socket, want 0", o.keepAlive)
	}
	// prepare runs before the connection reaches its loop, so anything it
	// logged is in the buffer by the time OnOpen ran.
	if s := logs.String(); s != "" {
		t.Errorf("the engine logged for a unix connection:\n%s", s)
	}
}

// TestOptionReuseAddr: listeners get SO_REUSEADDR by default and not with
// WithReuseAddr(false), in both accepting modes.
func TestOptionReuseAddr(t *testing.T) {
	tests := []struct {
		name string
		opts []Option
		want int
	}{
		{name: "default", want: 1},
		{name: "off", opts: []Option{WithReuseAddr(false)}, want: 0},
		{name: "reuseport default", opts: []Option{WithReusePort(true)}, want: 1},
		{name: "reuseport off", opts: []Option{WithReusePort(true), WithReuseAddr(false)}, want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startEngine(t, echoHandler{}, "tcp://127.0.0.1:0", append([]Option{WithLoops(2)}, tt.opts...)...)
			for _, ln := range s.eng.e.lns {
				v, err := unix.GetsockoptInt(ln.fd, unix.SOL_SOCKET, unix.SO_REUSEADDR)
				if err != nil {
					t.Fatalf("getsockopt SO_REUSEADDR: %v", err)
				}
				if min(v, 1) != tt.want { // the BSDs report "on" as the option's bit
					t.Errorf("listener %v: SO_REUSEADDR = %d, want %d", ln.addr, v, tt.want)
				}
			}
		})
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
