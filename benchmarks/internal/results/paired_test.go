package results

import (
	"strings"
	"testing"
)

// addRounds adds one run of contestant c per value, rounds 1, 2 ..., with set
// putting the value into the run; a value below zero is a failed round.
func addRounds(f *File, scenario, kind, mode, c string, set func(*Run, float64), vals ...float64) {
	for i, v := range vals {
		r := Run{Scenario: scenario, Kind: kind, Mode: mode, Round: i + 1, Contestant: c, OK: v >= 0, Seconds: 5}
		if v < 0 {
			r.Error = "boom"
		} else {
			set(&r, v)
		}
		f.Runs = append(f.Runs, r)
	}
}

func perCPU(r *Run, v float64) { r.MsgsPerCPUSec, r.MsgsPerSec = v, v }
func p99(r *Run, v float64)    { r.P99us = v }

func newFile(modes, scenarios []string) *File {
	return &File{Config: Config{Modes: modes, Scenarios: scenarios,
		Contestants: []string{Subject, "evloop-async", Baseline, GoPeer, "nbio", Native}}}
}

// targets summarizes f and returns its targets by scenario, mode and what.
func targets(f *File) map[[3]string]Target {
	got := map[[3]string]Target{}
	for _, t := range Targets(Summarize(f), f.Runs) {
		got[[3]string{t.Scenario, t.Mode, t.What}] = t
	}
	return got
}

func TestRoundsNeeded(t *testing.T) {
	for n, want := range map[int]int{1: 1, 2: 2, 3: 3, 4: 4, 5: 4, 6: 5, 7: 6, 10: 8, 11: 9} {
		if got := RoundsNeeded(n); got != want {
			t.Errorf("RoundsNeeded(%d) = %d, want %d (80%%, rounded up)", n, got, want)
		}
	}
}

func TestPairedByRoundNumber(t *testing.T) {
	const s = "echo-64B-c1000"
	f := newFile([]string{"pinned"}, []string{s})
	addRounds(f, s, "echo", "pinned", Subject, perCPU, 100, 120, 90, 110, 105)
	// gnet's runs listed last round first: pairing goes by the round number.
	addRounds(f, s, "echo", "pinned", GoPeer, perCPU, 95, 100, 92, 100, 80)
	peer := f.Runs[len(f.Runs)-5:]
	for i, j := 0, len(peer)-1; i < j; i, j = i+1, j-1 {
		peer[i], peer[j] = peer[j], peer[i]
	}
	addRounds(f, s, "echo", "pinned", Baseline, perCPU, 50, 50, 50, 50, 50)
	got := targets(f)
	// Ratios by round: 1.0526, 1.2, 0.978, 1.1, 1.3125: median 1.1, 4 of 5
	// at least 1.00. (The ratio of the medians would be 105/95 = 1.105.)
	for _, what := range []string{"msgs per server CPU-s vs best Go peer (" + GoPeer + ")", "msgs per server CPU-s vs " + GoPeer} {
		tg, ok := got[[3]string{s, "pinned", what}]
		if !ok {
			t.Fatalf("no target %q in %v", what, got)
		}
		if !tg.Paired || !tg.Measured || tg.Rounds != 5 || tg.Clear != 4 || tg.Got != 1.1 || !tg.Met {
			t.Errorf("%s: %+v, want paired over 5 rounds, 4 clearing, median 1.1, met", what, tg)
		}
	}
	if tg := got[[3]string{s, "pinned", "msgs per server CPU-s vs " + GoPeer}]; tg.Want != GoPeerPerCPU {
		t.Errorf("per-CPU vs %s in pinned %s: want %v, got %v", GoPeer, s, GoPeerPerCPU, tg.Want)
	}
	var out strings.Builder
	Write(&out, Summarize(f), f.Runs, true)
	for _, want := range []string{"| rounds clearing 1.00 |", "| >= 1.05 | 1.1 | 4/5 | met |"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the targets table lacks %q:\n%s", want, out.String())
		}
	}
}

func TestPairedFourOfFive(t *testing.T) {
	const s = "echo-64B-c50"
	f := newFile([]string{"pinned"}, []string{s})
	// Ratios 1.2, 1.1, 0.9, 1.05, 0.95: median 1.05, but 3 of 5 at 1.00 or
	// above.
	addRounds(f, s, "echo", "pinned", Subject, perCPU, 120, 110, 90, 105, 95)
	addRounds(f, s, "echo", "pinned", GoPeer, perCPU, 100, 100, 100, 100, 100)
	tg := targets(f)[[3]string{s, "pinned", "msgs per server CPU-s vs best Go peer (" + GoPeer + ")"}]
	if tg.Got != 1.05 || tg.Clear != 3 || tg.Rounds != 5 || tg.Met || !tg.Measured {
		t.Errorf("3 of 5 rounds: %+v, want median 1.05 and missed", tg)
	}
	// A ratio of exactly 1.00 clears.
	f.Runs[4].MsgsPerCPUSec = 100
	tg = targets(f)[[3]string{s, "pinned", "msgs per server CPU-s vs best Go peer (" + GoPeer + ")"}]
	if tg.Clear != 4 || !tg.Met {
		t.Errorf("4 of 5 rounds, one at exactly 1.00: %+v, want met", tg)
	}
	// The 1.05x gnet target is only for two scenarios; throughput only
	// unpinned.
	for _, what := range []string{"msgs per server CPU-s vs " + GoPeer, "throughput vs best Go peer (" + GoPeer + ")"} {
		if tg, ok := targets(f)[[3]string{s, "pinned", what}]; ok {
			t.Errorf("pinned %s has the target %q: %+v", s, what, tg)
		}
	}
}

func TestPairedSkipsFailedRounds(t *testing.T) {
	const s = "http-c100"
	f := newFile([]string{"unpinned"}, []string{s})
	// evloop fails round 2, gnet round 4, and gnet alone has a round 6:
	// rounds 1, 3 and 5 pair, with ratios 1.1, 1.2 and 0.9.
	addRounds(f, s, "http", "unpinned", Subject, perCPU, 110, 500, 120, 100, 90)
	f.Runs[1].OK, f.Runs[1].Error = false, "boom"
	addRounds(f, s, "http", "unpinned", GoPeer, perCPU, 100, 100, 100, -1, 100, 100)
	rows := Summarize(f)
	if rows[0].Failed != 1 || rows[1].Failed != 1 {
		t.Fatalf("failed rounds: evloop %d, %s %d, want 1 and 1", rows[0].Failed, GoPeer, rows[1].Failed)
	}
	got := targets(f)
	for _, what := range []string{"msgs per server CPU-s vs best Go peer (" + GoPeer + ")", "throughput vs best Go peer (" + GoPeer + ")"} {
		tg, ok := got[[3]string{s, "unpinned", what}]
		if !ok {
			t.Fatalf("no target %q in %v", what, got)
		}
		// 2 of 3 clear 1.00; 3 of 3 are needed.
		if tg.Rounds != 3 || tg.Clear != 2 || tg.Got != 1.1 || tg.Met {
			t.Errorf("%s: %+v, want 3 paired rounds, 2 clearing, median 1.1, missed", what, tg)
		}
	}
}

func TestPairedEvenMedian(t *testing.T) {
	const s = "echo-4KiB-c50"
	f := newFile([]string{"unpinned"}, []string{s})
	addRounds(f, s, "echo", "unpinned", Subject, perCPU, 98, 102, 104, 110)
	addRounds(f, s, "echo", "unpinned", GoPeer, perCPU, 100, 100, 100, 100)
	what := [3]string{s, "unpinned", "msgs per server CPU-s vs best Go peer (" + GoPeer + ")"}
	// Ratios 0.98, 1.02, 1.04, 1.10: median (1.02+1.04)/2; 3 of 4 clear,
	// and 4 of 4 are needed.
	tg := targets(f)[what]
	if want := (1.02 + 1.04) / 2; tg.Got < want-1e-12 || tg.Got > want+1e-12 || tg.Rounds != 4 || tg.Clear != 3 || tg.Met {
		t.Errorf("even n: %+v, want median %v over 4 rounds, 3 clearing, missed", tg, want)
	}
	f.Runs[0].MsgsPerCPUSec = 100
	if tg := targets(f)[what]; tg.Clear != 4 || !tg.Met {
		t.Errorf("even n, every round at 1.00 or above: %+v, want met", tg)
	}
}

func TestPairedAtMostP99(t *testing.T) {
	const s = "echo-64B-c50"
	f := newFile([]string{"pinned"}, []string{s})
	addRounds(f, s, "echo", "pinned", Subject, p99, 90, 100, 110, 95, 80)
	addRounds(f, s, "echo", "pinned", GoPeer, p99, 100, 100, 100, 100, 100)
	what := [3]string{s, "pinned", "p99 latency vs " + GoPeer}
	// Ratios 0.9, 1.0, 1.1, 0.95, 0.8: median 0.95, 4 of 5 at most 1.00.
	tg := targets(f)[what]
	if !tg.AtMost || tg.Want != 1 || tg.Got != 0.95 || tg.Clear != 4 || !tg.Met {
		t.Errorf("p99 vs %s: %+v, want at most 1, median 0.95, 4 of 5, met", GoPeer, tg)
	}
	f.Runs[1].P99us = 105 // now 3 of 5 at most 1.00, the median unchanged
	if tg := targets(f)[what]; tg.Got != 0.95 || tg.Clear != 3 || tg.Met {
		t.Errorf("p99 vs %s, 3 of 5: %+v, want missed", GoPeer, tg)
	}
}

func TestPairedP99NotMeasured(t *testing.T) {
	const s = "http-c100-p16"
	f := newFile([]string{"pinned"}, []string{s})
	addRounds(f, s, "http", "pinned", Subject, p99, 0, 0, 0)
	addRounds(f, s, "http", "pinned", GoPeer, p99, 900, 0, 950)
	what := [3]string{s, "pinned", "p99 latency vs " + GoPeer}
	tg := targets(f)[what]
	if !tg.NA || tg.Measured || tg.Met {
		t.Errorf("p99 of 0: %+v, want n/a, not measured", tg)
	}
	var out strings.Builder
	Write(&out, Summarize(f), f.Runs, true)
	if want := "| p99 latency vs " + GoPeer + " | <= 1 | n/a | - | n/a |"; !strings.Contains(out.String(), want) {
		t.Errorf("the targets table lacks %q:\n%s", want, out.String())
	}
	// One round with p99 on both sides pairs; the others are left out.
	f.Runs[2].P99us = 900
	if tg := targets(f)[what]; tg.NA || !tg.Measured || tg.Rounds != 1 || tg.Got != 900.0/950 || !tg.Met {
		t.Errorf("p99 measured in one round: %+v, want 1 paired round, met", tg)
	}
	// Without gnet the target is not measured, rather than n/a.
	f.Runs = f.Runs[:3]
	if tg := targets(f)[what]; tg.NA || tg.Measured || !tg.Paired {
		t.Errorf("p99 without %s: %+v, want not measured", GoPeer, tg)
	}
}

func TestMixedLowestRatio(t *testing.T) {
	const s = "mixed-c100-f4"
	f := newFile([]string{"pinned", "unpinned"}, []string{s})
	ratio := func(r *Run, v float64) { r.P99Ratio = v }
	for _, mode := range f.Config.Modes {
		addRounds(f, s, "mixed", mode, Subject, ratio, 1.1, 1.2, 1.0)
		addRounds(f, s, "mixed", mode, GoPeer, ratio, 1.3, 1.1, 1.5)
		addRounds(f, s, "mixed", mode, "nbio", ratio, 2, 2, 2)
	}
	got := targets(f)
	what := "p99 under firehoses / alone vs the lowest other contestant (" + GoPeer + ")"
	// Paired with gnet, the lowest other median (1.3): 0.846, 1.09, 0.667;
	// 2 of 3 at most 1.00, 3 needed.
	tg, ok := got[[3]string{s, "pinned", what}]
	if !ok || !tg.AtMost || tg.Want != 1 || tg.Got != 1.1/1.3 || tg.Clear != 2 || tg.Rounds != 3 || tg.Met {
		t.Errorf("lowest ratio: %+v (found %v), want at most 1, median 1.1/1.3, 2 of 3, missed", tg, ok)
	}
	if tg := got[[3]string{s, "pinned", "ping-pong p99 under firehoses / alone"}]; tg.Got != 1.1 || !tg.Met || tg.Paired {
		t.Errorf("p99 ratio: %+v, want the median 1.1, met", tg)
	}
	if _, ok := got[[3]string{s, "unpinned", what}]; ok {
		t.Errorf("the mixed targets are for pinned mode only: %v", got)
	}
	f.Runs[4].P99Ratio = 1.3 // gnet's round 2: now 3 of 3
	if tg := targets(f)[[3]string{s, "pinned", what}]; tg.Clear != 3 || !tg.Met {
		t.Errorf("lowest ratio, every round: %+v, want met", tg)
	}
}
