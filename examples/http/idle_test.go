//go:build unix

package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// A process may hold at most 20,000 file descriptors here, too few for
// 10,000 connections with both ends in one process, so TestIdleConnections
// keeps its idle clients in a child: this test binary, re-executed to run
// TestIdleClientsChild, which dials them, reports on stdout, and watches
// the server close them.

// idleChildEnv holds "<address> <connections>" for TestIdleClientsChild.
const idleChildEnv = "EVLOOP_HTTP_IDLE_CLIENTS"

// raiseNoFile raises this process's soft limit on open files to the hard
// limit and returns it.
func raiseNoFile(tb testing.TB) uint64 {
	tb.Helper()
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		tb.Fatalf("getrlimit: %v", err)
	}
	rl.Cur = rl.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		tb.Fatalf("setrlimit: %v", err)
	}
	return uint64(rl.Cur) // int64 on some BSDs
}

// TestIdleClientsChild is the child half of TestIdleConnections; run
// directly it skips. It connects the given number of sockets to the
// address one after another, prints "connected <n> <time taken>", then
// waits (at most 15 s) for the server to end each one, and prints
// "closed <count> eof=<n> reset=<n> data=<n> lifetimes=<µs,µs,...>",
// where a lifetime is from the start of that connection's connect to its
// end as the client saw it. It uses raw sockets and one epoll or kqueue
// instance (idleWatch) rather than a goroutine per connection, which the
// race detector limits to 8,128.
func TestIdleClientsChild(t *testing.T) {
	spec := os.Getenv(idleChildEnv)
	if spec == "" {
		t.Skip("child process of TestIdleConnections")
	}
	addrText, countText, _ := strings.Cut(spec, " ")
	n, err := strconv.Atoi(countText)
	if err != nil {
		t.Fatalf("%s=%q: %v", idleChildEnv, spec, err)
	}
	ap, err := netipAddrPort(addrText)
	if err != nil {
		t.Fatal(err)
	}
	raiseNoFile(t)
	w := newIdleWatch()

	type clientEnd struct {
		connected time.Time
		ended     time.Duration // 0 while open
	}
	ends := make(map[int]*clientEnd, n) // by fd
	defer func() {
		for fd := range ends {
			syscall.Close(fd)
		}
	}()
	began := time.Now()
	for i := range n {
		fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0) // darwin has no SOCK_CLOEXEC
		if err != nil {
			t.Fatalf("socket %d: %v", i, err)
		}
		syscall.CloseOnExec(fd)
		// Before the connect: the server's idle clock for this connection
		// cannot start earlier, which makes a lifetime below the timeout
		// a real early close. A blocking connect to a loopback listener
		// returns as soon as the kernel completes the handshake.
		connecting := time.Now()
		if err := syscall.Connect(fd, ap); err != nil {
			syscall.Close(fd)
			t.Fatalf("connect %d: %v", i, err)
		}
		ends[fd] = &clientEnd{connected: connecting}
		if err := w.add(fd); err != nil {
			t.Fatalf("watch %d: %v", i, err)
		}
	}
	fmt.Printf("connected %d %v\n", n, time.Since(began))

	var closed, eof, reset, data int
	lifetimes := make([]string, 0, n)
	buf := make([]byte, 512)
	deadline := time.Now().Add(15 * time.Second)
	// Bounded: ends at the deadline, or once every connection ended.
	for closed < n && time.Now().Before(deadline) {
		ready, err := w.wait(100)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			t.Fatalf("wait: %v", err)
		}
		for _, fd := range ready {
			ce := ends[fd]
			if ce == nil || ce.ended != 0 {
				continue
			}
			m, err := syscall.Read(fd, buf)
			switch {
			case errors.Is(err, syscall.EAGAIN):
				continue
			case err != nil:
				reset++
			case m == 0:
				eof++
			default:
				data++ // an idle close sends nothing; the parent fails on this
			}
			ce.ended = time.Since(ce.connected)
			closed++
			lifetimes = append(lifetimes, strconv.FormatInt(ce.ended.Microseconds(), 10))
			w.del(fd)
		}
	}
	fmt.Printf("closed %d eof=%d reset=%d data=%d lifetimes=%s\n", closed, eof, reset, data, strings.Join(lifetimes, ","))
}

// netipAddrPort parses "127.0.0.1:port" into a connect address.
func netipAddrPort(s string) (*syscall.SockaddrInet4, error) {
	host, portText, err := net.SplitHostPort(s)
	if err != nil {
		return nil, err
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return nil, err
	}
	ip := net.ParseIP(host).To4()
	if ip == nil {
		return nil, fmt.Errorf("%q is not an IPv4 address", host)
	}
	sa := &syscall.SockaddrInet4{Port: port}
	copy(sa.Addr[:], ip)
	return sa, nil
}

// idleReport is the child's final line.
type idleReport struct {
	closed, eof, reset, data int
	lifetimes                []time.Duration
}

func parseIdleReport(line string) (idleReport, error) {
	var r idleReport
	var lifetimes string
	if _, err := fmt.Sscanf(line, "closed %d eof=%d reset=%d data=%d lifetimes=%s",
		&r.closed, &r.eof, &r.reset, &r.data, &lifetimes); err != nil {
		return r, fmt.Errorf("child's report %.200q: %v", line, err)
	}
	for f := range strings.SplitSeq(lifetimes, ",") {
		us, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return r, fmt.Errorf("lifetime %q: %v", f, err)
		}
		r.lifetimes = append(r.lifetimes, time.Duration(us)*time.Microsecond)
	}
	return r, nil
}

// TestIdleConnections: with a 1 s idle timeout, 10,000 connections that
// never send a byte (held by a child process) are all closed within 3 s of
// their connect, none before 1 s, while a connection that sends a request
// every 300 ms stays open throughout.
func TestIdleConnections(t *testing.T) {
	const (
		conns = 10000
		idle  = time.Second
		limit = 3 * time.Second
	)
	if lim := raiseNoFile(t); lim < conns+1000 {
		t.Skipf("open-file limit %d: too low for %d server connections", lim, conns)
	}
	s := startServerWith(t, config{addr: "tcp://127.0.0.1:0", loops: 2, idleTimeout: idle, readHeaderTimeout: 10 * time.Second})

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestIdleClientsChild$", "-test.count=1", "-test.timeout=60s")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s %d", idleChildEnv, s.Addr, conns))
	cmd.Stderr = os.Stderr
	cmd.WaitDelay = 5 * time.Second
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 4)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(nil, 1<<20) // the report lists every lifetime
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	defer func() {
		if t.Failed() {
			_ = cmd.Process.Kill() // its report no longer matters
			_ = cmd.Wait()
			return
		}
		if err := cmd.Wait(); err != nil {
			t.Errorf("child: %v", err)
		}
	}()

	// The busy connection asks every 300 ms from the child's start until it
	// has exited, its report made: about 2 s after the last connect.
	busy := s.dial(t)
	tick := time.NewTicker(300 * time.Millisecond)
	defer tick.Stop()
	var (
		report            idleReport
		asked             int
		connected, closed bool
	)
	timeout := time.After(60 * time.Second)
	for lines != nil {
		select {
		case line, ok := <-lines:
			switch {
			case !ok:
				lines = nil
			case strings.HasPrefix(line, "connected "):
				connected = true
				t.Logf("child: %s", line)
			case strings.HasPrefix(line, "closed "):
				if report, err = parseIdleReport(line); err != nil {
					t.Fatal(err)
				}
				closed = true
			}
		case <-tick.C:
			busy.send(t, get(http.MethodGet, ""))
			busy.expectHello(t, http.MethodGet)
			asked++
		case <-timeout:
			t.Fatalf("the child did not finish within 60 s (connected: %v, reported: %v)", connected, closed)
		}
	}
	if !closed {
		t.Fatal("the child exited without its report")
	}
	busy.send(t, get(http.MethodGet, ""))
	busy.expectHello(t, http.MethodGet)
	busy.expectOpen(t)

	lt := report.lifetimes
	if len(lt) == 0 {
		t.Fatalf("none of the %d idle connections closed", conns)
	}
	slices.Sort(lt)
	t.Logf("%d of %d idle connections closed: %d EOF, %d reset, %d with data; lifetime min %v, median %v, p99 %v, max %v; busy connection served %d requests meanwhile",
		report.closed, conns, report.eof, report.reset, report.data, ms(lt[0]), ms(lt[len(lt)/2]), ms(lt[len(lt)*99/100]), ms(lt[len(lt)-1]), asked+1)
	if report.closed != conns {
		t.Errorf("%d of %d idle connections closed", report.closed, conns)
	}
	if report.data != 0 {
		t.Errorf("%d idle connections received bytes before their close", report.data)
	}
	if lt[0] < idle {
		t.Errorf("an idle connection closed %v after its connect, before the %v idle timeout", lt[0], idle)
	}
	if last := lt[len(lt)-1]; last > limit {
		t.Errorf("an idle connection lived %v, want at most %v", last, limit)
	}
}

// ms rounds d for a log line.
func ms(d time.Duration) time.Duration { return d.Round(time.Millisecond) }

// idleWatch reports which of many client sockets became readable or were
// hung up on, for TestIdleClientsChild, with poll(2), which every unix
// system has: one call scans every socket still watched, which is cheap
// next to the 100 ms the child waits between scans.
type idleWatch struct {
	fds   []unix.PollFd
	index map[int]int // fd -> its place in fds
	ready []int
}

func newIdleWatch() *idleWatch { return &idleWatch{index: map[int]int{}} }

func (w *idleWatch) add(fd int) error {
	w.index[fd] = len(w.fds)
	w.fds = append(w.fds, unix.PollFd{Fd: int32(fd), Events: unix.POLLIN})
	return nil
}

// del stops watching fd: a hung-up socket stays ready for poll forever.
func (w *idleWatch) del(fd int) {
	i, ok := w.index[fd]
	if !ok {
		return
	}
	last := len(w.fds) - 1
	w.fds[i] = w.fds[last]
	w.index[int(w.fds[i].Fd)] = i
	w.fds = w.fds[:last]
	delete(w.index, fd)
}

// wait returns the sockets that are ready, waiting at most msec; the slice
// is reused by the next call.
func (w *idleWatch) wait(msec int) ([]int, error) {
	w.ready = w.ready[:0]
	if len(w.fds) == 0 {
		return w.ready, nil
	}
	if _, err := unix.Poll(w.fds, msec); err != nil {
		return nil, err
	}
	for _, p := range w.fds {
		if p.Revents != 0 {
			w.ready = append(w.ready, int(p.Fd))
		}
	}
	return w.ready, nil
}
