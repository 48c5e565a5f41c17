// Package results is the benchmark results file: what one run of the
// runner measured, written as JSON after every measurement so an
// interrupted run keeps what it has, and the summaries made from it (medians
// with min-max, ratios of evloop to each other contestant, the issue's
// targets) for the terminal, the README and the chart.
package results

import (
	"encoding/json"
	"os"
)

// File is the whole results file.
type File struct {
	Machine Machine `json:"machine"`
	Config  Config  `json:"config"`
	Runs    []Run   `json:"runs"`
	Skipped []Skip  `json:"skipped,omitempty"`
}

// Machine describes where the numbers were taken.
type Machine struct {
	CPUs       int    `json:"cpus"`
	CPUModel   string `json:"cpu_model"`
	Kernel     string `json:"kernel"`
	GoVersion  string `json:"go_version"`
	WrkVersion string `json:"wrk_version"`
	NoFileMax  uint64 `json:"nofile_hard_limit"`
	Started    string `json:"started"`
}

// Config is how the runner was asked to run.
type Config struct {
	Quick       bool     `json:"quick"`
	Rounds      int      `json:"rounds"`
	Warmup      string   `json:"warmup"`
	Duration    string   `json:"duration"`
	Modes       []string `json:"modes"`
	Scenarios   []string `json:"scenarios"`
	Contestants []string `json:"contestants"`
	// Updates lists the runs with -update that replaced some scenarios.
	Updates []string `json:"updates,omitempty"`
}

// Run is one contestant measured once in one scenario and mode.
type Run struct {
	Scenario   string `json:"scenario"`
	Kind       string `json:"kind"` // echo, http, idle, mixed, udp, resp, tls-echo or https
	Mode       string `json:"mode"`
	Round      int    `json:"round"`
	Contestant string `json:"contestant"`
	OK         bool   `json:"ok"`
	Error      string `json:"error,omitempty"`

	// Load scenarios.
	Msgs          float64 `json:"msgs,omitempty"`
	Seconds       float64 `json:"seconds,omitempty"`
	MsgsPerSec    float64 `json:"msgs_per_sec,omitempty"`
	MBPerSec      float64 `json:"mb_per_sec,omitempty"`
	P50us         float64 `json:"p50_us,omitempty"`
	P99us         float64 `json:"p99_us,omitempty"`
	P999us        float64 `json:"p999_us,omitempty"`
	ServerCPU     float64 `json:"server_cpu_s,omitempty"`
	MsgsPerCPUSec float64 `json:"msgs_per_server_cpu_s,omitempty"`
	LoaderCPU     float64 `json:"loader_cpu_s,omitempty"`
	// OtherCPU is the CPU time every other process on the machine took
	// during the window: a noisy neighbour shows up here.
	OtherCPU float64 `json:"other_cpu_s"`
	// Retries counts the measurements discarded as noisy before this one.
	Retries      int     `json:"retries,omitempty"`
	RSSKiB       float64 `json:"server_rss_kib,omitempty"`
	AllocsPerMsg float64 `json:"allocs_per_msg"`
	// NoMemStats is set for a server without Go memory statistics (the C
	// servers, and evloop's example server, which takes its own command
	// line): AllocsPerMsg and the heap and stack figures are not measured,
	// rather than zero.
	NoMemStats bool `json:"no_mem_stats,omitempty"`

	// UDP scenarios: the datagrams the load generator gave up on in the
	// window (no reply within its timeout), and the replies that came
	// after their datagram had been given up on. Msgs counts the replies
	// received in time. A round that lost more than MaxLostShare of its
	// datagrams (Lost / (Msgs + Lost)) fails.
	Lost float64 `json:"lost,omitempty"`
	Late float64 `json:"late,omitempty"`

	// Mixed scenarios: the ping-pong figures above (msgs/s, p50, p99,
	// allocations per message) are echoload's next to the firehoses, and
	// these are the same connections alone, measured just before on the
	// same server; LoaderCPU is both generators together.
	MsgsPerSecAlone float64 `json:"msgs_per_sec_alone,omitempty"`
	P50AloneUs      float64 `json:"p50_us_alone,omitempty"`
	P99AloneUs      float64 `json:"p99_us_alone,omitempty"`
	// P99Ratio is P99us / P99AloneUs.
	P99Ratio         float64 `json:"p99_ratio,omitempty"`
	PingCPU          float64 `json:"ping_cpu_s,omitempty"`
	FirehoseCPU      float64 `json:"firehose_cpu_s,omitempty"`
	FirehoseMBPerSec float64 `json:"firehose_mb_per_sec,omitempty"`
	// GeneratorSaturated: a generator used at least SaturatedCPU of a core
	// over the window, so it, not the server, may have set the pace.
	GeneratorSaturated bool `json:"generator_saturated,omitempty"`
	// LoadCPUSaturated: in pinned mode, the two generators together used
	// at least SaturatedCPU of the one core they share.
	LoadCPUSaturated bool `json:"load_cpu_saturated,omitempty"`

	// Idle scenarios.
	IdleConns        int     `json:"idle_conns,omitempty"`
	RSSPerConnKiB    float64 `json:"rss_per_conn_kib,omitempty"`
	HeapPerConnB     float64 `json:"heap_per_conn_bytes,omitempty"`
	HeapInusePerConn float64 `json:"heap_inuse_per_conn_bytes,omitempty"`
	StackPerConnB    float64 `json:"stack_per_conn_bytes,omitempty"`
	IdleCPUPercent   float64 `json:"idle_cpu_percent,omitempty"`
	BaselineRSSKiB   float64 `json:"baseline_rss_kib,omitempty"`
	HoldingRSSKiB    float64 `json:"holding_rss_kib,omitempty"`
	HoldingGoroutine int     `json:"holding_goroutines,omitempty"`
}

// MaxLostShare is the most of its datagrams a UDP round may lose
// (Lost / (Msgs + Lost)) before it fails.
const MaxLostShare = 0.01

// LostShare is the share of r's datagrams that were lost: Lost / (Msgs +
// Lost), 0 when there were none.
func (r Run) LostShare() float64 {
	if r.Msgs+r.Lost == 0 {
		return 0
	}
	return r.Lost / (r.Msgs + r.Lost)
}

// SaturatedCPU is the share of one core, over the measured window, at which
// a load generator counts as saturated.
const SaturatedCPU = 0.95

// Skip records a scenario that could not run here in one mode, a scenario
// left out of the full set (Mode empty), or a contestant that could not run
// (Contestant set, Scenario and Mode empty), and why.
type Skip struct {
	Scenario   string `json:"scenario"`
	Mode       string `json:"mode"`
	Contestant string `json:"contestant,omitempty"`
	Reason     string `json:"reason"`
}

// String says what was not run and why, in a sentence without its period.
func (s Skip) String() string {
	if s.Contestant != "" {
		return "contestant " + s.Contestant + ": " + s.Reason
	}
	if s.Mode == "" {
		return s.Scenario + ": " + s.Reason
	}
	return s.Scenario + " (" + s.Mode + " mode): " + s.Reason
}

// Save writes f to path, through a temporary file and a rename.
func Save(path string, f *File) error {
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// Load reads a results file.
func Load(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f File
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, err
	}
	return &f, nil
}
