package main

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/evloop/evloop/benchmarks/internal/fakesrv"
)

// TestTLSContestantsPassTheCheck builds the contestants that serve TLS as
// run.sh does, starts each with the command line the runner gives it in a
// TLS scenario (-tls), with two loops, for every protocol it serves over
// TLS, and puts it through the runner's check over TLS.
func TestTLSContestantsPassTheCheck(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the contestants")
	}
	var names, pkgs []string
	for _, c := range contestants {
		if len(c.tlsProtos) > 0 {
			names = append(names, c.name)
			pkgs = append(pkgs, "../../contestants/"+c.bin)
		}
	}
	if got := strings.Join(names, ","); got != "evloop,stdnet,nbio,nbhttp" {
		t.Errorf("contestants serving TLS: %s, want evloop, stdnet, nbio and nbhttp", got)
	}
	bin := t.TempDir()
	args := append([]string{"build", "-o", bin + "/"}, pkgs...)
	if out, err := exec.Command("go", args...).CombinedOutput(); err != nil {
		t.Fatalf("go %v: %v\n%s", args, err, out)
	}
	for _, c := range contestants {
		for _, proto := range c.tlsProtos {
			t.Run(c.name+"/"+proto, func(t *testing.T) {
				path, err := c.path(bin)
				if err != nil {
					t.Fatal(err)
				}
				addr, log := startContestant(t, c, path, proto, true)
				if err := checkOver(proto, addr, true); err != nil {
					t.Fatalf("%s over TLS: %v\n%s", proto, err, log())
				}
				// It serves TLS only: the plain check fails.
				if err := check(proto, addr); err == nil {
					t.Fatalf("%s -tls passed the plain-text %s check", c.name, proto)
				}
			})
		}
	}
}

// TestCheckOverTLSFailsOnPlainServer: the TLS check does not pass a server
// that speaks plain text, even one that echoes the ClientHello back.
func TestCheckOverTLSFailsOnPlainServer(t *testing.T) {
	err := checkOver("echo", fakesrv.Listen(t, fakesrv.Echo(nil)), true)
	if err == nil || !strings.Contains(err.Error(), "TLS handshake") {
		t.Fatalf("TLS check of a plain echo server: %v", err)
	}
}

// TestTLSScenarios: the TLS scenarios run only the contestants that serve
// TLS, with -tls, and the load speaks TLS.
func TestTLSScenarios(t *testing.T) {
	for name, want := range map[string]string{
		"tls-echo-1KiB-c50": "evloop,stdnet,nbio",
		"https-c100":        "evloop,stdnet,nbhttp",
		"idle-tls-c5000":    "evloop,stdnet,nbhttp",
	} {
		s := scenarioNamed(t, name)
		var got []string
		for _, c := range contestants {
			if c.runs(s) {
				got = append(got, c.name)
			}
		}
		if strings.Join(got, ",") != want || !s.tls {
			t.Errorf("%s: contestants %v (tls %v), want %s", name, got, s.tls, want)
		}
	}
	if u := wrkURL(scenarioNamed(t, "https-c100"), "127.0.0.1:1"); u != "https://127.0.0.1:1/" {
		t.Errorf("https-c100's URL: %s", u)
	}
	if u := wrkURL(scenarioNamed(t, "http-c100"), "127.0.0.1:1"); u != "http://127.0.0.1:1/" {
		t.Errorf("http-c100's URL: %s", u)
	}
	argv, err := contestants[0].command("/bin/evloop", "echo", true, "127.0.0.1:1", 2, "/tmp/s")
	if err != nil || argv[len(argv)-1] != "-tls" {
		t.Errorf("command with TLS: %v, %v", argv, err)
	}
}
