package results

import (
	"slices"
)

// Baseline is the contestant every ratio and target compares against, and
// Subject the one they are about. GoPeer and Native are the two the load
// tables put every contestant next to: the event loop evloop is most often
// compared with, and the C floor.
const (
	Baseline = "stdnet"
	Subject  = "evloop"
	GoPeer   = "gnet"
	Native   = "cepoll"
)

// MixedP99Ratio is the most the firehoses may stretch evloop's ping-pong
// p99 in the mixed scenarios (pinned mode).
const MixedP99Ratio = 1.25

// notPeers are the contestants left out of "the best Go peer": evloop's own
// two, and the one that is not Go.
var notPeers = []string{Subject, "evloop-async", Native}

// Stat is the median and range of one metric over a group's rounds.
type Stat struct {
	Median, Min, Max float64
	N                int
}

func stat(vals []float64) Stat {
	if len(vals) == 0 {
		return Stat{}
	}
	s := slices.Clone(vals)
	slices.Sort(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return Stat{Median: m, Min: s[0], Max: s[len(s)-1], N: len(s)}
}

// Row summarizes one contestant in one scenario and mode over its
// successful rounds.
type Row struct {
	Scenario, Kind, Mode, Contestant string
	Failed                           int // rounds that failed

	MsgsPerSec, MsgsPerCPUSec, P99us, RSSKiB, AllocsPerMsg, LoaderCPU, ServerCPU, OtherCPU Stat
	RSSPerConnKiB, HeapPerConnB, HeapInusePerConn, StackPerConnB, IdleCPUPercent           Stat

	// Mixed scenarios. P99Ratio is the median of the rounds' ratios, each
	// from two measurements on the same server one after the other.
	P50us, P99AloneUs, P99Ratio, FirehoseMBPerSec, PingCPU, FirehoseCPU Stat
	// Rounds in which a generator, or the load CPU, was saturated.
	GeneratorSaturated, LoadCPUSaturated int
}

// Key identifies a row.
type Key struct{ Scenario, Mode, Contestant string }

// Summarize groups the runs into rows, ordered by mode, scenario and
// contestant as the configuration lists them.
func Summarize(f *File) []Row {
	index := map[Key]int{}
	var rows []Row
	var runs [][]Run
	for _, r := range f.Runs {
		k := Key{r.Scenario, r.Mode, r.Contestant}
		i, ok := index[k]
		if !ok {
			i = len(rows)
			index[k] = i
			rows = append(rows, Row{Scenario: r.Scenario, Kind: r.Kind, Mode: r.Mode, Contestant: r.Contestant})
			runs = append(runs, nil)
		}
		if !r.OK {
			rows[i].Failed++
			continue
		}
		runs[i] = append(runs[i], r)
	}
	for i := range rows {
		col := func(get func(Run) float64) Stat { return collect(runs[i], false, get) }
		// memCol leaves out the runs of a server without Go memory
		// statistics: not measured, rather than zero.
		memCol := func(get func(Run) float64) Stat { return collect(runs[i], true, get) }
		row := &rows[i]
		row.MsgsPerSec = col(func(r Run) float64 { return r.MsgsPerSec })
		row.MsgsPerCPUSec = col(func(r Run) float64 { return r.MsgsPerCPUSec })
		row.P99us = col(func(r Run) float64 { return r.P99us })
		row.RSSKiB = col(func(r Run) float64 { return r.RSSKiB })
		row.AllocsPerMsg = memCol(func(r Run) float64 { return r.AllocsPerMsg })
		row.LoaderCPU = col(func(r Run) float64 { return r.LoaderCPU })
		row.ServerCPU = col(func(r Run) float64 { return r.ServerCPU })
		row.OtherCPU = col(func(r Run) float64 { return r.OtherCPU })
		row.RSSPerConnKiB = col(func(r Run) float64 { return r.RSSPerConnKiB })
		row.HeapPerConnB = memCol(func(r Run) float64 { return r.HeapPerConnB })
		row.HeapInusePerConn = memCol(func(r Run) float64 { return r.HeapInusePerConn })
		row.StackPerConnB = memCol(func(r Run) float64 { return r.StackPerConnB })
		row.IdleCPUPercent = col(func(r Run) float64 { return r.IdleCPUPercent })
		if row.Kind == "mixed" {
			row.P50us = col(func(r Run) float64 { return r.P50us })
			row.P99AloneUs = col(func(r Run) float64 { return r.P99AloneUs })
			row.P99Ratio = col(func(r Run) float64 { return r.P99Ratio })
			row.FirehoseMBPerSec = col(func(r Run) float64 { return r.FirehoseMBPerSec })
			row.PingCPU = col(func(r Run) float64 { return r.PingCPU })
			row.FirehoseCPU = col(func(r Run) float64 { return r.FirehoseCPU })
			for _, r := range runs[i] {
				if r.GeneratorSaturated {
					row.GeneratorSaturated++
				}
				if r.LoadCPUSaturated {
					row.LoadCPUSaturated++
				}
			}
		}
	}
	pos := func(list []string, v string) int {
		if i := slices.Index(list, v); i >= 0 {
			return i
		}
		return len(list)
	}
	slices.SortStableFunc(rows, func(a, b Row) int {
		c := f.Config
		if d := pos(c.Modes, a.Mode) - pos(c.Modes, b.Mode); d != 0 {
			return d
		}
		if d := pos(c.Scenarios, a.Scenario) - pos(c.Scenarios, b.Scenario); d != 0 {
			return d
		}
		return pos(c.Contestants, a.Contestant) - pos(c.Contestants, b.Contestant)
	})
	return rows
}

// collect is the Stat of get over runs, without the runs that lack Go
// memory statistics when memStats is set.
func collect(runs []Run, memStats bool, get func(Run) float64) Stat {
	var v []float64
	for _, r := range runs {
		if memStats && r.NoMemStats {
			continue
		}
		v = append(v, get(r))
	}
	return stat(v)
}

// Find returns the row of contestant in the same scenario and mode as r.
func Find(rows []Row, r Row, contestant string) (Row, bool) {
	for _, o := range rows {
		if o.Scenario == r.Scenario && o.Mode == r.Mode && o.Contestant == contestant {
			return o, true
		}
	}
	return Row{}, false
}

// BestGoPeer returns, among the Go contestants other than evloop's own in
// the same scenario and mode as r, the row with the highest median of
// metric, and false when none was measured.
func BestGoPeer(rows []Row, r Row, metric func(Row) Stat) (Row, bool) {
	var best Row
	found := false
	for _, o := range rows {
		if o.Scenario != r.Scenario || o.Mode != r.Mode || slices.Contains(notPeers, o.Contestant) {
			continue
		}
		if m := metric(o); m.N > 0 && (!found || m.Median > metric(best).Median) {
			best, found = o, true
		}
	}
	return best, found
}

// Ratio returns a/b, or 0 when either is missing.
func Ratio(a, b Stat) float64 {
	if a.N == 0 || b.N == 0 || b.Median == 0 {
		return 0
	}
	return a.Median / b.Median
}

// Target is one of the goals for evloop, checked in one scenario
// and mode.
type Target struct {
	Scenario, Mode, What string
	Want, Got            float64
	AtMost               bool // Want is an upper bound
	Met, Measured        bool
}

// Targets checks the goals against the rows: messages per server
// CPU-second at least 1.05x std net in every echo and HTTP scenario (1.15x
// for the 4 KiB echo and pipelined HTTP), throughput at least 1.0x std
// net, both at least 1.0x the best Go peer (BestGoPeer, chosen per metric),
// RSS per idle connection at 10,000 connections at most 0.3 KiB, no
// allocation per message, and, in pinned mode, a ping-pong p99 under
// firehoses at most MixedP99Ratio times the same connections' p99 alone.
func Targets(rows []Row) []Target {
	var out []Target
	for _, r := range rows {
		if r.Contestant != Subject {
			continue
		}
		add := func(what string, want, got float64, atMost, measured bool) {
			met := measured && (got >= want && !atMost || got <= want && atMost)
			out = append(out, Target{Scenario: r.Scenario, Mode: r.Mode, What: what, Want: want, Got: got, AtMost: atMost, Met: met, Measured: measured})
		}
		switch r.Kind {
		case "echo", "http":
			base, ok := Find(rows, r, Baseline)
			want := 1.05
			if r.Scenario == "echo-4KiB-c50" || r.Scenario == "http-c100-p16" {
				want = 1.15
			}
			perCPU := Ratio(r.MsgsPerCPUSec, base.MsgsPerCPUSec)
			thr := Ratio(r.MsgsPerSec, base.MsgsPerSec)
			add("msgs per server CPU-s vs "+Baseline, want, perCPU, false, ok && perCPU > 0)
			add("throughput vs "+Baseline, 1.0, thr, false, ok && thr > 0)
			for _, m := range []struct {
				what string
				get  func(Row) Stat
			}{
				{"msgs per server CPU-s", func(r Row) Stat { return r.MsgsPerCPUSec }},
				{"throughput", func(r Row) Stat { return r.MsgsPerSec }},
			} {
				peer, ok := BestGoPeer(rows, r, m.get)
				what := m.what + " vs best Go peer"
				if ok {
					what += " (" + peer.Contestant + ")"
				}
				got := Ratio(m.get(r), m.get(peer))
				add(what, 1.0, got, false, ok && got > 0)
			}
			add("allocations per message", 0.001, r.AllocsPerMsg.Median, true, r.AllocsPerMsg.N > 0)
		case "mixed":
			if r.Mode == "pinned" {
				add("ping-pong p99 under firehoses / alone", MixedP99Ratio, r.P99Ratio.Median, true, r.P99Ratio.N > 0)
			}
		case "idle":
			if r.Scenario == "idle-c10000" {
				add("RSS KiB per idle connection", 0.3, r.RSSPerConnKiB.Median, true, r.RSSPerConnKiB.N > 0)
			}
		}
	}
	return out
}
