// Command runner runs the benchmark scenarios against every contestant,
// interleaved (A B C A B C ...), and prints medians with min-max over the
// rounds, the ratios of evloop to each other contestant, and the issue's
// targets. run.sh builds the binaries and calls it; see benchmarks/README.md.
//
// Each measurement starts a fresh server, checks that it answers correctly
// (echo bytes match; HTTP 200 with the right body, pipelined; datagrams
// echoed whole; a RESP GET returns what SET stored; the same over TLS 1.3
// in the TLS scenarios), loads it,
// and reads its CPU time (utime+stime) and RSS from /proc around the
// measured window; memory statistics and allocation counts come from the
// server itself, on a signal. Results are written to -out after every
// measurement. It exits 1 if any measurement failed.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/evloop/evloop/benchmarks/internal/proc"
	"github.com/evloop/evloop/benchmarks/internal/results"
)

type config struct {
	bin, wrk, wrkScript, out, work string
	quick, verbose                 bool
	rounds, noisyRetries           int
	warmup, duration               time.Duration
	idleWindow                     time.Duration // idle scenarios: CPU watched for this long
	modes                          []mode
	scenarios                      []scenario
	contestants                    []contestant
	missing                        []results.Skip // contestants not built here
	leftOut                        []results.Skip // scenarios of the full set this machine cannot run
	clockTicks                     int64
}

func main() {
	os.Exit(run())
}

func run() int {
	var (
		cfg                                        config
		scenarioList, contestantList, mode, update string
	)
	flag.StringVar(&cfg.bin, "bin", "", "directory holding the contestants, echoload, udpload, firehose and holdconns (run.sh builds it)")
	flag.StringVar(&cfg.wrk, "wrk", "wrk", "wrk binary")
	flag.StringVar(&cfg.wrkScript, "wrk-script", "wrk/http.lua", "wrk Lua script")
	flag.StringVar(&cfg.out, "out", "", "results file (JSON), rewritten after every measurement; empty: none")
	flag.StringVar(&update, "update", "", "results file to update: the scenarios and modes run now replace theirs, the rest is kept (same rounds, warm-up and window required)")
	flag.BoolVar(&cfg.quick, "quick", false, "smoke test: every contestant in a few short scenarios, one round, unpinned")
	flag.BoolVar(&cfg.verbose, "v", false, "print every command")
	flag.IntVar(&cfg.rounds, "rounds", 3, "rounds: each runs every contestant once per scenario")
	flag.IntVar(&cfg.noisyRetries, "noisy-retries", 2, "measure again, up to this many times, when other processes took over 0.1 CPU during the window")
	flag.DurationVar(&cfg.warmup, "warmup", 2*time.Second, "load before each measured window")
	flag.DurationVar(&cfg.duration, "duration", 5*time.Second, "measured window")
	flag.StringVar(&scenarioList, "scenario", "", "comma-separated scenarios to run (default: all of the chosen set)")
	flag.StringVar(&contestantList, "contestants", "", "comma-separated contestants (default: all)")
	flag.StringVar(&mode, "mode", "both", "pinned (server on CPU 1 with 1 loop, load on CPU 0), unpinned (2 loops, no pinning) or both")
	flag.Parse()
	cfg.idleWindow = time.Second
	if cfg.bin == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "runner: -bin is required, and no arguments; use run.sh")
		return 2
	}
	if cfg.quick {
		cfg.rounds = 1
		if !flagSet("warmup") {
			cfg.warmup = 500 * time.Millisecond
		}
		if !flagSet("duration") {
			cfg.duration = time.Second
		}
		if !flagSet("mode") {
			mode = "unpinned"
		}
		if !flagSet("noisy-retries") {
			cfg.noisyRetries = 0 // a smoke test checks answers, not speed
		}
		cfg.idleWindow = time.Second / 4
	}
	if err := configure(&cfg, scenarioList, contestantList, mode); err != nil {
		fmt.Fprintln(os.Stderr, "runner:", err)
		return 2
	}
	work, err := os.MkdirTemp("", "evloop-bench-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "runner:", err)
		return 1
	}
	defer os.RemoveAll(work)
	cfg.work = work
	cfg.clockTicks = proc.ClockTicks()

	ps := &procs{live: map[int]*child{}}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-sig
		fmt.Fprintf(os.Stderr, "\nrunner: %v: stopping every process started\n", s)
		ps.killAll()
		os.RemoveAll(work)
		os.Exit(130)
	}()

	f := &results.File{Machine: machine(cfg.wrk), Config: results.Config{
		Quick: cfg.quick, Rounds: cfg.rounds, Warmup: cfg.warmup.String(), Duration: cfg.duration.String(),
	}}
	for _, m := range cfg.modes {
		f.Config.Modes = append(f.Config.Modes, m.name)
	}
	for _, s := range cfg.scenarios {
		f.Config.Scenarios = append(f.Config.Scenarios, s.name)
	}
	for _, c := range cfg.contestants {
		f.Config.Contestants = append(f.Config.Contestants, c.name)
	}
	printConfig(cfg, f)
	if update != "" {
		if f, err = results.Merge(update, f); err != nil {
			fmt.Fprintln(os.Stderr, "runner: -update:", err)
			return 2
		}
		cfg.out = update
	}
	for _, m := range cfg.missing {
		fmt.Printf("skipped %s\n", m)
		f.Skipped = slices.DeleteFunc(f.Skipped, func(s results.Skip) bool { return s.Contestant == m.Contestant })
		f.Skipped = append(f.Skipped, m)
	}
	for _, l := range cfg.leftOut {
		fmt.Printf("skipped %s\n", l)
		f.Skipped = slices.DeleteFunc(f.Skipped, func(s results.Skip) bool {
			return s.Contestant == "" && s.Mode == "" && s.Scenario == l.Scenario
		})
		// A file being updated may hold its runs from a machine that
		// could run it: those stand.
		if !slices.ContainsFunc(f.Runs, func(r results.Run) bool { return r.Scenario == l.Scenario }) {
			f.Skipped = append(f.Skipped, l)
		}
	}

	b := &bench{cfg: cfg, ps: ps, file: f}
	failed := b.all()
	rows := results.Summarize(f)
	results.Write(os.Stdout, rows, f.Runs, false)
	for _, s := range f.Skipped {
		fmt.Printf("skipped %s\n", s)
	}
	if failed > 0 {
		fmt.Printf("\nFAIL: %d measurement(s) failed; the logs are printed above\n", failed)
		return 1
	}
	fmt.Printf("\nok: %d measurements\n", len(f.Runs))
	return 0
}

func flagSet(name string) bool {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// configure turns the flags into the modes, scenarios and contestants to run.
func configure(cfg *config, scenarioList, contestantList, modeName string) error {
	if cfg.rounds < 1 || cfg.duration < time.Second/2 || cfg.warmup < 0 {
		return fmt.Errorf("need -rounds >= 1, -duration >= 500ms, -warmup >= 0")
	}
	cpus := runtime.NumCPU()
	pinned := mode{name: "pinned", serverCPUs: "1", loadCPUs: "0", loops: 1, threads: 1}
	unpinned := mode{name: "unpinned", loops: cpus, threads: cpus}
	switch modeName {
	case "pinned":
		cfg.modes = []mode{pinned}
	case "unpinned":
		cfg.modes = []mode{unpinned}
	case "both":
		cfg.modes = []mode{pinned, unpinned}
	default:
		return fmt.Errorf("-mode %q: want pinned, unpinned or both", modeName)
	}
	if cpus < 2 && modeName != "unpinned" {
		return fmt.Errorf("pinning needs 2 CPUs, this machine has %d: use -mode unpinned", cpus)
	}
	cfg.scenarios, cfg.leftOut = chooseScenarios(scenarioList, cfg.quick, nofileHardLimit())
	if err := unknown(scenarioList, func(n string) bool {
		return slices.ContainsFunc(scenarios, func(s scenario) bool { return s.name == n })
	}); err != nil {
		return fmt.Errorf("-scenario: %w", err)
	}
	for _, c := range contestants {
		if contestantList == "" || listed(contestantList, c.name) {
			cfg.contestants = append(cfg.contestants, c)
		}
	}
	if err := unknown(contestantList, func(n string) bool {
		return slices.ContainsFunc(contestants, func(c contestant) bool { return c.name == n })
	}); err != nil {
		return fmt.Errorf("-contestants: %w", err)
	}
	for _, name := range []string{"echoload", "udpload", "holdconns", "firehose"} {
		if _, err := os.Stat(cfg.bin + "/" + name); err != nil {
			return err
		}
	}
	built := cfg.contestants[:0]
	for _, c := range cfg.contestants {
		_, err := c.path(cfg.bin)
		switch {
		case err == nil:
			built = append(built, c)
		case c.install != "":
			cfg.missing = append(cfg.missing, results.Skip{Contestant: c.name,
				Reason: fmt.Sprintf("%s is not installed here (%s)", c.bin, c.install)})
		case c.native && errors.Is(err, fs.ErrNotExist):
			cfg.missing = append(cfg.missing, results.Skip{Contestant: c.name,
				Reason: "not built: run.sh builds it with cc, and there is no C compiler (cc) here"})
		default:
			return err
		}
	}
	if cfg.contestants = built; len(built) == 0 {
		if len(cfg.missing) > 0 {
			return fmt.Errorf("no contestant to run: %s", cfg.missing[0])
		}
		return errors.New("no contestant to run")
	}
	if _, err := exec.LookPath(cfg.wrk); err != nil {
		return fmt.Errorf("wrk: %w (apt-get install -y wrk)", err)
	}
	if _, err := os.Stat(cfg.wrkScript); err != nil {
		return err
	}
	return nil
}

// chooseScenarios returns the scenarios named in list, or, when list is
// empty, those of the quick or the full set; a scenario of the full set
// marked fullIfFiles that the descriptor hard limit is too low for is left
// out, with the reason.
func chooseScenarios(list string, quick bool, limit uint64) (chosen []scenario, leftOut []results.Skip) {
	for _, s := range scenarios {
		inSet := list == "" && (quick && s.quick || !quick && s.full)
		if reason := tooFewFiles(s, limit); inSet && s.fullIfFiles && reason != "" {
			leftOut = append(leftOut, results.Skip{Scenario: s.name,
				Reason: reason + "; left out of the full set (-scenario " + s.name + " runs it where the limit allows)"})
			continue
		}
		if inSet || listed(list, s.name) {
			chosen = append(chosen, s)
		}
	}
	return chosen, leftOut
}

func listed(list, name string) bool { return slices.Contains(strings.Split(list, ","), name) }

func unknown(list string, known func(string) bool) error {
	if list == "" {
		return nil
	}
	for _, n := range strings.Split(list, ",") {
		if !known(n) {
			return fmt.Errorf("unknown name %q", n)
		}
	}
	return nil
}

// machine describes this machine for the results file.
func machine(wrk string) results.Machine {
	m := results.Machine{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), Started: time.Now().UTC().Format(time.RFC3339)}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		m.Kernel = unix.ByteSliceToString(u.Sysname[:]) + " " + unix.ByteSliceToString(u.Release[:])
	}
	// wrk -v prints its version and exits 1.
	out, _ := exec.Command(wrk, "-v").CombinedOutput()
	if line, _, _ := strings.Cut(string(out), "\n"); line != "" {
		m.WrkVersion = strings.TrimSpace(line)
	}
	m.NoFileMax = nofileHardLimit()
	return m
}

// nofileHardLimit is the RLIMIT_NOFILE hard limit the runner, and so every
// process it starts, has; 0 if it cannot be read.
func nofileHardLimit() uint64 {
	var lim unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &lim) != nil {
		return 0
	}
	return lim.Max
}

func printConfig(cfg config, f *results.File) {
	m := f.Machine
	fmt.Printf("machine: %d CPUs, %s, %s, %s, %s, RLIMIT_NOFILE hard limit %d\n",
		m.CPUs, m.CPUModel, m.Kernel, m.GoVersion, m.WrkVersion, m.NoFileMax)
	fmt.Printf("rounds %d, warm-up %v, measured window %v, contestants interleaved in each round: %s\n",
		cfg.rounds, cfg.warmup, cfg.duration, strings.Join(f.Config.Contestants, " "))
	for _, m := range cfg.modes {
		place := "no pinning"
		if m.serverCPUs != "" {
			place = fmt.Sprintf("server on CPU %s (taskset), load generator on CPU %s", m.serverCPUs, m.loadCPUs)
		}
		fmt.Printf("mode %s: %s, server -loops %d, wrk -t%d\n", m.name, place, m.loops, m.threads)
	}
	for _, s := range cfg.scenarios {
		switch s.kind {
		case "echo":
			fmt.Printf("scenario %s: echoload -conns %d -size %d -pipeline %d\n", s.name, s.conns, s.size, s.pipeline)
		case "http":
			fmt.Printf("scenario %s: wrk -c%d -s %s -- %d (pipelined GET /, plaintext)\n", s.name, s.conns, cfg.wrkScript, s.pipeline)
		case "mixed":
			fmt.Printf("scenario %s: echoload -conns %d -size %d -pipeline %d alone, then again next to firehose -conns %d -size %d (separate processes, same window)\n",
				s.name, s.conns, s.size, s.pipeline, s.firehoses, s.firehoseSize)
		case "udp":
			fmt.Printf("scenario %s: udpload -conns %d -size %d -pipeline %d (connected UDP sockets; a datagram unanswered for %v is lost; over %.0f%% lost fails) against the servers that speak udp\n",
				s.name, s.conns, s.size, s.pipeline, udpLossTimeout, results.MaxLostShare*100)
		case "resp":
			fmt.Printf("scenario %s: echoload -proto resp -conns %d -size %d -pipeline %d (SET then GET of each key, every reply checked) against the servers that speak resp\n",
				s.name, s.conns, s.size, s.pipeline)
		case "tls-echo":
			fmt.Printf("scenario %s: echoload -tls -conns %d -size %d -pipeline %d (a full TLS 1.3 handshake per connection before the warm-up) against the servers that serve echo over TLS (-tls)\n",
				s.name, s.conns, s.size, s.pipeline)
		case "https":
			fmt.Printf("scenario %s: wrk -c%d -s %s https://... -- %d (keep-alive, a TLS handshake per connection as wrk opens it) against the servers that serve http over TLS (-tls)\n",
				s.name, s.conns, cfg.wrkScript, s.pipeline)
		case "idle":
			if s.tls {
				fmt.Printf("scenario %s: holdconns -tls -conns %d (each after a full TLS handshake) against the servers that serve http over TLS (-tls)\n", s.name, s.conns)
			} else {
				fmt.Printf("scenario %s: holdconns -conns %d against the http servers\n", s.name, s.conns)
			}
		}
	}
	fmt.Println("server CPU = utime+stime from /proc/<pid>/stat over the measured window; RSS = VmRSS at its end;")
	fmt.Println("allocs/msg = heap objects allocated by the server over the window / messages; MB = 10^6 bytes;")
	fmt.Printf("others = CPU used by every other process during the window (over 0.1 CPU: measured again, up to %d times)\n", cfg.noisyRetries)
	fmt.Println()
}
