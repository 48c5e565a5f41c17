package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// startContestant starts contestant c from its binary at path, with the
// command line the runner gives it for proto (over TLS when tls is set)
// and two loops, waits until it listens, and stops it when the test ends.
// It returns the address and a function that reads its log so far.
func startContestant(t *testing.T, c contestant, path, proto string, tls bool) (addr string, log func() string) {
	t.Helper()
	addr, err := freeAddr(proto)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	argv, err := c.command(path, proto, tls, addr, 2, filepath.Join(dir, "stats"))
	if err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "log")
	ps := &procs{live: map[int]*child{}}
	p, err := ps.start(c.name, argv, logPath, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.stop(3 * time.Second) })
	log = func() string { b, _ := os.ReadFile(logPath); return string(b) }
	if err := waitListening(p, addr, 10*time.Second); err != nil {
		t.Fatalf("%v\n%s", err, log())
	}
	return addr, log
}
