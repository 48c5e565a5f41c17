package main

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/evloop/evloop/benchmarks/internal/results"
)

// firehoseResult is cmd/firehose's last line.
type firehoseResult struct {
	Event     string  `json:"event"`
	Seconds   float64 `json:"seconds"`
	Bytes     float64 `json:"bytes"`
	MBPerSec  float64 `json:"mb_per_sec"`
	LoaderCPU float64 `json:"loader_cpu_s"`
	Error     string  `json:"error"`
}

// idlePolicy prefixes the firehose's command so that it runs under
// SCHED_IDLE: it gets only the CPU time nothing else wants, so it never
// delays echoload on the core they share. Without that, the ping-pong p99
// measured what the kernel's scheduler did to echoload (about twice the
// p99 alone, for the C server as much as for any other), not what the
// server did. Without chrt (util-linux) the firehose runs as usual, and the
// runner says so once.
func idlePolicy() []string {
	chrtOnce.Do(func() {
		if _, err := exec.LookPath("chrt"); err != nil {
			fmt.Println("runner: chrt not found: the firehose runs at normal priority, and the mixed p99 includes the load CPU's contention")
			return
		}
		chrtPrefix = []string{"chrt", "--idle", "0"}
	})
	return slices.Clone(chrtPrefix)
}

var (
	chrtOnce   sync.Once
	chrtPrefix []string
)

// mixed measures whether firehoses starve their neighbours: echoload's
// s.conns ping-pong connections first alone, then, on the same server,
// again while cmd/firehose pushes s.firehoses connections of
// s.firehoseSize byte messages. The two generators are separate processes
// started together with the same warm-up and window (both on the load
// CPUs); the server's figures are read around echoload's window.
func (b *bench) mixed(m mode, s scenario, sv *running, addr string, r *results.Run, logPath string) error {
	alone, _, err := b.echoload(m, s, sv, addr, logPath)
	if err != nil {
		return fmt.Errorf("ping-pong alone: %w", err)
	}
	r.MsgsPerSecAlone, r.P50AloneUs, r.P99AloneUs = alone.MsgsPerSec, alone.P50us, alone.P99us

	argv := append(idlePolicy(), filepath.Join(b.cfg.bin, "firehose"), "-addr", addr,
		"-conns", strconv.Itoa(s.firehoses), "-size", strconv.Itoa(s.firehoseSize),
		"-warmup", b.cfg.warmup.String(), "-duration", b.cfg.duration.String())
	argv = taskset(m.loadCPUs, argv...)
	b.show(argv)
	fire, err := b.ps.start("firehose", argv, logPath, true)
	if err != nil {
		return err
	}
	defer fire.stop(time.Second)
	ping, w, err := b.echoload(m, s, sv, addr, logPath)
	if err != nil {
		return fmt.Errorf("ping-pong next to the firehoses: %w", err)
	}
	fh, err := waitFirehose(fire, b.cfg.warmup+b.cfg.duration+2*time.Minute)
	if err != nil {
		return err
	}

	r.Msgs, r.Seconds, r.MsgsPerSec, r.MBPerSec = ping.Msgs, ping.Seconds, ping.MsgsPerSec, ping.MBPerSec
	r.P50us, r.P99us, r.P999us = ping.P50us, ping.P99us, ping.P999us
	if r.P99AloneUs > 0 {
		r.P99Ratio = r.P99us / r.P99AloneUs
	}
	r.PingCPU, r.FirehoseCPU, r.FirehoseMBPerSec = ping.LoaderCPU, fh.LoaderCPU, fh.MBPerSec
	r.LoaderCPU = r.PingCPU + r.FirehoseCPU
	r.GeneratorSaturated = r.PingCPU >= results.SaturatedCPU*ping.Seconds ||
		r.FirehoseCPU >= results.SaturatedCPU*fh.Seconds
	r.LoadCPUSaturated = m.loadCPUs != "" && r.LoaderCPU >= results.SaturatedCPU*ping.Seconds
	// Messages per server CPU-second and allocations per message count the
	// ping-pong messages only, while the server also echoes the firehoses.
	w.fill(r, ping.Msgs)
	return nil
}

func waitFirehose(p *child, timeout time.Duration) (*firehoseResult, error) {
	t := time.After(timeout)
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				return nil, fmt.Errorf("firehose ended without a result: %v", p.wait(5*time.Second))
			}
			var ev firehoseResult
			if json.Unmarshal([]byte(line), &ev) != nil || ev.Event != "result" {
				continue
			}
			if err := p.wait(30 * time.Second); err != nil || ev.Error != "" {
				return nil, fmt.Errorf("firehose: %v %s", err, ev.Error)
			}
			return &ev, nil
		case <-t:
			return nil, fmt.Errorf("firehose did not finish in time")
		}
	}
}
