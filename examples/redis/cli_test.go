package main

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestRedisCLI runs redis-cli against the server, one command per run, then
// commands read from its standard input.
func TestRedisCLI(t *testing.T) {
	cli := needTool(t, "redis-cli", redisPackages)
	s := startServer(t)
	tests := []struct {
		args []string
		want string
	}{
		{args: []string{"ping"}, want: "PONG\n"},
		{args: []string{"set", "greeting", "hello world"}, want: "OK\n"},
		{args: []string{"get", "greeting"}, want: "hello world\n"},
		{args: []string{"incrby", "n", "41"}, want: "41\n"},
		{args: []string{"mget", "greeting", "nope"}, want: "hello world\n\n"},
		{args: []string{"--no-raw", "mget", "greeting", "nope"}, want: "1) \"hello world\"\n2) (nil)\n"},
		{args: []string{"set", "k", "v", "EX", "0"}, want: "ERR invalid expire time in 'set' command\n\n"},
		{args: []string{"dbsize"}, want: "2\n"},
	}
	for _, tt := range tests {
		args := append([]string{"-p", s.port()}, tt.args...)
		if out, _ := runTool(t, "", cli, args...); out != tt.want {
			t.Errorf("redis-cli %s: %q, want %q", strings.Join(tt.args, " "), out, tt.want)
		}
	}
	out, _ := runTool(t, "set a 1\nincr a\nget a\n", cli, "-p", s.port())
	if out != "OK\n2\n2\n" {
		t.Errorf("redis-cli with commands on stdin: %q", out)
	}
	docs, _ := runTool(t, "", cli, "-p", s.port(), "command", "docs", "get", "set")
	if !strings.Contains(docs, "Get the value of a key") || !strings.Contains(docs, "Set the string value of a key") {
		t.Errorf("redis-cli COMMAND DOCS get set:\n%s", docs)
	}
}

// TestRedisCLIPipe feeds redis-cli --pipe a stream of commands in the
// protocol, as mass insertion does.
func TestRedisCLIPipe(t *testing.T) {
	cli := needTool(t, "redis-cli", redisPackages)
	s := startServer(t)
	const n = 10000
	var in strings.Builder
	for i := range n {
		in.WriteString(multibulk("SET", fmt.Sprint("mass:", i), fmt.Sprint(i)))
	}
	out, _ := runTool(t, in.String(), cli, "-p", s.port(), "--pipe")
	if !strings.Contains(out, fmt.Sprintf("errors: 0, replies: %d", n)) {
		t.Fatalf("redis-cli --pipe:\n%s", out)
	}
	if got := s.dial(t).do(t, "DBSIZE"); got != integer(n) {
		t.Fatalf("DBSIZE %q after the mass insertion, want %d", got, n)
	}
}

// TestRedisCLIInteractive runs redis-cli as a person does, on a terminal
// (script(1) gives it one): redis-cli 7 then starts by asking COMMAND
// DOCS, and must get a reply it can use.
func TestRedisCLIInteractive(t *testing.T) {
	cli := needTool(t, "redis-cli", redisPackages)
	script := needTool(t, "script", "on Debian/Ubuntu: apt-get install -y bsdutils")
	s := startServer(t)
	c := s.dial(t)
	before := commandsProcessed(t, c)
	// A dumb terminal: redis-cli does not ask it where its cursor is.
	out, _ := runToolEnv(t, []string{"TERM=dumb"}, "ping\nset k v\nget k\n", script, "-qec", cli+" -p "+s.port(), "/dev/null")
	for _, want := range []string{"PONG", "OK", `"v"`} {
		if !strings.Contains(out, want) {
			t.Fatalf("no %s in the session:\n%s", want, out)
		}
	}
	if strings.Contains(out, "ERR") {
		t.Fatalf("an error in the session:\n%s", out)
	}
	// COMMAND DOCS, three commands, and the INFO that counts them.
	if after := commandsProcessed(t, c); after-before != 5 {
		t.Fatalf("%d commands processed during the session, want 5: COMMAND DOCS was not asked", after-before-1)
	}
}

var infoCommands = regexp.MustCompile(`total_commands_processed:(\d+)`)

// commandsProcessed reads INFO's count of commands, INFO itself included.
func commandsProcessed(tb testing.TB, c *testConn) int {
	tb.Helper()
	m := infoCommands.FindStringSubmatch(c.do(tb, "INFO", "stats"))
	if m == nil {
		tb.Fatal("no total_commands_processed in INFO stats")
	}
	n, _ := strconv.Atoi(m[1])
	return n
}
