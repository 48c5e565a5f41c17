package results

import (
	"path/filepath"
	"strings"
	"testing"
)

func run(scenario, kind, mode, contestant string, msgsPerSec, perCPU float64) Run {
	return Run{Scenario: scenario, Kind: kind, Mode: mode, Contestant: contestant, OK: true,
		MsgsPerSec: msgsPerSec, MsgsPerCPUSec: perCPU, Seconds: 5}
}

func TestSummarizeMediansAndTargets(t *testing.T) {
	f := &File{Config: Config{Modes: []string{"pinned"}, Scenarios: []string{"echo-4KiB-c50", "idle-c10000"},
		Contestants: []string{Subject, Baseline}}}
	for _, v := range []float64{100, 130, 120} {
		f.Runs = append(f.Runs, run("echo-4KiB-c50", "echo", "pinned", Baseline, v, v))
		f.Runs = append(f.Runs, run("echo-4KiB-c50", "echo", "pinned", Subject, v*1.2, v*1.1))
	}
	f.Runs = append(f.Runs, Run{Scenario: "echo-4KiB-c50", Kind: "echo", Mode: "pinned", Contestant: Subject, Error: "boom"})
	f.Runs = append(f.Runs, Run{Scenario: "idle-c10000", Kind: "idle", Mode: "pinned", Contestant: Subject, OK: true, RSSPerConnKiB: 0.24})
	rows := Summarize(f)
	if len(rows) != 3 || rows[0].Contestant != Subject || rows[1].Contestant != Baseline {
		t.Fatalf("rows not in configuration order: %+v", rows)
	}
	base := rows[1].MsgsPerSec
	if base.Median != 120 || base.Min != 100 || base.Max != 130 || base.N != 3 {
		t.Fatalf("baseline msgs/s = %+v", base)
	}
	if rows[0].Failed != 1 || rows[0].MsgsPerSec.N != 3 {
		t.Fatalf("failed run counted wrong: %+v", rows[0])
	}
	got := map[string]Target{}
	for _, tg := range Targets(rows, f.Runs) {
		got[tg.What] = tg
	}
	if tg := got["msgs per server CPU-s vs "+Baseline]; tg.Want != 1.15 || tg.Met || !tg.Measured {
		t.Errorf("per-CPU target on 4 KiB echo: %+v, want 1.15 and missed at 1.1", tg)
	}
	if tg := got["throughput vs "+Baseline]; !tg.Met {
		t.Errorf("throughput target: %+v, want met at 1.2", tg)
	}
	if tg := got["RSS KiB per idle connection"]; !tg.Met || !tg.AtMost || tg.Want != MaxIdleRSSPerConnKiB {
		t.Errorf("idle target: %+v, want met at 0.24 <= 0.25", tg)
	}
}

func TestMergeReplacesOnlyWhatIsRerun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.json")
	old := &File{Config: Config{Rounds: 3, Warmup: "2s", Duration: "5s", Modes: []string{"pinned", "unpinned"},
		Scenarios: []string{"a", "b"}, Contestants: []string{Subject}}}
	for _, s := range []string{"a", "b"} {
		for _, m := range []string{"pinned", "unpinned"} {
			old.Runs = append(old.Runs, Run{Scenario: s, Mode: m, Contestant: Subject, OK: true})
		}
	}
	if err := Save(path, old); err != nil {
		t.Fatal(err)
	}
	next := &File{Config: Config{Rounds: 3, Warmup: "2s", Duration: "5s", Modes: []string{"pinned"},
		Scenarios: []string{"b"}, Contestants: []string{Subject}}}
	f, err := Merge(path, next)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Runs) != 3 || len(f.Config.Updates) != 1 {
		t.Fatalf("after merge: %d runs, updates %q; want 3 and one update", len(f.Runs), f.Config.Updates)
	}
	for _, r := range f.Runs {
		if r.Scenario == "b" && r.Mode == "pinned" {
			t.Fatalf("the re-run scenario's old run survived: %+v", r)
		}
	}
	next.Config.Rounds = 1
	if _, err := Merge(path, next); err == nil {
		t.Fatal("merging a run with other rounds succeeded")
	}
}

func TestBestGoPeerAndVersusColumns(t *testing.T) {
	f := &File{Config: Config{Modes: []string{"unpinned"}, Scenarios: []string{"http-c100"},
		Contestants: []string{Subject, "evloop-async", "evloop-portable", Baseline, GoPeer, "nbio", Native}}}
	for _, c := range []struct {
		name               string
		msgsPerSec, perCPU float64
	}{
		{Subject, 200, 220},
		{"evloop-async", 400, 400},    // evloop's own: never the peer
		{"evloop-portable", 450, 450}, // evloop on the portable backend: neither
		{Baseline, 180, 200},
		{GoPeer, 210, 200},
		{"nbio", 190, 250},
	} {
		f.Runs = append(f.Runs, run("http-c100", "http", "unpinned", c.name, c.msgsPerSec, c.perCPU))
	}
	// The C server: never the Go peer, and without memory statistics.
	f.Runs = append(f.Runs, Run{Scenario: "http-c100", Kind: "http", Mode: "unpinned", Contestant: Native, OK: true,
		MsgsPerSec: 500, MsgsPerCPUSec: 500, Seconds: 5, NoMemStats: true})
	rows := Summarize(f)
	got := map[string]Target{}
	for _, tg := range Targets(rows, f.Runs) {
		got[tg.What] = tg
	}
	if tg, ok := got["msgs per server CPU-s vs best Go peer (nbio)"]; !ok || tg.Met || tg.Got != 220.0/250 {
		t.Errorf("per-CPU vs best Go peer: %+v (found %v), want nbio's 250 and missed at 0.88; targets %v", tg, ok, got)
	}
	if tg, ok := got["throughput vs best Go peer ("+GoPeer+")"]; !ok || tg.Met || tg.Got != 200.0/210 {
		t.Errorf("throughput vs best Go peer: %+v (found %v), want %s's 210 and missed", tg, ok, GoPeer)
	}
	var sub, native Row
	for _, r := range rows {
		switch r.Contestant {
		case Subject:
			sub = r
		case Native:
			native = r
		}
	}
	if native.AllocsPerMsg.N != 0 || native.MsgsPerSec.N != 1 {
		t.Errorf("%s: allocs/msg over %d runs and msgs/s over %d, want 0 (not measured) and 1",
			Native, native.AllocsPerMsg.N, native.MsgsPerSec.N)
	}
	if v := versus(rows, sub, GoPeer); v != "0.95x / 1.10x" {
		t.Errorf("evloop vs %s = %q, want 0.95x / 1.10x", GoPeer, v)
	}
	if v := versus(rows, sub, Native); v != "0.40x / 0.44x" {
		t.Errorf("evloop vs %s = %q, want 0.40x / 0.44x", Native, v)
	}
	if v := versus(rows, sub, "absent"); v != "-" {
		t.Errorf("versus a contestant that did not run = %q, want -", v)
	}
}

func TestMergeDropsTheSkipOfAContestantRunNow(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.json")
	old := &File{Config: Config{Rounds: 1, Warmup: "2s", Duration: "5s", Modes: []string{"pinned"},
		Scenarios: []string{"a"}, Contestants: []string{Subject}},
		Skipped: []Skip{{Contestant: Native, Reason: "not built"}, {Scenario: "b", Mode: "pinned", Reason: "too many"}}}
	if err := Save(path, old); err != nil {
		t.Fatal(err)
	}
	next := &File{Config: Config{Rounds: 1, Warmup: "2s", Duration: "5s", Modes: []string{"pinned"},
		Scenarios: []string{"a"}, Contestants: []string{Subject, Native}}}
	f, err := Merge(path, next)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Skipped) != 1 || f.Skipped[0].Scenario != "b" {
		t.Fatalf("skips after merge: %v, want only scenario b's", f.Skipped)
	}
	if got := old.Skipped[0].String(); got != "contestant "+Native+": not built" {
		t.Errorf("contestant skip reads %q", got)
	}
}

func TestMergeDropsTheSkipOfAScenarioLeftOutAndRunNow(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.json")
	leftOut := Skip{Scenario: "idle-c100000", Reason: "too few descriptors"}
	old := &File{Config: Config{Rounds: 1, Warmup: "2s", Duration: "5s", Modes: []string{"pinned"},
		Scenarios: []string{"a"}, Contestants: []string{Subject}}, Skipped: []Skip{leftOut}}
	if got := leftOut.String(); got != "idle-c100000: too few descriptors" {
		t.Errorf("a scenario left out of the full set reads %q", got)
	}
	if err := Save(path, old); err != nil {
		t.Fatal(err)
	}
	next := &File{Config: Config{Rounds: 1, Warmup: "2s", Duration: "5s", Modes: []string{"pinned"},
		Scenarios: []string{"a"}, Contestants: []string{Subject}}}
	f, err := Merge(path, next)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Skipped) != 1 {
		t.Fatalf("skips after re-running another scenario: %v, want the left-out one kept", f.Skipped)
	}
	next.Config.Scenarios = []string{"idle-c100000"}
	if f, err = Merge(path, next); err != nil {
		t.Fatal(err)
	}
	if len(f.Skipped) != 0 {
		t.Fatalf("skips after running idle-c100000: %v, want none", f.Skipped)
	}
}

func TestMixedRowAndTarget(t *testing.T) {
	f := &File{Config: Config{Modes: []string{"pinned", "unpinned"}, Scenarios: []string{"mixed-c100-f4"},
		Contestants: []string{Subject, GoPeer}}}
	for i, ratio := range []float64{1.1, 1.3, 1.2} {
		for _, mode := range f.Config.Modes {
			r := run("mixed-c100-f4", "mixed", mode, Subject, 1000, 1000)
			r.P99AloneUs, r.P99us, r.P99Ratio = 100, 100*ratio, ratio
			r.GeneratorSaturated = i == 1
			f.Runs = append(f.Runs, r)
		}
	}
	rows := Summarize(f)
	if len(rows) != 2 || rows[0].P99Ratio.Median != 1.2 || rows[0].GeneratorSaturated != 1 || rows[0].P99AloneUs.Median != 100 {
		t.Fatalf("mixed rows: %+v", rows)
	}
	var got []Target
	for _, tg := range Targets(rows, f.Runs) {
		if tg.Scenario == "mixed-c100-f4" && !tg.Paired {
			got = append(got, tg)
		}
	}
	if len(got) != 1 || got[0].Mode != "pinned" || !got[0].AtMost || got[0].Want != MixedP99Ratio || !got[0].Met {
		t.Fatalf("mixed targets: %+v, want one, pinned, met at 1.2 <= 1.25", got)
	}
	var out strings.Builder
	Write(&out, rows, f.Runs, true)
	for _, want := range []string{"ping-pong next to firehoses", "(generator saturated)", "1.20x (1.10x-1.30x)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the summary lacks %q:\n%s", want, out.String())
		}
	}
}

func TestUDPRowsShowTheirLosses(t *testing.T) {
	f := &File{Config: Config{Modes: []string{"pinned", "unpinned"}, Scenarios: []string{"echo-64B-c50", "udp-64B-c50-p8"},
		Contestants: []string{Subject, Baseline}}}
	for i, lost := range []float64{3, 0, 12} {
		for _, c := range []string{Subject, Baseline} {
			r := run("udp-64B-c50-p8", "udp", "pinned", c, 1000, 1000)
			r.Msgs, r.Lost, r.Late = 5000, lost, float64(i)
			f.Runs = append(f.Runs, r)
		}
	}
	f.Runs = append(f.Runs, run("echo-64B-c50", "echo", "pinned", Subject, 1000, 1000),
		run("echo-64B-c50", "echo", "unpinned", Subject, 1000, 1000))
	rows := Summarize(f)
	var udp Row
	for _, r := range rows {
		if r.Kind == "udp" && r.Contestant == Subject {
			udp = r
		}
		if r.Kind != "udp" && r.Lost.N != 0 {
			t.Errorf("%s has losses: %+v", r.Scenario, r.Lost)
		}
	}
	if udp.Lost.Median != 3 || udp.Lost.Min != 0 || udp.Lost.Max != 12 || udp.Lost.N != 3 {
		t.Fatalf("udp losses: %+v, want 3 (0-12) over 3 rounds", udp.Lost)
	}
	for _, tg := range Targets(rows, f.Runs) {
		if tg.Scenario == "udp-64B-c50-p8" {
			t.Errorf("a target in the udp scenario: %+v", tg)
		}
	}
	var out strings.Builder
	Write(&out, rows, f.Runs, true)
	md := out.String()
	pinned, unpinned, _ := strings.Cut(md, "Mode unpinned")
	for _, want := range []string{"| p99 us | lost datagrams | server RSS MiB |", "| udp-64B-c50-p8 | evloop | 1k (1k-1k) | 1k (1k-1k) | 0 (0-0) | 3 (0-12) |",
		"| echo-64B-c50 | evloop | 1k | 1k | 0 | - |", "more than 1% of its datagrams fails"} {
		if !strings.Contains(pinned, want) {
			t.Errorf("the pinned tables lack %q:\n%s", want, pinned)
		}
	}
	// A mode without a udp scenario keeps the usual columns.
	if strings.Contains(unpinned, "lost") || !strings.Contains(unpinned, "| p99 us | server RSS MiB |") {
		t.Errorf("the unpinned tables, without udp, changed:\n%s", unpinned)
	}
}

func TestLostShare(t *testing.T) {
	for _, c := range []struct{ msgs, lost, want float64 }{
		{0, 0, 0}, {99, 1, 0.01}, {0, 5, 1}, {1000, 0, 0},
	} {
		if got := (Run{Msgs: c.msgs, Lost: c.lost}).LostShare(); got != c.want {
			t.Errorf("LostShare of %v lost and %v answered = %v, want %v", c.lost, c.msgs, got, c.want)
		}
	}
}

func TestRESPRowsHaveTheirOwnTable(t *testing.T) {
	f := &File{Config: Config{Modes: []string{"pinned"}, Scenarios: []string{"echo-64B-c50", "resp-c50"},
		Contestants: []string{Subject, Baseline, "evloop-redis", RESPGoPeer, RESPNative}}}
	f.Runs = append(f.Runs, run("echo-64B-c50", "echo", "pinned", Subject, 1000, 1000),
		run("echo-64B-c50", "echo", "pinned", Baseline, 1000, 1000))
	for _, c := range []struct {
		name               string
		msgsPerSec, perCPU float64
		noMemStats         bool
	}{
		{"evloop-redis", 1200, 1500, true},
		{RESPGoPeer, 1000, 1000, false},
		{RESPNative, 800, 2000, true},
	} {
		r := run("resp-c50", "resp", "pinned", c.name, c.msgsPerSec, c.perCPU)
		r.NoMemStats, r.AllocsPerMsg = c.noMemStats, 2
		f.Runs = append(f.Runs, r)
	}
	rows := Summarize(f)
	for _, tg := range Targets(rows, f.Runs) {
		if tg.Scenario == "resp-c50" {
			t.Errorf("a target in a RESP scenario: %+v", tg)
		}
	}
	var out strings.Builder
	Write(&out, rows, f.Runs, true)
	load, rest, found := strings.Cut(out.String(), "#### Mode pinned: Redis protocol (RESP)")
	if !found {
		t.Fatalf("no RESP table:\n%s", out.String())
	}
	if strings.Contains(load, "resp-c50") {
		t.Errorf("RESP rows in the load table:\n%s", load)
	}
	for _, want := range []string{"| requests/s | requests per server CPU-s | p99 us |", "| vs redcon | vs Redis |",
		"| resp-c50 | evloop-redis | 1.2k | 1.5k | 0 | 0.0 | - | 0.00 | 0.00 | 1.20x / 1.50x | 1.50x / 0.75x |",
		"| resp-c50 | redcon | 1k | 1k | 0 | 0.0 | 2 | 0.00 | 0.00 | 1.00x / 1.00x | 1.25x / 0.50x |"} {
		if !strings.Contains(rest, want) {
			t.Errorf("the RESP table lacks %q:\n%s", want, rest)
		}
	}
}

func TestTLSRowsHaveTheirTable(t *testing.T) {
	f := &File{Config: Config{Modes: []string{"unpinned"}, Scenarios: []string{"tls-echo-1KiB-c50", "https-c100"},
		Contestants: []string{Subject, Baseline, "nbio"}}}
	f.Runs = append(f.Runs,
		run("tls-echo-1KiB-c50", "tls-echo", "unpinned", Subject, 1200, 3000),
		run("tls-echo-1KiB-c50", "tls-echo", "unpinned", Baseline, 1000, 2000),
		run("tls-echo-1KiB-c50", "tls-echo", "unpinned", "nbio", 800, 1000),
		run("https-c100", "https", "unpinned", Subject, 1000, 1000))
	rows := Summarize(f)
	for _, tg := range Targets(rows, f.Runs) {
		t.Errorf("a target in a TLS scenario: %+v", tg)
	}
	var out strings.Builder
	Write(&out, rows, f.Runs, true)
	md := out.String()
	for _, want := range []string{"#### Mode unpinned: TLS", "| vs stdnet+tls |",
		"| tls-echo-1KiB-c50 | evloop | 1.2k | 3k |", "| 1.20x / 1.50x |", "| tls-echo-1KiB-c50 | nbio | 800 | 1k |", "| 0.80x / 0.50x |",
		"| https-c100 | evloop | 1k | 1k |"} {
		if !strings.Contains(md, want) {
			t.Errorf("the summary lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, ": load") {
		t.Errorf("TLS rows in a load table:\n%s", md)
	}
}
