package main

import (
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evloop/evloop/benchmarks/internal/fakesrv"
)

// TestRESPContestantsPassTheCheck builds the Go contestants that speak
// resp as run.sh does (evloop's example server, redcon), finds
// redis-server in PATH, starts each with the command line the runner gives
// it, with two loops, and puts it through the runner's RESP check.
// Without redis-server that one is skipped, except in CI (CI=true), where
// it is installed and its absence fails.
func TestRESPContestantsPassTheCheck(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the contestants")
	}
	bin := t.TempDir()
	for _, args := range [][]string{
		{"build", "-o", filepath.Join(bin, "evloopredis"), "github.com/evloop/evloop/examples/redis"},
		{"build", "-o", bin + "/", "../../contestants/redcon"},
	} {
		if out, err := exec.Command("go", args...).CombinedOutput(); err != nil {
			t.Fatalf("go %v: %v\n%s", args, err, out)
		}
	}
	var names []string
	for _, c := range contestants {
		if !c.speaks("resp") {
			continue
		}
		names = append(names, c.name)
		t.Run(c.name, func(t *testing.T) {
			path, err := c.path(bin)
			if err != nil && c.install != "" {
				msg := c.bin + " is not installed (" + c.install + ")"
				if os.Getenv("CI") == "true" {
					t.Fatal(msg)
				}
				t.Skip(msg)
			}
			if err != nil {
				t.Fatal(err)
			}
			addr, log := startContestant(t, c, path, "resp", false)
			if err := check("resp", addr); err != nil {
				t.Fatalf("%s: %v\n%s", c.name, err, log())
			}
		})
	}
	if strings.Join(names, ",") != "evloop-redis,redcon,redis-server" {
		t.Errorf("contestants speaking resp: %v, want evloop-redis, redcon and redis-server", names)
	}
}

// TestCheckRESPFails: a server that forgets what it was told is caught.
func TestCheckRESPFails(t *testing.T) {
	addr := fakesrv.Listen(t, func(c net.Conn) {
		buf := make([]byte, 1<<10)
		if _, err := c.Read(buf); err != nil { // the first commands
			return
		}
		_, _ = io.WriteString(c, "+OK\r\n$-1\r\n") // a GET that forgot the SET
	})
	err := check("resp", addr)
	if err == nil || !strings.Contains(err.Error(), "differ at byte 6 ") {
		t.Fatalf("check of a server that forgets: %v", err)
	}
}
