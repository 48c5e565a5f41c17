package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/evloop/evloop/internal/cputime"
)

// attackOutcome is how one slowloris connection ended.
type attackOutcome struct {
	after time.Duration // from the attack's start to the end of the connection
	got   []byte        // everything the server sent
	err   error         // nil for EOF
}

// normalOutcome is what the well-behaved client saw during the attack.
type normalOutcome struct {
	served  int
	slowest time.Duration
	err     error // the first failure
}

// TestSlowloris: 500 connections each send a request header one byte every
// 500 ms, which would take 26 s to complete. With a 2 s read-header
// timeout every one of them is answered 408 (or just closed) within 5 s of
// the attack's start, while a client opening a connection per request
// every 100 ms is served throughout, and the process (server and clients)
// stays near idle: a slow header costs the server one timer, not a
// goroutine or a busy loop.
func TestSlowloris(t *testing.T) {
	const (
		attackers = 500
		interval  = 500 * time.Millisecond
		timeout   = 2 * time.Second
		window    = 5 * time.Second
		maxCPU    = 0.5 // of one core, over the attack
	)
	s := startServerWith(t, config{addr: "tcp://127.0.0.1:0", loops: 2, readHeaderTimeout: timeout, idleTimeout: time.Minute})
	conns := make([]net.Conn, attackers)
	for i := range conns {
		conns[i] = s.Dial(t)
	}
	header := []byte(get(http.MethodGet, "User-Agent: slowloris\r\nAccept: */*\r\n"))

	start := time.Now()
	cpuStart := cputime.Process(t)
	outcomes := make(chan attackOutcome, attackers)
	for _, nc := range conns {
		if err := nc.SetReadDeadline(start.Add(window + 5*time.Second)); err != nil {
			t.Fatal(err)
		}
		go func() {
			got, err := io.ReadAll(nc)
			outcomes <- attackOutcome{after: time.Since(start), got: got, err: err}
		}()
	}
	stopTrickle, trickled := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(trickled)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		open := make([]bool, len(conns))
		for i := range open {
			open[i] = true
		}
		for k := range header {
			for i, nc := range conns {
				if open[i] {
					_, err := nc.Write(header[k : k+1])
					open[i] = err == nil // the server closed it
				}
			}
			select {
			case <-tick.C:
			case <-stopTrickle:
				return
			}
		}
	}()
	stopNormal, normal := make(chan struct{}), make(chan normalOutcome, 1)
	go func() { normal <- normalClient(s.Addr.String(), 100*time.Millisecond, stopNormal) }()

	var (
		times                []time.Duration
		answered, eof, reset int
	)
	for range attackers { // bounded: every reader has a deadline
		o := <-outcomes
		times = append(times, o.after)
		switch {
		case errors.Is(o.err, syscall.ECONNRESET):
			reset++
		case o.err != nil:
			t.Errorf("attacker: %v after %v, want 408 or a close within %v", o.err, o.after, window)
			continue
		case len(o.got) == 0:
			eof++
		default:
			answered++
		}
		if len(o.got) > 0 && (!bytes.HasPrefix(o.got, []byte("HTTP/1.1 408 ")) || !bytes.Contains(o.got, []byte("\r\nConnection: close\r\n"))) {
			t.Errorf("attacker got %q, want a 408 with Connection: close or nothing", o.got)
		}
		if len(o.got) > 0 && o.after < timeout {
			t.Errorf("attacker answered after %v, before the %v its header had", o.after, timeout)
		}
	}
	wall, cpu := time.Since(start), cputime.Process(t)-cpuStart
	close(stopNormal)
	close(stopTrickle)
	<-trickled
	n := <-normal

	slices.Sort(times)
	share := cpu.Seconds() / wall.Seconds()
	t.Logf("%d slowloris connections: %d answered 408, %d closed without an answer, %d reset; closed after min %v, median %v, max %v",
		attackers, answered, eof, reset, times[0].Round(time.Millisecond), times[len(times)/2].Round(time.Millisecond),
		times[len(times)-1].Round(time.Millisecond))
	t.Logf("process CPU over the %v attack: %v (%.1f%% of one core; clients included)", wall.Round(time.Millisecond), cpu.Round(time.Millisecond), 100*share)
	t.Logf("normal client: %d requests served during the attack, slowest %v", n.served, n.slowest.Round(time.Millisecond))
	if last := times[len(times)-1]; last > window {
		t.Errorf("the last slowloris connection closed after %v, want within %v", last, window)
	}
	if n.err != nil {
		t.Errorf("normal client: %v", n.err)
	}
	if n.served < 5 {
		t.Errorf("normal client served %d times during the attack, want at least 5", n.served)
	}
	if share > maxCPU {
		t.Errorf("the process used %.0f%% of a core during the attack, want under %.0f%%", 100*share, 100*maxCPU)
	}
}

// normalClient sends a request on a new connection every interval until
// stop is closed, and reports how many were served. It stops at the first
// failure.
func normalClient(addr string, interval time.Duration, stop <-chan struct{}) normalOutcome {
	var out normalOutcome
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return out
		case <-tick.C:
		}
		began := time.Now()
		if err := fetchOnce(addr); err != nil {
			out.err = fmt.Errorf("request %d: %w", out.served+1, err)
			return out
		}
		out.served++
		out.slowest = max(out.slowest, time.Since(began))
	}
}

// fetchOnce dials addr, sends one request that closes the connection, and
// checks the answer.
func fetchOnce(addr string) error {
	nc, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return err
	}
	defer nc.Close()
	if err := nc.SetDeadline(time.Now().Add(2 * time.Second)); err != nil {
		return err
	}
	if _, err := io.WriteString(nc, get(http.MethodGet, "Connection: close\r\n")); err != nil {
		return err
	}
	got, err := io.ReadAll(nc)
	if err != nil {
		return err
	}
	if !bytes.HasPrefix(got, []byte("HTTP/1.1 200 OK\r\n")) || !bytes.HasSuffix(got, []byte("\r\n\r\nHello, World!")) {
		return fmt.Errorf("answer %q", got)
	}
	return nil
}
