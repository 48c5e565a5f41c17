package results

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// num formats v with three significant digits and a k/M suffix.
func num(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.3gM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.3gk", v/1e3)
	}
	return fmt.Sprintf("%.3g", v)
}

// rng formats a Stat as "median (min-max)", or "-" when nothing was measured.
func rng(s Stat, f func(float64) string) string {
	if s.N == 0 {
		return "-"
	}
	if s.N == 1 {
		return f(s.Median)
	}
	return fmt.Sprintf("%s (%s-%s)", f(s.Median), f(s.Min), f(s.Max))
}

func ratio(r float64) string {
	if r == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fx", r)
}

// versusLegend explains the versus columns under each load heading.
const versusLegend = "vs " + GoPeer + " and vs C: the row's contestant over " + GoPeer + " and over " + Native +
	" (the C server), as msgs/s ratio / msgs per server CPU-s ratio; on evloop's rows, evloop's standing against each."

// versus formats r's msgs/s and msgs per server CPU-s over those of the
// contestant peer in the same scenario and mode, or "-" when peer was not
// measured there.
func versus(rows []Row, r Row, peer string) string {
	p, _ := Find(rows, r, peer)
	thr, perCPU := Ratio(r.MsgsPerSec, p.MsgsPerSec), Ratio(r.MsgsPerCPUSec, p.MsgsPerCPUSec)
	if thr == 0 && perCPU == 0 {
		return "-"
	}
	return ratio(thr) + " / " + ratio(perCPU)
}

// respLegend explains the RESP table.
const respLegend = "Every request is one command, SET and GET alternating. vs " + RESPGoPeer + " and vs Redis: the row's contestant over " +
	RESPGoPeer + " and over " + RESPNative + " (C), as requests/s ratio / requests per server CPU-s ratio. allocs/req: - for " + RESPNative +
	" (not Go) and for evloop-redis (the example server, run with its own command line, writes no Go memory statistics)."

// TLSBaseline names, in the TLS table, what the ratios compare against:
// Baseline serving over crypto/tls.
const TLSBaseline = Baseline + "+tls"

// tlsLegend explains the TLS table.
const tlsLegend = "Echo and HTTP plaintext over TLS (1.3, a self-signed ECDSA P-256 certificate, keep-alive; each connection's full handshake " +
	"made once, before echoload's warm-up, or when wrk opens it). vs " + TLSBaseline + ": the row's contestant over " + Baseline +
	" with crypto/tls (goroutine per connection), as msgs/s ratio / msgs per server CPU-s ratio."

// isTLSLoad reports whether kind is a TLS load scenario's, which has the
// TLS table; idle TLS connections are in the idle table.
func isTLSLoad(kind string) bool { return kind == "tls-echo" || kind == "https" }

// lostLegend explains the column of lost datagrams.
var lostLegend = fmt.Sprintf("lost datagrams (UDP scenarios): per round, the datagrams not answered within udpload's timeout, "+
	"given up on and replaced; in a UDP scenario msgs/s counts the replies received in time, and a round that loses more than %g%% of its datagrams fails.",
	MaxLostShare*100)

// mixedLegend explains the mixed table.
const mixedLegend = "p99 alone: the same ping-pong connections without the firehoses, measured just before on the same server; " +
	"p99 mixed / alone: the median of the rounds' ratios. (generator saturated): in some round a load generator used at least 0.95 " +
	"of a core over the window; (load CPU saturated): in pinned mode, the two generators together used at least 0.95 of the core they share."

func allocs(v float64) string { return fmt.Sprintf("%.3g", v) }

func kib(v float64) string { return fmt.Sprintf("%.2f", v) }

func mib(v float64) string { return fmt.Sprintf("%.1f", v/1024) }

func us(v float64) string { return fmt.Sprintf("%.0f", v) }

func count(v float64) string { return fmt.Sprintf("%.0f", v) }

// table writes rows of cells, as Markdown when md is true and as aligned
// text otherwise.
func table(w io.Writer, md bool, header []string, rows [][]string) {
	if md {
		fmt.Fprintln(w, "| "+strings.Join(header, " | ")+" |")
		sep := make([]string, len(header))
		for i := range sep {
			sep[i] = "---"
			if i > 1 {
				sep[i] = "---:"
			}
		}
		fmt.Fprintln(w, "| "+strings.Join(sep, " | ")+" |")
		for _, r := range rows {
			fmt.Fprintln(w, "| "+strings.Join(r, " | ")+" |")
		}
		return
	}
	width := make([]int, len(header))
	for _, r := range append([][]string{header}, rows...) {
		for i, c := range r {
			width[i] = max(width[i], len(c))
		}
	}
	for _, r := range append([][]string{header}, rows...) {
		for i, c := range r {
			if i > 1 {
				fmt.Fprintf(w, "  %*s", width[i], c)
			} else {
				fmt.Fprintf(w, "%-*s  ", width[i], c)
			}
		}
		fmt.Fprintln(w)
	}
}

// targetsLegend explains the targets table.
const targetsLegend = "Against a peer (the best Go peer, " + GoPeer + ", or in the mixed scenario the other contestant with the lowest p99 ratio), " +
	"got is the median of the per-round ratios evloop / peer, paired by round number (a round in which either failed is not paired), and " +
	"rounds clearing 1.00 counts the paired rounds with a ratio >= 1.00 (<= 1.00 for an at-most target); such a target is met when got " +
	"clears want and at least 80% of the paired rounds, rounded up (4 of 5, 3 of 3), clear 1.00. The targets against " + Baseline +
	" are ratios of the medians; allocations, idle RSS and the mixed p99 ratio are evloop's medians. n/a: the metric is not measured " +
	"there (wrk reports p99 as 0 in the pipelined scenario); it counts as not measured."

// Write writes the summary of rows, which summarize runs: per mode a load
// table, a RESP table, a TLS table, a table of the mixed scenarios and an idle-memory
// table, each where the mode has such rows, then the targets. md selects Markdown;
// otherwise aligned text.
func Write(w io.Writer, rows []Row, runs []Run, md bool) {
	var modes []string
	for _, r := range rows {
		if !slices.Contains(modes, r.Mode) {
			modes = append(modes, r.Mode)
		}
	}
	for _, mode := range modes {
		var load, idle, mixed, resp, tlsLoad [][]string
		// A mode with a UDP scenario gets a column of lost datagrams in
		// its load table, "-" on the other scenarios' rows.
		udp := slices.ContainsFunc(rows, func(r Row) bool { return r.Mode == mode && r.Kind == "udp" })
		for _, r := range rows {
			if r.Mode != mode {
				continue
			}
			failed := ""
			if r.Failed > 0 {
				failed = fmt.Sprintf(" (%d failed)", r.Failed)
			}
			if r.Kind == "mixed" {
				if r.GeneratorSaturated > 0 {
					failed += " (generator saturated)"
				}
				if r.LoadCPUSaturated > 0 {
					failed += " (load CPU saturated)"
				}
				mixed = append(mixed, []string{r.Scenario, r.Contestant + failed,
					rng(r.MsgsPerSec, num), rng(r.P50us, us), rng(r.P99us, us), rng(r.P99AloneUs, us),
					rng(r.P99Ratio, func(v float64) string { return fmt.Sprintf("%.2fx", v) }),
					rng(r.FirehoseMBPerSec, us), rng(r.ServerCPU, kib), rng(r.PingCPU, kib), rng(r.FirehoseCPU, kib),
					rng(r.OtherCPU, kib)})
				continue
			}
			if r.Kind == "resp" {
				resp = append(resp, []string{r.Scenario, r.Contestant + failed,
					rng(r.MsgsPerSec, num), rng(r.MsgsPerCPUSec, num), rng(r.P99us, us),
					rng(r.RSSKiB, mib), rng(r.AllocsPerMsg, allocs), rng(r.LoaderCPU, kib), rng(r.OtherCPU, kib),
					versus(rows, r, RESPGoPeer), versus(rows, r, RESPNative)})
				continue
			}
			if isTLSLoad(r.Kind) {
				tlsLoad = append(tlsLoad, []string{r.Scenario, r.Contestant + failed,
					rng(r.MsgsPerSec, num), rng(r.MsgsPerCPUSec, num), rng(r.P99us, us),
					rng(r.RSSKiB, mib), rng(r.AllocsPerMsg, allocs), rng(r.LoaderCPU, kib), rng(r.OtherCPU, kib),
					versus(rows, r, Baseline)})
				continue
			}
			if r.Kind == "idle" {
				base, _ := Find(rows, r, Subject)
				idle = append(idle, []string{r.Scenario, r.Contestant + failed,
					rng(r.RSSPerConnKiB, kib), rng(r.HeapPerConnB, num), rng(r.HeapInusePerConn, num), rng(r.StackPerConnB, num),
					rng(r.IdleCPUPercent, kib), ratio(Ratio(base.RSSPerConnKiB, r.RSSPerConnKiB))})
				continue
			}
			sub, _ := Find(rows, r, Subject)
			cells := []string{r.Scenario, r.Contestant + failed,
				rng(r.MsgsPerSec, num), rng(r.MsgsPerCPUSec, num), rng(r.P99us, us)}
			if udp {
				cells = append(cells, rng(r.Lost, count))
			}
			load = append(load, append(cells,
				rng(r.RSSKiB, mib), rng(r.AllocsPerMsg, allocs), rng(r.LoaderCPU, kib), rng(r.OtherCPU, kib),
				ratio(Ratio(sub.MsgsPerSec, r.MsgsPerSec)), ratio(Ratio(sub.MsgsPerCPUSec, r.MsgsPerCPUSec)),
				versus(rows, r, GoPeer), versus(rows, r, Native)))
		}
		if len(load) > 0 || len(mixed) == 0 && len(idle) == 0 && len(resp) == 0 && len(tlsLoad) == 0 {
			if md {
				fmt.Fprintf(w, "\n#### Mode %s: load\n\n", mode)
			} else {
				fmt.Fprintf(w, "\n== mode %s: load (median (min-max) over rounds)\n", mode)
			}
		}
		if len(load) > 0 {
			legend := versusLegend
			header := []string{"scenario", "contestant", "msgs/s", "msgs per server CPU-s", "p99 us"}
			if udp {
				legend += " " + lostLegend
				header = append(header, "lost datagrams")
			}
			if md {
				fmt.Fprintf(w, "%s\n\n", legend)
			} else {
				fmt.Fprintf(w, "%s\n", legend)
			}
			table(w, md, append(header,
				"server RSS MiB", "allocs/msg", "loader CPU-s", "others CPU-s", "evloop/this msgs/s", "evloop/this per CPU-s",
				"vs "+GoPeer, "vs C"), load)
		}
		if len(resp) > 0 {
			if md {
				fmt.Fprintf(w, "\n#### Mode %s: Redis protocol (RESP)\n\n%s\n\n", mode, respLegend)
			} else {
				fmt.Fprintf(w, "\n== mode %s: Redis protocol (RESP)\n%s\n", mode, respLegend)
			}
			table(w, md, []string{"scenario", "contestant", "requests/s", "requests per server CPU-s", "p99 us",
				"server RSS MiB", "allocs/req", "loader CPU-s", "others CPU-s", "vs " + RESPGoPeer, "vs Redis"}, resp)
		}
		if len(tlsLoad) > 0 {
			if md {
				fmt.Fprintf(w, "\n#### Mode %s: TLS\n\n%s\n\n", mode, tlsLegend)
			} else {
				fmt.Fprintf(w, "\n== mode %s: TLS\n%s\n", mode, tlsLegend)
			}
			table(w, md, []string{"scenario", "contestant", "msgs/s", "msgs per server CPU-s", "p99 us",
				"server RSS MiB", "allocs/msg", "loader CPU-s", "others CPU-s", "vs " + TLSBaseline}, tlsLoad)
		}
		if len(mixed) > 0 {
			if md {
				fmt.Fprintf(w, "\n#### Mode %s: ping-pong next to firehoses\n\n%s\n\n", mode, mixedLegend)
			} else {
				fmt.Fprintf(w, "\n== mode %s: ping-pong next to firehoses\n%s\n", mode, mixedLegend)
			}
			table(w, md, []string{"scenario", "contestant", "ping-pong msgs/s", "p50 us", "p99 us", "p99 alone us",
				"p99 mixed / alone", "firehose MB/s", "server CPU-s", "ping-pong loader CPU-s", "firehose CPU-s", "others CPU-s"}, mixed)
		}
		if len(idle) > 0 {
			if md {
				fmt.Fprintf(w, "\n#### Mode %s: idle connections\n\n", mode)
			} else {
				fmt.Fprintf(w, "\n== mode %s: idle connections\n", mode)
			}
			table(w, md, []string{"scenario", "contestant", "RSS KiB/conn", "Go live heap B/conn", "heap spans in use B/conn",
				"stacks B/conn", "idle CPU %", "evloop/this RSS per conn"}, idle)
		}
	}
	targets := Targets(rows, runs)
	if len(targets) == 0 {
		return
	}
	if md {
		fmt.Fprintf(w, "\n#### Targets (evloop)\n\n%s\n\n", targetsLegend)
	} else {
		fmt.Fprintf(w, "\n== targets (evloop)\n%s\n", targetsLegend)
	}
	var tr [][]string
	for _, t := range targets {
		cmp := ">="
		if t.AtMost {
			cmp = "<="
		}
		got, rounds, verdict := fmt.Sprintf("%.3g", t.Got), "-", "missed"
		switch {
		case t.NA:
			got, verdict = "n/a", "n/a"
		case !t.Measured:
			got, verdict = "-", "not measured"
		case t.Met:
			verdict = "met"
		}
		if t.Paired && t.Measured {
			rounds = fmt.Sprintf("%d/%d", t.Clear, t.Rounds)
		}
		tr = append(tr, []string{t.Scenario, t.Mode, t.What, cmp + " " + fmt.Sprintf("%.3g", t.Want), got, rounds, verdict})
	}
	table(w, md, []string{"scenario", "mode", "target", "want", "got", "rounds clearing 1.00", "verdict"}, tr)
}
