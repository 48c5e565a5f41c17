package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/evloop/evloop/benchmarks/internal/plaintext"
	"github.com/evloop/evloop/benchmarks/internal/tlscert"
)

// check verifies that the server at addr answers proto correctly before it
// is measured.
func check(proto, addr string) error { return checkOver(proto, addr, false) }

// checkOver is check, over TLS when useTLS (echo and http): the same
// exchanges after a handshake with the load generators' client
// configuration, which must negotiate TLS 1.3.
func checkOver(proto, addr string, useTLS bool) error {
	if proto == "udp" {
		return checkUDP(addr, udpCheckWait)
	}
	raw, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer raw.Close()
	c := raw
	if err := c.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		return err
	}
	if useTLS {
		tc := tls.Client(raw, tlscert.Client())
		if err := tc.Handshake(); err != nil {
			return fmt.Errorf("TLS handshake: %w", err)
		}
		if v := tc.ConnectionState().Version; v != tls.VersionTLS13 {
			return fmt.Errorf("TLS: negotiated %s, want TLS 1.3", tls.VersionName(v))
		}
		c = tc
	}
	switch proto {
	case "echo":
		return checkEcho(c)
	case "resp":
		return checkRESP(c)
	}
	return checkHTTP(c)
}

// checkRESP sends, pipelined in one write, a SET and a GET of a short
// value, a GET of a key never set, and a SET and a GET of a value larger
// than a socket buffer holds, and expects their replies byte for byte.
func checkRESP(c net.Conn) error {
	bulk := func(s string) string { return "$" + strconv.Itoa(len(s)) + "\r\n" + s + "\r\n" }
	command := func(args ...string) string {
		cmd := "*" + strconv.Itoa(len(args)) + "\r\n"
		for _, a := range args {
			cmd += bulk(a)
		}
		return cmd
	}
	small, big := "hello, world", strings.Repeat("0123456789abcdef", 1<<20/16)
	cmds := command("SET", "check:small", small) + command("GET", "check:small") + command("GET", "check:missing") +
		command("SET", "check:big", big) + command("GET", "check:big")
	want := "+OK\r\n" + bulk(small) + "$-1\r\n" + "+OK\r\n" + bulk(big)
	errc := make(chan error, 1)
	go func() { // a server may answer while this sends: read concurrently
		_, err := io.WriteString(c, cmds)
		errc <- err
	}()
	got := make([]byte, len(want))
	n, rerr := io.ReadFull(c, got)
	werr := <-errc
	// A wrong reply is reported before a failed write: a server that
	// answers wrongly and hangs up resets the rest of the commands.
	if i := firstDifference(got[:n], want); i >= 0 {
		why := ""
		if rerr != nil {
			why = fmt.Sprintf(" (read: %v)", rerr)
		}
		if werr != nil {
			why += fmt.Sprintf(" (write: %v)", werr)
		}
		return fmt.Errorf("resp: SET, GET, GET of a missing key, SET and GET of 1 MiB: the replies differ at byte %d of %d%s: got %q, want %q",
			i, len(want), why, clipped(got[max(i-20, 0):n]), clipped(want[max(i-20, 0):]))
	}
	if werr != nil {
		return fmt.Errorf("resp: write: %w", werr)
	}
	return nil
}

// firstDifference returns the index of the first byte where got and want
// differ (len(got) when got is a prefix of a longer want), or -1 when they
// are equal.
func firstDifference(got []byte, want string) int {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return i
		}
	}
	if len(got) == len(want) {
		return -1
	}
	return min(len(got), len(want))
}

// clipped shortens s for an error message.
func clipped[T string | []byte](s T) string {
	if len(s) > 80 {
		return string(s[:80]) + "..."
	}
	return string(s)
}

// checkEcho sends messages from one byte to more than a socket buffer
// holds, and compares what comes back.
func checkEcho(c net.Conn) error {
	for _, size := range []int{1, 64, 4 << 10, 1 << 20} {
		msg := make([]byte, size)
		for i := range msg {
			msg[i] = byte(i*7 + size)
		}
		errc := make(chan error, 1)
		go func() { // the server echoes while this sends: read concurrently
			_, err := c.Write(msg)
			errc <- err
		}()
		got := make([]byte, size)
		_, rerr := io.ReadFull(c, got)
		if err := <-errc; err != nil {
			return fmt.Errorf("echo of %d bytes: write: %w", size, err)
		}
		if rerr != nil {
			return fmt.Errorf("echo of %d bytes: read: %w", size, rerr)
		}
		if !bytes.Equal(got, msg) {
			return fmt.Errorf("echo of %d bytes came back different", size)
		}
	}
	return nil
}

// udpCheckSizes are the datagram sizes the UDP check sends: from one byte
// to more than an Ethernet frame and near the largest datagram.
var udpCheckSizes = []int{1, 64, 1400, 60000}

// udpCheckCount is how many datagrams of each size the UDP check sends, each
// with bytes of its own.
const udpCheckCount = 3

// udpCheckWait is how long the UDP check waits for a reply before it sends
// the datagram once more.
const udpCheckWait = time.Second

// checkUDP sends datagrams of every udpCheckSizes size to the UDP echo
// server at addr, one at a time, and expects each back whole, as one
// datagram. A datagram not answered within wait is sent once more (UDP may
// lose one); a second loss fails. A copy of a reply already received (after
// a resend) is skipped.
func checkUDP(addr string, wait time.Duration) error {
	c, err := net.Dial("udp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	buf := make([]byte, 64<<10+1) // a byte more than any datagram: a longer reply shows
	var seen [][]byte
	for _, size := range udpCheckSizes {
		for i := range udpCheckCount {
			msg := make([]byte, size)
			for j := range msg {
				msg[j] = byte(j*7 + size + i*31)
			}
			if err := echoDatagram(c, msg, buf, seen, wait); err != nil {
				return fmt.Errorf("echo of a %d-byte datagram: %w", size, err)
			}
			seen = append(seen, msg)
		}
	}
	return nil
}

// echoDatagram sends msg on c and waits for it to come back, sending it a
// second time if it does not within wait; replies equal to one of seen,
// the datagrams already answered, are skipped.
func echoDatagram(c net.Conn, msg, buf []byte, seen [][]byte, wait time.Duration) error {
	for try := 1; ; try++ {
		if _, err := c.Write(msg); err != nil {
			return fmt.Errorf("write: %w", err)
		}
		if err := c.SetReadDeadline(time.Now().Add(wait)); err != nil {
			return err
		}
		for {
			n, err := c.Read(buf)
			if errors.Is(err, os.ErrDeadlineExceeded) {
				break
			}
			if err != nil {
				return fmt.Errorf("read: %w", err)
			}
			got := buf[:n]
			if bytes.Equal(got, msg) {
				return nil
			}
			if slices.ContainsFunc(seen, func(s []byte) bool { return bytes.Equal(got, s) }) {
				continue // an earlier datagram's reply, sent twice
			}
			return fmt.Errorf("came back different: %d bytes, want %d", n, len(msg))
		}
		if try == 2 {
			return fmt.Errorf("no reply within %v, twice", wait)
		}
	}
}

// checkHTTP sends three pipelined requests in one write and a fourth split
// over two writes, and expects four "200 OK" responses with the body.
func checkHTTP(c net.Conn) error {
	const req = "GET / HTTP/1.1\r\nHost: bench\r\n\r\n"
	if _, err := io.WriteString(c, req+req+req+req[:10]); err != nil {
		return err
	}
	r := bufio.NewReader(c)
	for i := 0; i < 4; i++ {
		if i == 3 {
			time.Sleep(20 * time.Millisecond) // the server has seen the partial request
			if _, err := io.WriteString(c, req[10:]); err != nil {
				return err
			}
		}
		resp, err := http.ReadResponse(r, nil)
		if err != nil {
			return fmt.Errorf("response %d: %w", i+1, err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("response %d body: %w", i+1, err)
		}
		if resp.StatusCode != http.StatusOK || !bytes.Equal(body, plaintext.Body) {
			return fmt.Errorf("response %d: %s with body %q, want 200 OK with %q", i+1, resp.Status, body, plaintext.Body)
		}
	}
	return nil
}
