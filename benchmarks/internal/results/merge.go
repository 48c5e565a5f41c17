package results

import (
	"fmt"
	"slices"
	"strings"
)

// Merge loads the results file at path for an update by the run described
// by next (its configuration, no runs yet): the file's runs and skips of
// every scenario and mode next will run are dropped, the rest kept, and the
// update is recorded in Config.Updates. The returned file is what next's
// runs are appended to. Both must use the same rounds, warm-up and window,
// so that every median in the file means the same thing.
func Merge(path string, next *File) (*File, error) {
	f, err := Load(path)
	if err != nil {
		return nil, err
	}
	c, n := f.Config, next.Config
	if c.Rounds != n.Rounds || c.Warmup != n.Warmup || c.Duration != n.Duration || c.Quick != n.Quick {
		return nil, fmt.Errorf("%s has %d rounds, warm-up %s, window %s (quick %v); this run %d, %s, %s (quick %v)",
			path, c.Rounds, c.Warmup, c.Duration, c.Quick, n.Rounds, n.Warmup, n.Duration, n.Quick)
	}
	replaced := func(scenario, mode string) bool {
		return slices.Contains(n.Scenarios, scenario) && slices.Contains(n.Modes, mode)
	}
	f.Runs = slices.DeleteFunc(f.Runs, func(r Run) bool { return replaced(r.Scenario, r.Mode) })
	f.Skipped = slices.DeleteFunc(f.Skipped, func(s Skip) bool {
		switch {
		case s.Contestant != "": // a contestant skipped before and run now
			return slices.Contains(n.Contestants, s.Contestant)
		case s.Mode == "": // a scenario left out of the full set, run now
			return slices.Contains(n.Scenarios, s.Scenario)
		}
		return replaced(s.Scenario, s.Mode)
	})
	for _, list := range []struct {
		dst *[]string
		src []string
	}{
		{&f.Config.Modes, n.Modes}, {&f.Config.Scenarios, n.Scenarios}, {&f.Config.Contestants, n.Contestants},
	} {
		for _, v := range list.src {
			if !slices.Contains(*list.dst, v) {
				*list.dst = append(*list.dst, v)
			}
		}
	}
	f.Config.Updates = append(f.Config.Updates, fmt.Sprintf("%s: re-ran %s in mode %s",
		next.Machine.Started, strings.Join(n.Scenarios, ", "), strings.Join(n.Modes, ", ")))
	return f, nil
}
