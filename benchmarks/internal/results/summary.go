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

// RESPGoPeer and RESPNative are the two the RESP table puts every
// contestant next to, in the RESP scenarios, where the load tables' have
// not run: the Go library for Redis servers, and Redis itself.
const (
	RESPGoPeer = "redcon"
	RESPNative = "redis-server"
)

// MixedP99Ratio is the most the firehoses may stretch evloop's ping-pong
// p99 in the mixed scenarios (pinned mode).
const MixedP99Ratio = 1.25

// notPeers are the contestants left out of "the best Go peer": evloop's own
// three (on the pool, and on the portable backend), and the one that is
// not Go.
var notPeers = []string{Subject, "evloop-async", "evloop-portable", Native}

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

	// UDP scenarios: datagrams lost per round.
	Lost Stat
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
		if row.Kind == "udp" {
			row.Lost = col(func(r Run) float64 { return r.Lost })
		}
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
	return pick(rows, r, metric, func(c string) bool { return !slices.Contains(notPeers, c) }, false)
}

// pick returns, among the rows of the same scenario and mode as r whose
// contestant is eligible, the one with the highest median of metric (the
// lowest when lowest is set), and false when none was measured.
func pick(rows []Row, r Row, metric func(Row) Stat, eligible func(string) bool, lowest bool) (Row, bool) {
	var best Row
	found := false
	for _, o := range rows {
		if o.Scenario != r.Scenario || o.Mode != r.Mode || !eligible(o.Contestant) {
			continue
		}
		m := metric(o)
		if m.N == 0 {
			continue
		}
		if b := metric(best).Median; !found || !lowest && m.Median > b || lowest && m.Median < b {
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

// Target is one of the goals for evloop, checked in one scenario and mode.
type Target struct {
	Scenario, Mode, What string
	Want, Got            float64
	AtMost               bool // Want is an upper bound
	Met, Measured        bool

	// Paired marks a target judged by paired rounds (see Targets): Got is
	// the median of the per-round ratios, Rounds how many rounds were
	// paired and Clear how many of their ratios were at least 1.00 (at
	// most 1.00 for an AtMost target).
	Paired        bool
	Rounds, Clear int
	// NA: both sides ran, but the metric was not measured (zero) in any
	// round they share, as wrk's p99 in the pipelined scenario. It counts
	// as not measured.
	NA bool
}

// The targets' thresholds.
const (
	// MaxAllocsPerMsg is the most heap allocations per message (median).
	MaxAllocsPerMsg = 0.001
	// MaxIdleRSSPerConnKiB is the most server RSS per idle connection, in
	// KiB, in IdleTargetScenarios (median).
	MaxIdleRSSPerConnKiB = 0.25
	// GoPeerPerCPU is the ratio to GoPeer's messages per server CPU-second
	// evloop is to reach in GoPeerPerCPUScenarios, pinned mode (paired).
	GoPeerPerCPU = 1.05
)

// IdleTargetScenarios hold 10,000 idle connections, never used and after
// one request each.
var IdleTargetScenarios = []string{"idle-c10000", "idle-c10000-x1"}

// GoPeerPerCPUScenarios are the scenarios where evloop is to beat GoPeer's
// messages per server CPU-second by GoPeerPerCPU in pinned mode.
var GoPeerPerCPUScenarios = []string{"echo-64B-c1000", "http-c100-p16"}

// RoundsNeeded is how many of n paired rounds must clear 1.00 for a paired
// target to be met: 80% of them, rounded up (4 of 5, 3 of 3, 4 of 4).
func RoundsNeeded(n int) int { return (4*n + 4) / 5 }

// rounds indexes the successful runs by scenario, mode and contestant, and
// then by round.
type rounds map[Key]map[int]Run

func indexRounds(runs []Run) rounds {
	idx := rounds{}
	for _, r := range runs {
		if !r.OK {
			continue
		}
		k := Key{r.Scenario, r.Mode, r.Contestant}
		if idx[k] == nil {
			idx[k] = map[int]Run{}
		}
		idx[k][r.Round] = r
	}
	return idx
}

// pair returns the ratios get(subject's run) / get(peer's run), one per
// round in which both ran successfully and the metric is above zero on
// both sides, in round order, and how many rounds both ran successfully.
func (idx rounds) pair(sub, peer Row, get func(Run) float64) (ratios []float64, shared int) {
	a := idx[Key{sub.Scenario, sub.Mode, sub.Contestant}]
	b := idx[Key{peer.Scenario, peer.Mode, peer.Contestant}]
	var nums []int
	for n := range a {
		if _, ok := b[n]; ok {
			nums = append(nums, n)
		}
	}
	slices.Sort(nums)
	for _, n := range nums {
		x, y := get(a[n]), get(b[n])
		if x > 0 && y > 0 {
			ratios = append(ratios, x/y)
		}
	}
	return ratios, len(nums)
}

// judge sets t's verdict from the paired ratios of ratios, out of shared
// rounds in which both sides ran.
func (t *Target) judge(ratios []float64, shared int) {
	t.Paired = true
	if shared == 0 {
		return // not measured
	}
	if len(ratios) == 0 {
		t.NA = true
		return
	}
	t.Measured, t.Rounds = true, len(ratios)
	for _, x := range ratios {
		if t.AtMost && x <= 1 || !t.AtMost && x >= 1 {
			t.Clear++
		}
	}
	t.Got = stat(ratios).Median
	t.Met = t.clears() && t.Clear >= RoundsNeeded(t.Rounds)
}

// clears reports whether Got is on the right side of Want.
func (t *Target) clears() bool {
	if t.AtMost {
		return t.Got <= t.Want
	}
	return t.Got >= t.Want
}

// Targets checks the goals for evloop (Subject) against the rows and the
// runs they summarize.
//
// Against a peer the targets are paired: in each round in which both evloop
// and the peer ran successfully (in the same scenario and mode), evloop's
// figure is divided by the peer's; the target is met when the median of
// these ratios clears it and at least RoundsNeeded of them are at least
// 1.00 (at most 1.00 for an upper bound). The peers: the best Go peer
// (BestGoPeer, chosen per metric by median), GoPeer, and, for the mixed
// scenarios, the other contestant with the lowest p99 ratio. The goals:
//
//   - messages per server CPU-second at least the best Go peer's in every
//     echo and HTTP scenario, and at least GoPeerPerCPU times GoPeer's in
//     GoPeerPerCPUScenarios in pinned mode;
//   - throughput at least the best Go peer's, in unpinned mode only (in
//     pinned mode the load generator sets the pace);
//   - p99 latency at most GoPeer's, where p99 was measured (not measured,
//     NA, where it is zero: wrk's pipelined scenario);
//   - in the mixed scenarios, pinned mode: the ping-pong p99 under firehoses
//     at most MixedP99Ratio times the same connections' p99 alone (median),
//     and that ratio the lowest of all contestants (paired against the
//     other contestant with the lowest median).
//
// Judged on medians, unpaired: messages per server CPU-second at least
// 1.05x stdnet (1.15x for the 4 KiB echo and pipelined HTTP) and
// throughput at least 1.0x stdnet, as ratios of the medians; allocations
// per message at most MaxAllocsPerMsg; RSS per idle connection in
// IdleTargetScenarios at most MaxIdleRSSPerConnKiB.
func Targets(rows []Row, runs []Run) []Target {
	idx := indexRounds(runs)
	var out []Target
	for _, r := range rows {
		if r.Contestant != Subject {
			continue
		}
		// add judges a target on a median.
		add := func(what string, want, got float64, atMost, measured bool) {
			t := Target{Scenario: r.Scenario, Mode: r.Mode, What: what, Want: want, Got: got, AtMost: atMost, Measured: measured}
			t.Met = measured && t.clears()
			out = append(out, t)
		}
		// paired judges a target against peer (found: the peer ran) by
		// paired rounds.
		paired := func(what string, want float64, atMost bool, peer Row, found bool, get func(Run) float64) {
			t := Target{Scenario: r.Scenario, Mode: r.Mode, What: what, Want: want, AtMost: atMost}
			if found {
				t.judge(idx.pair(r, peer, get))
			} else {
				t.Paired = true
			}
			out = append(out, t)
		}
		named := func(what string, peer Row, found bool) string {
			if found {
				return what + " (" + peer.Contestant + ")"
			}
			return what
		}
		perCPU := func(r Run) float64 { return r.MsgsPerCPUSec }
		thr := func(r Run) float64 { return r.MsgsPerSec }
		switch r.Kind {
		case "echo", "http":
			base, ok := Find(rows, r, Baseline)
			want := 1.05
			if r.Scenario == "echo-4KiB-c50" || r.Scenario == "http-c100-p16" {
				want = 1.15
			}
			perCPUBase := Ratio(r.MsgsPerCPUSec, base.MsgsPerCPUSec)
			thrBase := Ratio(r.MsgsPerSec, base.MsgsPerSec)
			add("msgs per server CPU-s vs "+Baseline, want, perCPUBase, false, ok && perCPUBase > 0)
			add("throughput vs "+Baseline, 1.0, thrBase, false, ok && thrBase > 0)

			peer, found := BestGoPeer(rows, r, func(r Row) Stat { return r.MsgsPerCPUSec })
			paired(named("msgs per server CPU-s vs best Go peer", peer, found), 1.0, false, peer, found, perCPU)
			gnet, gnetFound := Find(rows, r, GoPeer)
			if r.Mode == "pinned" && slices.Contains(GoPeerPerCPUScenarios, r.Scenario) {
				paired("msgs per server CPU-s vs "+GoPeer, GoPeerPerCPU, false, gnet, gnetFound, perCPU)
			}
			if r.Mode == "unpinned" {
				peer, found := BestGoPeer(rows, r, func(r Row) Stat { return r.MsgsPerSec })
				paired(named("throughput vs best Go peer", peer, found), 1.0, false, peer, found, thr)
			}
			paired("p99 latency vs "+GoPeer, 1.0, true, gnet, gnetFound, func(r Run) float64 { return r.P99us })
			add("allocations per message", MaxAllocsPerMsg, r.AllocsPerMsg.Median, true, r.AllocsPerMsg.N > 0)
		case "mixed":
			if r.Mode == "pinned" {
				add("ping-pong p99 under firehoses / alone", MixedP99Ratio, r.P99Ratio.Median, true, r.P99Ratio.N > 0)
				other := func(c string) bool { return c != Subject }
				low, found := pick(rows, r, func(r Row) Stat { return r.P99Ratio }, other, true)
				paired(named("p99 under firehoses / alone vs the lowest other contestant", low, found), 1.0, true,
					low, found, func(r Run) float64 { return r.P99Ratio })
			}
		case "idle":
			if slices.Contains(IdleTargetScenarios, r.Scenario) {
				add("RSS KiB per idle connection", MaxIdleRSSPerConnKiB, r.RSSPerConnKiB.Median, true, r.RSSPerConnKiB.N > 0)
			}
		}
	}
	return out
}
