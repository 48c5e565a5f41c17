package evloop

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// tbLogCapture is a slog handler that keeps the records it gets and says
// when each arrived.
type tbLogCapture struct {
	mu      sync.Mutex
	records []tbLogRecord
	got     chan struct{}
}

type tbLogRecord struct {
	at    time.Time
	level slog.Level
	msg   string
	attrs map[string]string
}

func newLogCapture() *tbLogCapture { return &tbLogCapture{got: make(chan struct{}, 16)} }

func (h *tbLogCapture) Enabled(context.Context, slog.Level) bool { return true }
func (h *tbLogCapture) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *tbLogCapture) WithGroup(string) slog.Handler            { return h }
func (h *tbLogCapture) Handle(_ context.Context, r slog.Record) error {
	rec := tbLogRecord{at: time.Now(), level: r.Level, msg: r.Message, attrs: map[string]string{}}
	r.Attrs(func(a slog.Attr) bool {
		rec.attrs[a.Key] = a.Value.String()
		return true
	})
	h.mu.Lock()
	h.records = append(h.records, rec)
	h.mu.Unlock()
	select {
	case h.got <- struct{}{}:
	default:
	}
	return nil
}

func (h *tbLogCapture) find(msg string) []tbLogRecord {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []tbLogRecord
	for _, r := range h.records {
		if r.msg == msg {
			out = append(out, r)
		}
	}
	return out
}

// sleepyHandler sleeps in OnTraffic on a message that says "sleep", and
// echoes the others.
type sleepyHandler struct {
	BaseHandler
	d       time.Duration
	started chan time.Time
}

func (h *sleepyHandler) OnTraffic(c Conn) Action {
	b, _ := c.Next(-1)
	if string(b) == "sleep" {
		h.started <- time.Now()
		time.Sleep(h.d)
	}
	_, _ = c.Write(b)
	return None
}

// TestWatchdogReportsStall: a handler that sleeps 300 ms with a 100 ms
// threshold is reported once, within 200 ms of the threshold (asserted
// without the race detector, which slows everything), with the loop, what
// it ran, the connection and the handler's function in the stack, and the
// stall is counted.
func TestWatchdogReportsStall(t *testing.T) {
	logs := newLogCapture()
	h := &sleepyHandler{d: 300 * time.Millisecond, started: make(chan time.Time, 1)}
	const threshold = 100 * time.Millisecond
	s := startEngine(t, h, "tcp://127.0.0.1:0", WithLoops(1), WithWatchdog(threshold), WithLogger(slog.New(logs)))
	c := s.dial(t)
	if err := tbEcho(c, []byte("warm"), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := tbEcho(c, []byte("sleep"), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	start := tbRecv(t, h.started, time.Second, "the sleep's start")
	reports := logs.find("evloop: loop stalled")
	if len(reports) != 1 {
		t.Fatalf("%d stall reports, want 1", len(reports))
	}
	r := reports[0]
	after := r.at.Sub(start)
	t.Logf("reported %v after the callback began (threshold %v)", after, threshold)
	if !raceEnabled && (after < threshold || after > threshold+200*time.Millisecond) {
		t.Errorf("reported %v after the stall began, want between %v and %v", after, threshold, threshold+200*time.Millisecond)
	}
	if r.level != slog.LevelWarn || r.attrs["loop"] != "0" || r.attrs["in"] != "OnTraffic" ||
		r.attrs["conn"] != c.LocalAddr().String() {
		t.Errorf("report %v %q %v: want Warn, loop 0, in OnTraffic, conn %v", r.level, r.msg, r.attrs, c.LocalAddr())
	}
	if !strings.Contains(r.attrs["stack"], "(*sleepyHandler).OnTraffic") {
		t.Errorf("the report's stack does not show the handler:\n%s", r.attrs["stack"])
	}
	st := s.eng.Stats()
	if st.Stalls != 1 || st.Loops[0].Stalls != 1 {
		t.Errorf("Stalls = %d (loop 0: %d), want 1", st.Stalls, st.Loops[0].Stalls)
	}
}

// TestWatchdogQuietWhenHealthy: a loop under echo load, and one that idles
// in epoll_wait for longer than the threshold, are never reported. The
// watchdog counts wall time, so a loop the machine does not run for a while
// looks stalled: the threshold leaves room for what a loaded 2-core
// machine under the race detector delays a goroutine by (30 ms was seen).
func TestWatchdogQuietWhenHealthy(t *testing.T) {
	logs := newLogCapture()
	s := startEngine(t, echoHandler{}, "tcp://127.0.0.1:0", WithLoops(2), WithWatchdog(200*time.Millisecond),
		WithLogger(slog.New(logs)))
	var wg sync.WaitGroup
	errc := make(chan error, 8)
	for range 8 {
		c := s.dial(t)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for deadline := time.Now().Add(300 * time.Millisecond); time.Now().Before(deadline); {
				if err := tbEcho(c, []byte("ping"), 5*time.Second); err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // idle, longer than the threshold
	if r := logs.find("evloop: loop stalled"); len(r) != 0 {
		t.Fatalf("%d stall reports for healthy loops: %v", len(r), r[0].attrs)
	}
	if st := s.eng.Stats(); st.Stalls != 0 {
		t.Fatalf("Stalls = %d, want 0", st.Stalls)
	}
}

// tbWatchdogKillEnv makes TestWatchdogKillChild serve.
const tbWatchdogKillEnv = "EVLOOP_TEST_WATCHDOG_KILL_CHILD"

// TestWatchdogKill: WithWatchdogKill crashes the process once a stall lasts
// the kill time, with a panic that names the loop and what it ran and
// carries the stuck goroutine's stack.
func TestWatchdogKill(t *testing.T) {
	child := childStart(t, childSpec{
		run:     "TestWatchdogKillChild",
		env:     tbWatchdogKillEnv + "=1",
		timeout: time.Minute,
		grace:   10 * time.Second,
	})
	nc := tbDial(t, tbResolveTCP(t, child.line(t, "addr ", 30*time.Second)))
	if _, err := io.WriteString(nc, "sleep"); err != nil {
		t.Fatal(err)
	}
	var exit *exec.ExitError
	if err := child.exitErr(t, 30*time.Second); !errors.As(err, &exit) || exit.ExitCode() == 0 {
		t.Fatalf("the child ended with %v, want a crash", err)
	}
	stderr, err := os.ReadFile(child.log)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"panic: evloop: loop 0 stuck in OnTraffic", "(*sleepyHandler).OnTraffic"} {
		if !bytes.Contains(stderr, []byte(want)) {
			t.Errorf("the child's stderr lacks %q:\n%s", want, stderr[max(0, len(stderr)-4096):])
		}
	}
}

// TestWatchdogKillChild is TestWatchdogKill's child: a handler that sleeps
// far longer than the kill time.
func TestWatchdogKillChild(t *testing.T) {
	if os.Getenv(tbWatchdogKillEnv) == "" {
		t.Skip("runs only as the child of TestWatchdogKill")
	}
	h := &sleepyHandler{d: time.Minute, started: make(chan time.Time, 1)}
	s := startEngine(t, h, "tcp://127.0.0.1:0", WithLoops(1), WithWatchdog(20*time.Millisecond),
		WithWatchdogKill(200*time.Millisecond), WithLogger(tbQuietLogger()))
	fmt.Println("addr", s.addr)
	_, _ = io.Copy(io.Discard, os.Stdin)
}

// TestWatchdogOptions: the watchdog's options are validated.
func TestWatchdogOptions(t *testing.T) {
	for _, opts := range [][]Option{
		{WithWatchdog(-time.Second)},
		{WithWatchdog(time.Millisecond)},
		{WithWatchdogKill(time.Second)},
		{WithWatchdog(time.Second), WithWatchdogKill(time.Millisecond)},
	} {
		if err := Run(echoHandler{}, "tcp://127.0.0.1:0", opts...); !errors.Is(err, ErrInvalidOption) {
			t.Errorf("Run: %v, want ErrInvalidOption", err)
		}
	}
}
