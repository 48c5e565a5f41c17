package main

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// benchResult is one line of redis-benchmark -q: a test and its rate.
type benchResult struct {
	name      string
	perSecond float64
}

var benchLine = regexp.MustCompile(`^\s*(.+?): ([0-9.]+) requests per second`)

// parseBenchmark reads redis-benchmark -q's report. Its progress lines end
// in CR, its results in LF.
func parseBenchmark(out string) []benchResult {
	var rs []benchResult
	for _, line := range strings.FieldsFunc(out, func(r rune) bool { return r == '\r' || r == '\n' }) {
		if m := benchLine.FindStringSubmatch(line); m != nil {
			n, _ := strconv.ParseFloat(m[2], 64)
			rs = append(rs, benchResult{name: m[1], perSecond: n})
		}
	}
	return rs
}

func TestParseBenchmark(t *testing.T) {
	out := "SET: rps=0.0 (overall: -nan) avg_msec=-nan (overall: -nan)\r" +
		"SET: 87336.24 requests per second, p50=0.263 msec\n" +
		"MSET (10 keys): rps=381184.0 (overall: 1323555.6) avg_msec=0.327\r" +
		"MSET (10 keys): 47938.64 requests per second, p50=0.423 msec\n\n"
	got := parseBenchmark(out)
	want := []benchResult{{"SET", 87336.24}, {"MSET (10 keys)", 47938.64}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("parseBenchmark = %v, want %v", got, want)
	}
}

// TestRedisBenchmark loads the server with redis-benchmark, 50 clients,
// without and with pipelining, as a smoke test: every test must report a
// rate, and the server must have answered no command with an error.
// redis-benchmark's -t has SET, GET, INCR and MSET but no MGET: MGET of
// ten keys runs as a command of its own. Fewer requests with -short or
// under the race detector.
func TestRedisBenchmark(t *testing.T) {
	bench := needTool(t, "redis-benchmark", redisPackages)
	n := 200000
	if testing.Short() || raceEnabled {
		n = 20000
	}
	mget := []string{"MGET"}
	for range 10 {
		mget = append(mget, "key:__rand_int__")
	}
	for _, pipeline := range []int{1, 16} {
		t.Run(fmt.Sprintf("-P %d", pipeline), func(t *testing.T) {
			s := startServer(t)
			common := []string{"-p", s.port(), "-c", "50", "-n", strconv.Itoa(n), "-P", strconv.Itoa(pipeline), "-q"}
			out1, err1 := runTool(t, "", bench, append(common, "-t", "set,get,incr,mset")...)
			out2, err2 := runTool(t, "", bench, append(common, mget...)...)
			results := parseBenchmark(out1 + out2)
			var names []string
			for i, r := range results {
				if strings.HasPrefix(r.name, "MGET ") {
					results[i].name = "MGET (10 keys)"
					r = results[i]
				}
				names = append(names, r.name)
				t.Logf("-P %d, %d requests, 50 clients, 2 loops: %s %.0f requests/s", pipeline, n, r.name, r.perSecond)
				if r.perSecond <= 0 {
					t.Errorf("%s: no rate", r.name)
				}
			}
			if len(results) != 5 || results[4].name != "MGET (10 keys)" {
				t.Errorf("tests reported: %q, want SET, GET, INCR, MSET (10 keys) and MGET", names)
			}
			if all := out1 + err1 + out2 + err2; strings.Contains(all, "Error") || strings.Contains(all, "WARN") {
				t.Errorf("redis-benchmark reports a problem:\n%s", all)
			}
			c := s.dial(t)
			info := c.do(t, "INFO", "stats")
			if !strings.Contains(info, "total_error_replies:0\r\n") {
				t.Errorf("the server answered errors:\n%s", info)
			}
			// SET, GET and INCR count one command each; MSET and MGET one.
			if got := commandsProcessed(t, c); got < 5*n {
				t.Errorf("%d commands processed, want at least %d", got, 5*n)
			}
			c.send(t, multibulk("GET", "key:__rand_int__"))
			if v, raw, err := readReply(c.r); err != nil || v.kind != '$' || len(v.str) != 3 {
				t.Errorf("the benchmark's key holds %q (%v), want its 3-byte value", raw, err)
			}
		})
	}
}
