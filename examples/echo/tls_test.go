package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/evloop/evloop/examples/internal/cli"
)

// tlsConfig is a TCP echo server with a self-signed certificate.
func tlsConfig() config {
	return config{addr: "tcp://127.0.0.1:0", loops: 2, drainTimeout: time.Second, tls: cli.TLSFlags{SelfSigned: true}}
}

// TestTLSSelfSigned: with -tls-self-signed a crypto/tls client's bytes come
// back, 1 MiB included.
func TestTLSSelfSigned(t *testing.T) {
	s := startServer(t, tlsConfig())
	d := &net.Dialer{Timeout: 5 * time.Second}
	c, err := tls.DialWithDialer(d, "tcp", s.Addr.String(), &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, n := range []int{1, 100, 1 << 20} {
		if err := echoOnce(c, []byte(strings.Repeat("x", n))); err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
	}
	if st := c.ConnectionState(); st.Version != tls.VersionTLS13 {
		t.Errorf("version %x", st.Version)
	}
}

// TestOpenSSLClient: openssl s_client's line comes back to it.
func TestOpenSSLClient(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		msg := "openssl is not installed (on Debian/Ubuntu: apt-get install -y openssl)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	s := startServer(t, tlsConfig())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, openssl, "s_client", "-connect", s.Addr.String(), "-servername", "localhost", "-quiet")
	cmd.WaitDelay = 5 * time.Second
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	const line = "hello over TLS\n"
	if _, err := stdin.Write([]byte(line)); err != nil {
		t.Fatal(err)
	}
	got, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || got != line {
		t.Fatalf("openssl s_client read %q, %v; want %q\nstderr:\n%s", got, err, line, stderr.String())
	}
}
