//go:build unix

package evloop

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The EMFILE test runs the engine in a child process (this test binary,
// re-executed) whose descriptor limit is low enough to exhaust with a few
// dozen connections, without touching the limit of the test process.
const (
	tbEMFILEEnv   = "EVLOOP_TEST_EMFILE_CHILD"
	tbEMFILELimit = 64
	// tbEMFILEClients is more than the child can hold: the rest wait in
	// the listen backlog, fully handshaken by the kernel.
	tbEMFILEClients = 96
)

// TestEMFILEChild is the child half of TestAcceptEMFILEBackoff; run
// directly it skips. The environment variable selects the accepting mode
// ("acceptor" or "reuseport"). It lowers RLIMIT_NOFILE, serves echo, prints
// "addr <address>", and on a "stop" line on stdin (or its EOF) prints
// "stats accepted=<n> backoffs=<n>" and stops the engine.
func TestEMFILEChild(t *testing.T) {
	opts := []Option{WithLoops(1)}
	switch os.Getenv(tbEMFILEEnv) {
	case "acceptor":
	case "reuseport":
		opts = append(opts, WithReusePort(true))
	default:
		t.Skip("child process of TestAcceptEMFILEBackoff")
	}
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatalf("getrlimit: %v", err)
	}
	lim.Cur = tbEMFILELimit
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatalf("setrlimit: %v", err)
	}
	booted := make(chan Engine, 1)
	h := &tbHandler{
		boot: func(e Engine) Action { booted <- e; return None },
		traffic: func(c Conn) Action {
			b, _ := c.Next(-1)
			if _, err := c.Write(b); err != nil {
				return Close
			}
			return None
		},
	}
	errc := make(chan error, 1)
	go func() { errc <- Run(h, "tcp://127.0.0.1:0", opts...) }()
	var eng Engine
	select {
	case eng = <-booted:
	case err := <-errc:
		t.Fatalf("Run: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("engine did not boot")
	}
	fmt.Printf("addr %s\n", eng.Addrs()[0])

	// Wait for the parent; a dead parent closes stdin, which ends the
	// child as well. The parent kills the child after a while regardless.
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() && sc.Text() != "stop" {
	}
	st := eng.Stats()
	fmt.Printf("stats accepted=%d backoffs=%d\n", st.Accepted, st.AcceptBackoffs)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := eng.Stop(ctx); err != nil {
		t.Errorf("Stop: %v", err)
	}
	if err := <-errc; err != nil {
		t.Errorf("Run returned %v after Stop", err)
	}
}

// tbCPUTicks returns a process's user+system CPU time in clock ticks
// (fields 14 and 15 of /proc/<pid>/stat, after the parenthesised name),
// and false where there is no /proc.
func tbCPUTicks(tb testing.TB, pid int) (uint64, bool) {
	tb.Helper()
	if runtime.GOOS != "linux" {
		return 0, false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		tb.Fatalf("read stat: %v", err)
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	// fields[0] is the state (field 3); utime and stime are fields 14, 15.
	utime, err1 := strconv.ParseUint(fields[11], 10, 64)
	stime, err2 := strconv.ParseUint(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		tb.Fatalf("parse /proc/%d/stat %q: %v %v", pid, s, err1, err2)
	}
	return utime + stime, true
}

// TestAcceptEMFILEBackoff exhausts a real process's descriptors: accepted
// connections keep being served, the acceptor backs off instead of
// spinning or stopping, and the waiting connections are accepted once
// descriptors are free again.
func TestAcceptEMFILEBackoff(t *testing.T) {
	tests := []struct {
		name string
		mode string // TestEMFILEChild's accepting mode
	}{
		{name: "acceptor", mode: "acceptor"},
		{name: "reuseport", mode: "reuseport"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			child := childStart(t, childSpec{
				run:     "TestEMFILEChild",
				env:     tbEMFILEEnv + "=" + tt.mode,
				timeout: 2 * time.Minute,
				grace:   5 * time.Second,
			})
			pid := child.cmd.Process.Pid
			addr, err := net.ResolveTCPAddr("tcp", child.line(t, "addr ", 30*time.Second))
			if err != nil {
				t.Fatalf("child address: %v", err)
			}

			clients := make([]net.Conn, tbEMFILEClients)
			for i := range clients {
				clients[i] = tbDial(t, addr)
			}
			// Wait until the child holds as many descriptors as it may
			// (where they can be counted; the last client is beyond the
			// limit either way).
			if !itEventually(10*time.Second, func() bool { n := tbOpenFDs(pid); return n < 0 || n >= tbEMFILELimit }) {
				t.Fatalf("child holds %d descriptors, want the limit %d", tbOpenFDs(pid), tbEMFILELimit)
			}
			// The first clients were accepted: they echo while the process is out
			// of descriptors. The last one waits in the backlog: no echo.
			for i := 0; i < 8; i++ {
				if err := tbEcho(clients[i], []byte(fmt.Sprintf("early %d", i)), 5*time.Second); err != nil {
					t.Fatalf("accepted client %d while exhausted: %v", i, err)
				}
			}
			last := clients[len(clients)-1]
			if err := tbEcho(last, []byte("waiting"), 200*time.Millisecond); err == nil {
				t.Fatal("the last client was served although the child is out of descriptors")
			}

			const window = time.Second
			before, start := tbCPUTicks(t, pid)
			begin := time.Now()
			time.Sleep(window)
			if after, ok := tbCPUTicks(t, pid); ok && start {
				elapsed := time.Since(begin)
				cpu := float64(after-before) / 100 / elapsed.Seconds() // USER_HZ is 100 on Linux
				t.Logf("child CPU while out of descriptors: %.1f%% of one core over %v", 100*cpu, elapsed.Round(time.Millisecond))
				if cpu >= 0.5 {
					t.Errorf("child used %.0f%% of a core while out of descriptors: the acceptor spins", 100*cpu)
				}
			}
			for i := 0; i < 8; i++ {
				if err := tbEcho(clients[i], []byte(fmt.Sprintf("still %d", i)), 5*time.Second); err != nil {
					t.Fatalf("accepted client %d after the window: %v", i, err)
				}
			}

			// Free most descriptors: every waiting client must now be served.
			// "waiting" was sent to the last client already and is echoed first.
			keep := tbEMFILEClients - 24
			for _, c := range clients[8:keep] {
				c.Close()
			}
			waiting := make([]byte, len("waiting"))
			if err := last.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
				t.Fatal(err)
			}
			if _, err := io.ReadFull(last, waiting); err != nil || string(waiting) != "waiting" {
				t.Fatalf("waiting client's first echo: %q, %v", waiting, err)
			}
			for i := keep; i < len(clients); i++ {
				if err := tbEcho(clients[i], []byte(fmt.Sprintf("late %d", i)), 5*time.Second); err != nil {
					t.Fatalf("waiting client %d after descriptors were freed: %v", i, err)
				}
			}
			for i := 0; i < 8; i++ {
				if err := tbEcho(clients[i], []byte(fmt.Sprintf("end %d", i)), 5*time.Second); err != nil {
					t.Fatalf("early client %d at the end: %v", i, err)
				}
			}

			if _, err := child.stdin.Write([]byte("stop\n")); err != nil {
				t.Fatalf("tell the child to stop: %v", err)
			}
			var accepted, backoffs uint64
			stats := child.line(t, "stats ", 15*time.Second)
			if _, err := fmt.Sscanf(stats, "accepted=%d backoffs=%d", &accepted, &backoffs); err != nil {
				t.Fatalf("parse %q: %v", stats, err)
			}
			t.Logf("child: accepted=%d backoffs=%d", accepted, backoffs)
			if backoffs == 0 {
				t.Error("Stats().AcceptBackoffs = 0 after running out of descriptors")
			}
			if accepted != tbEMFILEClients {
				t.Errorf("Stats().Accepted = %d, want %d", accepted, tbEMFILEClients)
			}

			// The back-off is logged, at a bounded rate (the child ran for a few
			// seconds at most, with the warning limited to one a second).
			child.waitExit(t, 15*time.Second)
			logged, err := os.ReadFile(child.log)
			if err != nil {
				t.Fatal(err)
			}
			warnings := strings.Count(string(logged), "backing off")
			t.Logf("back-off warnings logged: %d", warnings)
			if warnings == 0 || warnings > 10 {
				t.Errorf("child logged %d back-off warnings, want between 1 and 10", warnings)
			}
		})
	}
}
