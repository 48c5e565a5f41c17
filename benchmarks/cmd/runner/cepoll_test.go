package main

import (
	"bytes"
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/evloop/evloop/benchmarks/internal/plaintext"
)

// startCEpoll builds contestants/cepoll with the C compiler, as run.sh does,
// and starts it speaking proto; it skips the test where there is no
// compiler.
func startCEpoll(t testing.TB, proto string) string {
	t.Helper()
	cc, err := exec.LookPath("cc")
	if err != nil {
		t.Skip("no C compiler (cc): cepoll is not built here")
	}
	bin := filepath.Join(t.TempDir(), "cepoll")
	if out, err := exec.Command(cc, "-O2", "-Wall", "-Werror", "-o", bin, "../../contestants/cepoll/main.c").CombinedOutput(); err != nil {
		t.Fatalf("cc: %v\n%s", err, out)
	}
	addr, err := freeAddr(proto)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-proto", proto, "-addr", addr, "-loops", "2", "-stats", filepath.Join(t.TempDir(), "stats"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if stderr.Len() > 0 {
			t.Logf("cepoll stderr: %s", stderr.Bytes())
		}
	})
	for deadline := time.Now().Add(5 * time.Second); ; {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("cepoll not listening on %s: %v", addr, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestCEpollPassesTheCheck runs the runner's correctness check, the one
// every contestant passes before it is measured, against the C server.
func TestCEpollPassesTheCheck(t *testing.T) {
	for _, proto := range []string{"echo", "http"} {
		t.Run(proto, func(t *testing.T) {
			addr := startCEpoll(t, proto)
			if err := check(proto, addr); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestCEpollAnswersLikePlaintext checks that the C server sends, byte for
// byte, what package plaintext has the Go contestants send, Date aside.
func TestCEpollAnswersLikePlaintext(t *testing.T) {
	addr := startCEpoll(t, "http")
	const req = "GET / HTTP/1.1\r\nHost: bench\r\n\r\n"
	reqs := []byte(req + req + req)
	date := []byte("Mon, 02 Jan 2006 15:04:05 GMT")
	want, used, keepAlive := plaintext.Answer(nil, reqs, date)
	if used != len(reqs) || !keepAlive {
		t.Fatalf("plaintext.Answer used %d of %d bytes, keep-alive %v", used, len(reqs), keepAlive)
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write(reqs); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(want))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatalf("reading %d bytes: %v (got %q)", len(want), err, got)
	}
	dateField := regexp.MustCompile(`Date: [A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT\r\n`)
	if n := len(dateField.FindAll(got, -1)); n != 3 {
		t.Fatalf("%d well-formed Date fields in %q, want 3", n, got)
	}
	got = dateField.ReplaceAll(got, []byte("Date: "+string(date)+"\r\n"))
	if !bytes.Equal(got, want) {
		t.Fatalf("cepoll answered\n%q\nwant\n%q", got, want)
	}
}
