package main

import (
	"fmt"
	"strings"
	"testing"
)

func scenarioNamed(t *testing.T, name string) scenario {
	t.Helper()
	for _, s := range scenarios {
		if s.name == name {
			return s
		}
	}
	t.Fatalf("no scenario %s", name)
	return scenario{}
}

func TestIdleScenariosAreNamedAfterTheirConnections(t *testing.T) {
	for _, s := range scenarios {
		want := fmt.Sprintf("idle-c%d", s.conns)
		if s.tls {
			want = fmt.Sprintf("idle-tls-c%d", s.conns)
		}
		if s.exchange {
			want += "-x1"
		}
		if s.kind == "idle" && s.name != want {
			t.Errorf("scenario %s holds %d connections", s.name, s.conns)
		}
	}
}

func TestDescriptorLimit(t *testing.T) {
	// This machine's hard limit, which cannot be raised, is 20,000.
	const limit = 20000
	if why := tooFewFiles(scenarioNamed(t, "idle-c19000"), limit); why != "" {
		t.Errorf("idle-c19000 under a hard limit of %d: %s", limit, why)
	}
	big := scenarioNamed(t, "idle-c100000")
	why := tooFewFiles(big, limit)
	for _, want := range []string{"hard limit of at least 100200", "the hard limit here is 20000"} {
		if !strings.Contains(why, want) {
			t.Errorf("idle-c100000 under %d: %q lacks %q", limit, why, want)
		}
	}
	if why := tooFewFiles(big, 100200); why != "" {
		t.Errorf("idle-c100000 under a hard limit of 100200: %s", why)
	}

	// The full set leaves idle-c100000 out, with one reason, where it
	// cannot run, and keeps the rest.
	chosen, left := chooseScenarios("", false, limit)
	names := func(ss []scenario) (n []string) {
		for _, s := range ss {
			n = append(n, s.name)
		}
		return n
	}
	got := strings.Join(names(chosen), ",")
	if strings.Contains(got, "idle-c100000") || !strings.Contains(got, "idle-c10000,idle-c10000-x1,idle-c19000") || !strings.Contains(got, "echo-1KiB-c10000") {
		t.Errorf("full set under %d: %s", limit, got)
	}
	if len(left) != 1 || left[0].Scenario != "idle-c100000" || left[0].Mode != "" ||
		strings.Contains(left[0].String(), "\n") || !strings.Contains(left[0].String(), "-scenario idle-c100000") {
		t.Errorf("left out under %d: %v", limit, left)
	}
	// Where the limit allows, it is in the full set.
	chosen, left = chooseScenarios("", false, 1<<20)
	if got := strings.Join(names(chosen), ","); !strings.HasSuffix(got, "idle-c19000,idle-c100000") || len(left) != 0 {
		t.Errorf("full set under 2^20: %s, left out %v", got, left)
	}
	// Asked for by name it is chosen; the runner then skips it, per mode,
	// where it cannot run.
	chosen, left = chooseScenarios("idle-c100000", false, limit)
	if len(chosen) != 1 || chosen[0].name != "idle-c100000" || len(left) != 0 {
		t.Errorf("-scenario idle-c100000: %v, left out %v", names(chosen), left)
	}
	// The quick set is not affected.
	chosen, left = chooseScenarios("", true, limit)
	if got, want := strings.Join(names(chosen), ","), "echo-64B-c50,http-c100,http-c100-p16,udp-64B-c50-p8,resp-c50,tls-echo-1KiB-c50,idle-c1000"; got != want || len(left) != 0 {
		t.Errorf("quick set: %s, left out %v; want %s", got, left, want)
	}
}
