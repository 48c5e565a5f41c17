package main

import (
	"bytes"
	"errors"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/evloop/evloop/benchmarks/internal/results"
)

func TestParseLoadLine(t *testing.T) {
	// udpload's result line, as it prints it.
	line := `{"event":"result","conns":50,"size":64,"pipeline":8,"seconds":2.001163106,"msgs":432121,` +
		`"msgs_per_sec":215934.92239807465,"mb_per_sec":13.819835033476778,"p50_us":1179.647,"p99_us":8912.895,` +
		`"p999_us":19398.655,"max_us":24537.058,"loader_cpu_s":2.1293029999999997,"errors":0,"lost":17,"late":3}`
	ev, ok := parseLoadLine(line)
	if !ok || ev.Event != "result" || ev.Msgs != 432121 || ev.Seconds != 2.001163106 || ev.MsgsPerSec != 215934.92239807465 ||
		ev.P50us != 1179.647 || ev.P99us != 8912.895 || ev.P999us != 19398.655 || ev.LoaderCPU != 2.1293029999999997 ||
		ev.Lost != 17 || ev.Late != 3 || ev.Error != "" {
		t.Fatalf("parsed %+v (ok %v)", ev, ok)
	}
	failed := `{"event":"result","msgs":10,"errors":1,"lost":0,"late":0,"error":"1 of 50 connections failed, first: socket 3: the reply to datagram 9 came back with other bytes"}`
	if ev, ok := parseLoadLine(failed); !ok || !strings.Contains(ev.Error, "other bytes") {
		t.Fatalf("a failed run's line: %+v (ok %v)", ev, ok)
	}
	// echoload's lines have no losses.
	if ev, ok := parseLoadLine(`{"event":"result","msgs":5,"p99_us":7}`); !ok || ev.Lost != 0 || ev.Msgs != 5 {
		t.Fatalf("echoload's line: %+v (ok %v)", ev, ok)
	}
	for _, l := range []string{`{"event":"start"}`, `{"event":"end"}`} {
		if ev, ok := parseLoadLine(l); !ok || ev.Event == "" {
			t.Fatalf("%s: %+v (ok %v)", l, ev, ok)
		}
	}
	for _, l := range []string{"", "udpload: -size must be 12 to 65507", `{"msgs":3}`, `{"event":`} {
		if ev, ok := parseLoadLine(l); ok {
			t.Fatalf("%q parsed as %+v", l, ev)
		}
	}
}

func TestTooManyLost(t *testing.T) {
	for _, c := range []struct {
		msgs, lost float64
		fails      bool
	}{
		{100000, 0, false},
		{99000, 1000, false}, // exactly 1%
		{98999, 1001, true},
		{0, 10, true},
	} {
		err := tooManyLost(results.Run{Msgs: c.msgs, Lost: c.lost})
		if (err != nil) != c.fails {
			t.Errorf("%v answered, %v lost: %v", c.msgs, c.lost, err)
		}
		if err != nil && !strings.Contains(err.Error(), "more than 1%") {
			t.Errorf("the error does not say the limit: %v", err)
		}
	}
}

// udpServer answers datagrams on a loopback socket with what answer
// returns (nil: nothing) for the n-th datagram, until the test ends.
func udpServer(t *testing.T, answer func(n int, b []byte) []byte) string {
	t.Helper()
	s, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() {
		s.Close()
		<-done
	})
	go func() {
		defer close(done)
		buf := make([]byte, 64<<10)
		for n := 0; ; n++ {
			k, peer, err := s.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			if out := answer(n, buf[:k]); out != nil {
				_, _ = s.WriteToUDPAddrPort(out, peer)
			}
		}
	}()
	return s.LocalAddr().String()
}

func TestCheckUDP(t *testing.T) {
	const wait = 100 * time.Millisecond
	echo := func(_ int, b []byte) []byte { return b }
	if err := checkUDP(udpServer(t, echo), wait); err != nil {
		t.Fatalf("an echo server failed: %v", err)
	}
	// Every datagram once lost (its first copy), or answered twice: resent, passes.
	dropFirst := func(n int, b []byte) []byte {
		if n%2 == 0 {
			return nil
		}
		return b
	}
	if err := checkUDP(udpServer(t, dropFirst), wait); err != nil {
		t.Fatalf("a server losing every datagram's first copy failed: %v", err)
	}
	var twice atomic.Int32
	late := func(_ int, b []byte) []byte {
		if len(b) == 64 && twice.Add(1) == 1 {
			time.Sleep(wait * 3 / 2) // answered after the resend: twice
		}
		return b
	}
	if err := checkUDP(udpServer(t, late), wait); err != nil {
		t.Fatalf("a server answering a resent datagram twice failed: %v", err)
	}
	for _, c := range []struct {
		name, want string
		answer     func(int, []byte) []byte
	}{
		{"drops 1400 B", "1400-byte datagram: no reply within 100ms, twice", func(_ int, b []byte) []byte {
			if len(b) == 1400 {
				return nil
			}
			return b
		}},
		{"cuts 60000 B", "60000-byte datagram: came back different: 1400 bytes", func(_ int, b []byte) []byte { return b[:min(len(b), 1400)] }},
		{"changes a byte", "64-byte datagram: came back different", func(_ int, b []byte) []byte {
			if len(b) == 64 {
				b[63]++
			}
			return b
		}},
		{"adds a byte", "1-byte datagram: came back different: 2 bytes", func(_ int, b []byte) []byte { return append(bytes.Clone(b), 0) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := checkUDP(udpServer(t, c.answer), wait)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
		})
	}
}

func TestWaitDatagrams(t *testing.T) {
	addr, err := freeAddr("udp")
	if err != nil {
		t.Fatal(err)
	}
	running := &child{done: make(chan struct{})}
	// The server binds a little later.
	go func() {
		time.Sleep(150 * time.Millisecond)
		s, err := net.ListenPacket("udp", addr)
		if err != nil {
			return // the wait below fails and says so
		}
		t.Cleanup(func() { s.Close() })
		buf := make([]byte, 1500)
		for {
			n, peer, err := s.ReadFrom(buf)
			if err != nil {
				return
			}
			_, _ = s.WriteTo(buf[:n], peer)
		}
	}()
	if err := waitDatagrams(running, addr, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	// A server that exits is not waited for.
	gone := &child{done: make(chan struct{}), err: errors.New("exit status 1")}
	close(gone.done)
	other, err := freeAddr("udp")
	if err != nil {
		t.Fatal(err)
	}
	if err := waitDatagrams(gone, other, 5*time.Second); err == nil || !strings.Contains(err.Error(), "exit status 1") {
		t.Fatalf("err = %v, want the exit", err)
	}
	// Nobody there: it gives up after the timeout.
	start := time.Now()
	if err := waitDatagrams(running, other, 300*time.Millisecond); err == nil || time.Since(start) > 3*time.Second {
		t.Fatalf("err = %v after %v", err, time.Since(start))
	}
}

// TestContestantsEchoDatagrams builds the contestants that speak udp and
// puts each through the runner's UDP check, with two loops.
func TestContestantsEchoDatagrams(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the contestants")
	}
	bin := t.TempDir()
	var names []string
	for _, c := range contestants {
		if c.speaks("udp") {
			names = append(names, c.bin)
		}
	}
	if len(names) != 3 {
		t.Fatalf("contestants speaking udp: %v, want evloop, stdnet and gnet", names)
	}
	args := []string{"build", "-o", bin + "/"}
	for _, n := range names {
		args = append(args, "../../contestants/"+n)
	}
	if out, err := exec.Command("go", args...).CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			addr, err := freeAddr("udp")
			if err != nil {
				t.Fatal(err)
			}
			var stderr bytes.Buffer
			cmd := exec.Command(filepath.Join(bin, name), "-proto", "udp", "-addr", addr, "-loops", "2")
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			p := &child{cmd: cmd, done: make(chan struct{})}
			go func() {
				p.err = cmd.Wait()
				close(p.done)
			}()
			defer func() {
				_ = cmd.Process.Signal(syscall.SIGTERM)
				select {
				case <-p.done:
				case <-time.After(3 * time.Second):
					_ = cmd.Process.Kill()
					<-p.done
				}
			}()
			if err := waitDatagrams(p, addr, 10*time.Second); err != nil {
				t.Fatalf("%v\n%s", err, stderr.String())
			}
			if err := check("udp", addr); err != nil {
				t.Fatalf("%s: %v\n%s", name, err, stderr.String())
			}
		})
	}
}

func TestNoisyRoundsThatLostDatagramsAreMeasuredAgain(t *testing.T) {
	ok := results.Run{Kind: "udp", OK: true, Msgs: 1000, Seconds: 3, OtherCPU: 0.5}
	lossy := results.Run{Kind: "udp", Msgs: 900, Lost: 100, Seconds: 3, OtherCPU: 2, Error: "lost 100 of 1000 datagrams"}
	broken := results.Run{Kind: "udp", Seconds: 3, Error: "correctness check: no reply"}
	if !lostTooMany(lossy) || lostTooMany(ok) || lostTooMany(broken) {
		t.Fatal("lostTooMany does not tell a round that lost datagrams from the others")
	}
	echo := lossy
	echo.Kind = "echo"
	if lostTooMany(echo) {
		t.Fatal("an echo round lost datagrams")
	}
	quieter := lossy
	quieter.OtherCPU = 0.2
	for _, c := range []struct {
		name      string
		r, again  results.Run
		keepAgain bool
	}{
		{"a quieter passing attempt", lossy, ok, true},
		{"a noisier lossy attempt", ok, lossy, false},
		{"a quieter lossy attempt", ok, quieter, true},
		{"another failure", ok, broken, true},
	} {
		if got := keepAgain(c.r, c.again); got != c.keepAgain {
			t.Errorf("%s: kept %v, want %v", c.name, got, c.keepAgain)
		}
	}
}
