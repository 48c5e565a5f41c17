package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// toolTimeout bounds every external program run.
const toolTimeout = 120 * time.Second

// redisPackages is how to install the Redis programs the tests drive.
const redisPackages = "on Debian/Ubuntu: apt-get install -y redis-server redis-tools"

// needTool returns the path of an external program, skipping the test when
// it is not installed, except in CI (CI=true), where a missing tool fails.
// install says how to install it.
func needTool(tb testing.TB, name, install string) string {
	tb.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	msg := name + " is not installed (" + install + ")"
	if os.Getenv("CI") == "true" {
		tb.Fatal(msg)
	}
	tb.Skip(msg)
	return ""
}

// runTool runs a program with a timeout, stdin as its input, and returns
// its stdout and stderr, failing the test if it does not exit 0.
func runTool(tb testing.TB, stdin string, path string, args ...string) (stdout, stderr string) {
	tb.Helper()
	return runToolEnv(tb, nil, stdin, path, args...)
}

// runToolEnv is runTool with env added to the program's environment.
func runToolEnv(tb testing.TB, env []string, stdin string, path string, args ...string) (stdout, stderr string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), toolTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.WaitDelay = 5 * time.Second
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		tb.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", filepath.Base(path), strings.Join(args, " "), err, out.String(), errOut.String())
	}
	return out.String(), errOut.String()
}

// realRedis is a redis-server started for one test, listening on a Unix
// socket in the test's temporary directory (it cannot pick a free TCP port
// by itself), saving nothing.
type realRedis struct {
	socket string
}

// startRealRedis starts redis-server and stops it when the test ends.
func startRealRedis(tb testing.TB) *realRedis {
	tb.Helper()
	path := needTool(tb, "redis-server", redisPackages)
	dir := tb.TempDir()
	socket := filepath.Join(dir, "redis.sock")
	cmd := exec.Command(path, "--port", "0", "--unixsocket", socket, "--save", "", "--appendonly", "no",
		"--dir", dir, "--logfile", filepath.Join(dir, "redis.log"))
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start redis-server: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	tb.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("unix", socket)
		if err == nil {
			c.Close()
			return &realRedis{socket: socket}
		}
		select {
		case err := <-exited:
			log, _ := os.ReadFile(filepath.Join(dir, "redis.log"))
			tb.Fatalf("redis-server exited: %v\n%s", err, log)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			tb.Fatal("redis-server not accepting connections within 10s")
		}
	}
}

// dial connects to the real redis-server.
func (r *realRedis) dial(tb testing.TB) *testConn {
	tb.Helper()
	c, err := net.DialTimeout("unix", r.socket, 5*time.Second)
	if err != nil {
		tb.Fatalf("dial redis-server: %v", err)
	}
	tb.Cleanup(func() { c.Close() })
	return newClient(tb, c)
}
