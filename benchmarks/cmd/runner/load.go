package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/evloop/evloop/benchmarks/internal/proc"
	"github.com/evloop/evloop/benchmarks/internal/results"
	"github.com/evloop/evloop/benchmarks/internal/server"
)

// window is what the runner reads from the server around a measured window.
type window struct {
	cpu0, cpu1     float64
	busy0, busy1   float64 // whole machine
	stats0, stats1 server.Stats
	rssKiB         int64
}

func (w *window) open(sv *running) error {
	var err error
	if w.cpu0, err = sv.cpuSeconds(); err != nil {
		return err
	}
	if w.busy0, err = sv.busySeconds(); err != nil {
		return err
	}
	w.stats0, err = sv.snapshot(false)
	return err
}

func (w *window) close(sv *running) error {
	var err error
	if w.cpu1, err = sv.cpuSeconds(); err != nil {
		return err
	}
	if w.busy1, err = sv.busySeconds(); err != nil {
		return err
	}
	if w.rssKiB, err = proc.RSSKiB(sv.p.pid()); err != nil {
		return err
	}
	w.stats1, err = sv.snapshot(false)
	return err
}

// fill sets the server-side figures of r for msgs messages; r.LoaderCPU
// must be set.
func (w *window) fill(r *results.Run, msgs float64) {
	r.ServerCPU = w.cpu1 - w.cpu0
	r.OtherCPU = max(w.busy1-w.busy0-r.ServerCPU-r.LoaderCPU, 0)
	if r.ServerCPU > 0 {
		r.MsgsPerCPUSec = msgs / r.ServerCPU
	}
	r.RSSKiB = float64(w.rssKiB)
	if msgs > 0 {
		r.AllocsPerMsg = float64(w.stats1.Mallocs-w.stats0.Mallocs) / msgs
	}
}

// loadResult is the last line of echoload and udpload.
type loadResult struct {
	Event      string  `json:"event"`
	Seconds    float64 `json:"seconds"`
	Msgs       float64 `json:"msgs"`
	MsgsPerSec float64 `json:"msgs_per_sec"`
	MBPerSec   float64 `json:"mb_per_sec"`
	P50us      float64 `json:"p50_us"`
	P99us      float64 `json:"p99_us"`
	P999us     float64 `json:"p999_us"`
	LoaderCPU  float64 `json:"loader_cpu_s"`
	// udpload only: datagrams given up on, and replies that came after.
	Lost  float64 `json:"lost"`
	Late  float64 `json:"late"`
	Error string  `json:"error"`
}

// parseLoadLine reads one of a load generator's JSON lines: its event
// ("start", "end" or "result"), and ok false for a line that is not one.
func parseLoadLine(line string) (ev loadResult, ok bool) {
	if json.Unmarshal([]byte(line), &ev) != nil || ev.Event == "" {
		return loadResult{}, false
	}
	return ev, true
}

func (b *bench) echo(m mode, s scenario, sv *running, addr string, r *results.Run, logPath string) error {
	res, w, err := b.echoload(m, s, sv, addr, logPath)
	if err != nil {
		return err
	}
	r.Msgs, r.Seconds, r.MsgsPerSec, r.MBPerSec = res.Msgs, res.Seconds, res.MsgsPerSec, res.MBPerSec
	r.P50us, r.P99us, r.P999us, r.LoaderCPU = res.P50us, res.P99us, res.P999us, res.LoaderCPU
	w.fill(r, res.Msgs)
	return nil
}

// echoload runs cmd/echoload with s's shape and protocol (echo, or resp:
// SET and GET commands; over TLS in a TLS scenario), and returns its result
// and the server's figures over its measured window.
func (b *bench) echoload(m mode, s scenario, sv *running, addr string, logPath string) (*loadResult, *window, error) {
	extra := []string{"-proto", s.proto()}
	if s.tls {
		extra = append(extra, "-tls")
	}
	return b.load(m, "echoload", s, sv, addr, logPath, extra...)
}

// udpLossTimeout is how long udpload lets a datagram wait for its reply
// before it gives up on it.
const udpLossTimeout = 200 * time.Millisecond

// udp measures s with cmd/udpload: like echo, plus the datagrams lost. A
// round that lost more than results.MaxLostShare of its datagrams fails.
func (b *bench) udp(m mode, s scenario, sv *running, addr string, r *results.Run, logPath string) error {
	res, w, err := b.load(m, "udpload", s, sv, addr, logPath, "-timeout", udpLossTimeout.String())
	if err != nil {
		return err
	}
	r.Msgs, r.Seconds, r.MsgsPerSec, r.MBPerSec = res.Msgs, res.Seconds, res.MsgsPerSec, res.MBPerSec
	r.P50us, r.P99us, r.P999us, r.LoaderCPU = res.P50us, res.P99us, res.P999us, res.LoaderCPU
	r.Lost, r.Late = res.Lost, res.Late
	w.fill(r, res.Msgs)
	return tooManyLost(*r)
}

// tooManyLost fails a UDP round that lost more than results.MaxLostShare
// of its datagrams.
func tooManyLost(r results.Run) error {
	if share := r.LostShare(); share > results.MaxLostShare {
		return fmt.Errorf("lost %.0f of %.0f datagrams (%.2f%%), more than %g%%: no reply within %v",
			r.Lost, r.Msgs+r.Lost, share*100, results.MaxLostShare*100, udpLossTimeout)
	}
	return nil
}

// load runs the load generator gen (echoload or udpload) with s's shape and
// the extra arguments, and returns its result and the server's figures over
// its measured window.
func (b *bench) load(m mode, gen string, s scenario, sv *running, addr, logPath string, extra ...string) (*loadResult, *window, error) {
	argv := taskset(m.loadCPUs, filepath.Join(b.cfg.bin, gen), "-addr", addr,
		"-conns", strconv.Itoa(s.conns), "-size", strconv.Itoa(s.size), "-pipeline", strconv.Itoa(s.pipeline),
		"-warmup", b.cfg.warmup.String(), "-duration", b.cfg.duration.String())
	argv = append(argv, extra...)
	b.show(argv)
	load, err := b.ps.start(gen, argv, logPath, true)
	if err != nil {
		return nil, nil, err
	}
	defer load.stop(time.Second)
	var w window
	var res *loadResult
	timeout := time.After(b.cfg.warmup + b.cfg.duration + 2*time.Minute)
	for res == nil {
		select {
		case line, ok := <-load.lines:
			if !ok {
				return nil, nil, fmt.Errorf("%s ended without a result: %v", gen, load.wait(5*time.Second))
			}
			ev, ok := parseLoadLine(line)
			if !ok {
				continue
			}
			switch ev.Event {
			case "start":
				err = w.open(sv)
			case "end":
				err = w.close(sv)
			case "result":
				res = &ev
			}
			if err != nil {
				return nil, nil, err
			}
		case <-timeout:
			return nil, nil, fmt.Errorf("%s did not finish in time", gen)
		}
	}
	if err := load.wait(30 * time.Second); err != nil || res.Error != "" {
		return nil, nil, fmt.Errorf("%s: %v %s", gen, err, res.Error)
	}
	return res, &w, nil
}

// wrkResult is the line wrk/http.lua prints when wrk is done.
type wrkResult struct {
	Responses     float64 `json:"responses"`
	Seconds       float64 `json:"seconds"`
	P50us         float64 `json:"p50_us"`
	P99us         float64 `json:"p99_us"`
	P999us        float64 `json:"p999_us"`
	ConnectErrors int     `json:"connect_errors"`
	ReadErrors    int     `json:"read_errors"`
	WriteErrors   int     `json:"write_errors"`
	StatusErrors  int     `json:"status_errors"`
	Timeouts      int     `json:"timeouts"`
}

// wrkSeconds is d in whole seconds, at least one: wrk's -d unit.
func wrkSeconds(d time.Duration) string {
	return strconv.Itoa(max(int((d+time.Second/2)/time.Second), 1)) + "s"
}

// wrkURL is the URL wrk loads in s: https:// in a TLS scenario (wrk's
// OpenSSL client, keep-alive: one handshake per connection, made when wrk
// opens it).
func wrkURL(s scenario, addr string) string {
	if s.tls {
		return "https://" + addr + "/"
	}
	return "http://" + addr + "/"
}

func (b *bench) wrkRun(m mode, s scenario, addr string, d time.Duration, logPath string) (*wrkResult, *child, error) {
	argv := taskset(m.loadCPUs, b.cfg.wrk, "-t"+strconv.Itoa(min(m.threads, s.conns)), "-c"+strconv.Itoa(s.conns),
		"-d"+wrkSeconds(d), "--timeout", "5s", "-s", b.cfg.wrkScript, wrkURL(s, addr), "--", strconv.Itoa(s.pipeline))
	b.show(argv)
	p, err := b.ps.start("wrk", argv, logPath, true)
	if err != nil {
		return nil, nil, err
	}
	var res *wrkResult
	timeout := time.After(d + 2*time.Minute)
	for done := false; !done; {
		select {
		case line, ok := <-p.lines:
			if !ok {
				done = true
				break
			}
			if rest, found := strings.CutPrefix(line, "result "); found {
				var wr wrkResult
				if err := json.Unmarshal([]byte(rest), &wr); err != nil {
					p.stop(time.Second)
					return nil, p, fmt.Errorf("wrk result %q: %w", rest, err)
				}
				res = &wr
			}
		case <-timeout:
			p.stop(time.Second)
			return nil, p, fmt.Errorf("wrk did not finish in time")
		}
	}
	if err := p.wait(30 * time.Second); err != nil {
		return nil, p, fmt.Errorf("wrk: %w", err)
	}
	if res == nil {
		return nil, p, fmt.Errorf("wrk printed no result")
	}
	if n := res.ConnectErrors + res.ReadErrors + res.WriteErrors + res.StatusErrors; n > 0 {
		return nil, p, fmt.Errorf("wrk saw errors: connect %d, read %d, write %d, non-2xx %d",
			res.ConnectErrors, res.ReadErrors, res.WriteErrors, res.StatusErrors)
	}
	if res.Responses == 0 {
		return nil, p, fmt.Errorf("wrk got no response")
	}
	return res, p, nil
}

func (b *bench) http(m mode, s scenario, sv *running, addr string, r *results.Run, logPath string) error {
	// wrk cannot run for less than a second, and has no warm-up of its own:
	// a separate run warms the server up.
	if b.cfg.warmup >= time.Second {
		if _, _, err := b.wrkRun(m, s, addr, b.cfg.warmup, logPath); err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
	}
	var w window
	if err := w.open(sv); err != nil {
		return err
	}
	res, p, err := b.wrkRun(m, s, addr, b.cfg.duration, logPath)
	if err != nil {
		return err
	}
	if err := w.close(sv); err != nil {
		return err
	}
	st := p.cmd.ProcessState
	r.LoaderCPU = (st.UserTime() + st.SystemTime()).Seconds()
	r.Msgs, r.Seconds = res.Responses, res.Seconds
	r.MsgsPerSec = res.Responses / res.Seconds
	r.P50us, r.P99us, r.P999us = res.P50us, res.P99us, res.P999us
	if res.Timeouts > 0 {
		r.Error = fmt.Sprintf("wrk counted %d responses slower than 5s", res.Timeouts)
	}
	w.fill(r, res.Responses)
	return nil
}

// idle opens s.conns idle connections and measures what they cost the
// server: RSS, Go heap and goroutine stacks (after a GC) per connection,
// and CPU while they sit idle.
func (b *bench) idle(m mode, s scenario, sv *running, addr string, r *results.Run, logPath string) error {
	pid := sv.p.pid()
	time.Sleep(200 * time.Millisecond) // let the check's connection go
	before, err := sv.snapshot(true)
	if err != nil {
		return err
	}
	rss0, err := proc.RSSKiB(pid)
	if err != nil {
		return err
	}
	fds0, err := proc.OpenFiles(pid)
	if err != nil {
		return err
	}
	argv := taskset(m.loadCPUs, filepath.Join(b.cfg.bin, "holdconns"), "-addr", addr, "-conns", strconv.Itoa(s.conns))
	if s.exchange {
		argv = append(argv, "-exchange")
	}
	if s.tls {
		argv = append(argv, "-tls")
	}
	b.show(argv)
	hold, err := b.ps.start("holdconns", argv, logPath, true)
	if err != nil {
		return err
	}
	defer hold.stop(time.Second)
	if err := waitHeld(hold, 2*time.Minute); err != nil {
		return err
	}
	// The server may still be accepting the last connections.
	deadline := time.Now().Add(30 * time.Second)
	for {
		fds, err := proc.OpenFiles(pid)
		if err != nil {
			return err
		}
		if fds >= fds0+s.conns {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the server holds %d descriptors, want at least %d", fds, fds0+s.conns)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Let the server settle, then watch its CPU while nothing happens.
	idleWindow := b.cfg.idleWindow
	time.Sleep(idleWindow / 2)
	cpuA, err := sv.cpuSeconds()
	if err != nil {
		return err
	}
	time.Sleep(idleWindow)
	cpuB, err := sv.cpuSeconds()
	if err != nil {
		return err
	}
	rss1, err := proc.RSSKiB(pid)
	if err != nil {
		return err
	}
	after, err := sv.snapshot(true)
	if err != nil {
		return err
	}
	hold.stop(30 * time.Second) // SIGTERM: it checks the server closed nothing
	if hold.err != nil {
		return fmt.Errorf("holdconns: %v", hold.err)
	}
	n := float64(s.conns)
	r.IdleConns = s.conns
	r.BaselineRSSKiB, r.HoldingRSSKiB = float64(rss0), float64(rss1)
	r.RSSPerConnKiB = float64(rss1-rss0) / n
	r.HeapPerConnB = (float64(after.HeapAlloc) - float64(before.HeapAlloc)) / n
	r.HeapInusePerConn = (float64(after.HeapInuse) - float64(before.HeapInuse)) / n
	r.StackPerConnB = (float64(after.StackInuse) - float64(before.StackInuse)) / n
	r.IdleCPUPercent = (cpuB - cpuA) / idleWindow.Seconds() * 100
	r.HoldingGoroutine = after.Goroutines
	r.RSSKiB = float64(rss1)
	return nil
}

func waitHeld(hold *child, timeout time.Duration) error {
	t := time.After(timeout)
	for {
		select {
		case line, ok := <-hold.lines:
			if !ok {
				return fmt.Errorf("holdconns exited: %v", hold.wait(5*time.Second))
			}
			var ev struct {
				Event string `json:"event"`
				Error string `json:"error"`
			}
			if json.Unmarshal([]byte(line), &ev) != nil {
				continue
			}
			switch ev.Event {
			case "held":
				return nil
			case "error":
				return fmt.Errorf("holdconns: %s", ev.Error)
			}
		case <-t:
			return fmt.Errorf("holdconns did not open its connections within %v", timeout)
		}
	}
}
