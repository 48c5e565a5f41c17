package evloop

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// crypto/tls cannot start a KeyUpdate or a renegotiation as a client;
// openssl s_client can, with its interactive commands: a line "K" sends a
// KeyUpdate that asks for ours back, "k" one that does not, "R"
// renegotiates (TLS 1.2). The tests skip where openssl is not installed,
// except in CI (CI=true), which installs it.

// sClient is an openssl s_client talking to addr.
type sClient struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string // its output, line by line; closed when it exits
}

func startSClient(t *testing.T, addr string, args ...string) *sClient {
	t.Helper()
	path, err := exec.LookPath("openssl")
	if err != nil {
		msg := "openssl not installed (apt-get install -y openssl)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg) // CI installs it: its absence is a failure there
		}
		t.Skip(msg)
	}
	cmd := exec.Command(path, append([]string{"s_client", "-connect", addr, "-servername", "localhost"}, args...)...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := &sClient{cmd: cmd, stdin: stdin, lines: make(chan string, 256)}
	go func() {
		defer close(sc.lines)
		s := bufio.NewScanner(stdout)
		for s.Scan() {
			sc.lines <- s.Text()
		}
	}()
	t.Cleanup(func() {
		_ = stdin.Close()
		_ = cmd.Process.Kill()
		for range sc.lines {
		}
		_ = cmd.Wait()
	})
	return sc
}

func (sc *sClient) send(t *testing.T, line string) {
	t.Helper()
	if _, err := io.WriteString(sc.stdin, line+"\n"); err != nil {
		t.Fatal(err)
	}
}

// expect waits for a line containing want, and returns the lines before.
func (sc *sClient) expect(t *testing.T, want string) []string {
	t.Helper()
	var seen []string
	timeout := time.After(10 * time.Second)
	for {
		select {
		case l, ok := <-sc.lines:
			if !ok {
				t.Fatalf("s_client exited before %q; it wrote:\n%s", want, strings.Join(seen, "\n"))
			}
			if strings.Contains(l, want) {
				return seen
			}
			seen = append(seen, l)
		case <-timeout:
			t.Fatalf("no %q from s_client within 10s; it wrote:\n%s", want, strings.Join(seen, "\n"))
		}
	}
}

// KeyUpdate in both directions: the loop's Read answers a KeyUpdate that
// asks for one (a write from inside Read), and records keep flowing under
// the new keys.
func TestTLSKeyUpdateWithOpenSSL(t *testing.T) {
	s := startEngine(t, echoHandler{}, "tcp://127.0.0.1:0", WithLoops(1), WithTLS(tlsServerConfig(t)))
	sc := startSClient(t, s.addr.String(), "-tls1_3", "-msg")
	sc.send(t, "before-update")
	sc.expect(t, "before-update")
	sc.send(t, "K")
	sc.expect(t, "KEYUPDATE")
	sc.expect(t, "<<< TLS 1.3, Handshake [length 0005], KeyUpdate") // ours, in reply
	sc.send(t, "after-update-requested")
	sc.expect(t, "after-update-requested")
	sc.send(t, "k")
	sc.expect(t, "KEYUPDATE") // s_client takes one read of stdin as one command
	sc.send(t, "after-update")
	sc.expect(t, "after-update")
	if n := s.eng.CountConnections(); n != 1 {
		t.Errorf("CountConnections = %d after the key updates, want 1", n)
	}
}

// A TLS 1.2 client's renegotiation is refused: the connection is closed
// with crypto/tls's error, and the engine serves on.
func TestTLSRenegotiationRefusedWithOpenSSL(t *testing.T) {
	ev := newTLSEvents()
	s := startEngine(t, ev.handler(), "tcp://127.0.0.1:0", WithLoops(1), WithTLS(tlsServerConfig(t)))
	sc := startSClient(t, s.addr.String(), "-tls1_2")
	sc.send(t, "before")
	sc.expect(t, "before")
	sc.send(t, "R")
	if err := tbRecv(t, ev.closed, 10*time.Second, "OnClose after the renegotiation"); err == nil {
		t.Error("OnClose after a renegotiation attempt: nil, want crypto/tls's error")
	}
	c := tlsDial(t, s, tlsClientConfig(0))
	if err := tbEcho(c, []byte("still serving"), 5*time.Second); err != nil {
		t.Fatal(err)
	}
}
