package evloop

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/evloop/evloop/internal/socket"
)

// The idle-memory test runs the server in a child process (this test
// binary, re-executed), so that the clients' sockets and objects in the
// test process do not count: the parent reads the child's VmRSS from
// /proc and the child reports its own Go heap.

// fcIdleMemEnv makes TestIdleMemChild serve instead of skipping.
const fcIdleMemEnv = "EVLOOP_TEST_IDLEMEM_CHILD"

// TestIdleMemChild is the child half of TestIdleMemoryPerConn; run
// directly it skips. It serves echo with two loops, prints "addr
// <address>", then answers commands on stdin: "count" prints "count
// <open connections>"; "measure" collects garbage, returns freed memory to
// the system and prints "mem heap=<HeapInuse> conns=<open connections>";
// "stop" (or EOF) stops the engine.
func TestIdleMemChild(t *testing.T) {
	if os.Getenv(fcIdleMemEnv) == "" {
		t.Skip("child process of TestIdleMemoryPerConn")
	}
	s := startEngine(t, echoHandler{}, "tcp://127.0.0.1:0", WithLoops(2))
	fmt.Printf("addr %s\n", s.addr)
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		switch sc.Text() {
		case "count":
			fmt.Printf("count %d\n", s.eng.CountConnections())
		case "measure":
			runtime.GC()
			debug.FreeOSMemory()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			fmt.Printf("mem heap=%d conns=%d\n", ms.HeapInuse, s.eng.CountConnections())
		case "stop":
			return
		}
	}
}

// fcChildMem is one measurement of the child.
type fcChildMem struct {
	rss, heap int64 // bytes
	conns     int
}

// fcMeasureChild has the child collect garbage and report its heap, then
// reads its resident set size.
func fcMeasureChild(tb testing.TB, ch *childProcess) fcChildMem {
	tb.Helper()
	var m fcChildMem
	reply := ch.ask(tb, "measure", "mem ")
	if _, err := fmt.Sscanf(reply, "heap=%d conns=%d", &m.heap, &m.conns); err != nil {
		tb.Fatalf("child's reply %q: %v", reply, err)
	}
	m.rss = fcVmRSS(tb, ch.cmd.Process.Pid)
	return m
}

// fcVmRSS returns a process's resident set size from /proc/<pid>/status,
// or 0 where there is no /proc (then only the heap is checked).
func fcVmRSS(tb testing.TB, pid int) int64 {
	tb.Helper()
	if runtime.GOOS != "linux" {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		tb.Fatalf("read status: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				tb.Fatalf("parse %q: %v", line, err)
			}
			return kb << 10
		}
	}
	tb.Fatalf("no VmRSS in /proc/%d/status", pid)
	return 0
}

// TestIdleMemoryPerConn opens 10,000 idle connections (2,000 reduced) to an
// echo server in a child process with two loops, and measures the child's
// resident memory and Go heap per connection: first for connections never
// used, then after each has exchanged one message (whose buffers must have
// been given back). The figures are logged; the bound asserted is
// generous (the target is 0.25 KiB of RSS per connection), and
// under the race detector it holds for the heap only. An engine that keeps
// a read or write buffer per connection, even 4 KiB, fails it.
func TestIdleMemoryPerConn(t *testing.T) {
	n := itScale(10000, 2000)
	bound := float64(1 << 10) // bytes per connection, RSS and heap alike
	if socket.Portable {
		// Its documented cost: the connection's reader goroutine, with
		// its stack and read buffer.
		bound = 8 << 10
	}
	ch := childStart(t, childSpec{
		run:     "TestIdleMemChild",
		env:     fcIdleMemEnv + "=1",
		timeout: 5 * time.Minute,
		grace:   10 * time.Second,
	})
	addr := ch.line(t, "addr ", 30*time.Second)
	base := fcMeasureChild(t, ch)

	clients := make([]net.Conn, 0, n)
	t.Cleanup(func() {
		for _, nc := range clients {
			nc.Close()
		}
	})
	for range n {
		nc, err := net.DialTimeout("tcp", addr, 10*time.Second)
		if err != nil {
			t.Fatalf("dial %d: %v", len(clients), err)
		}
		clients = append(clients, nc)
	}
	if !itEventually(30*time.Second, func() bool { return ch.ask(t, "count", "count ") == strconv.Itoa(n) }) {
		t.Fatalf("the child serves %s connections, want %d", ch.ask(t, "count", "count "), n)
	}
	idle := fcMeasureChild(t, ch)

	msg := []byte("ping")
	for i, nc := range clients {
		if err := nc.SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
			t.Fatal(err)
		}
		if _, err := nc.Write(msg); err != nil {
			t.Fatalf("client %d write: %v", i, err)
		}
	}
	buf := make([]byte, len(msg))
	for i, nc := range clients {
		if _, err := io.ReadFull(nc, buf); err != nil || string(buf) != string(msg) {
			t.Fatalf("client %d echo: %q, %v", i, buf, err)
		}
	}
	used := fcMeasureChild(t, ch)

	per := func(m fcChildMem) (rss, heap float64) {
		return float64(m.rss-base.rss) / float64(n), float64(m.heap-base.heap) / float64(n)
	}
	t.Logf("child at start: RSS %.1f MiB, heap %.1f MiB", float64(base.rss)/(1<<20), float64(base.heap)/(1<<20))
	for _, p := range []struct {
		name string
		m    fcChildMem
	}{{name: "never used", m: idle}, {name: "after one echo", m: used}} {
		rss, heap := per(p.m)
		t.Logf("%d connections, %s: RSS +%.1f MiB = %.0f B/conn (%.2f KiB), heap +%.1f MiB = %.0f B/conn",
			n, p.name, float64(p.m.rss-base.rss)/(1<<20), rss, rss/1024, float64(p.m.heap-base.heap)/(1<<20), heap)
		if p.m.conns != n {
			t.Errorf("%s: the child served %d connections when measured, want %d", p.name, p.m.conns, n)
		}
		if heap > bound {
			t.Errorf("%s: %.0f B of heap per idle connection, want under %.0f B", p.name, heap, bound)
		}
		// The race detector's shadow memory makes RSS meaningless.
		if rss > bound && !raceEnabled && runtime.GOOS == "linux" {
			t.Errorf("%s: %.0f B of RSS per idle connection, want under %.0f B", p.name, rss, bound)
		}
	}
	ch.ask(t, "count", "count ") // still answering
	if _, err := io.WriteString(ch.stdin, "stop\n"); err != nil {
		t.Fatal(err)
	}
	ch.waitExit(t, 30*time.Second)
}
