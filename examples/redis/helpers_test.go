package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime/debug"
	"strconv"
	"testing"
	"time"

	"github.com/evloop/evloop/examples/internal/exampletest"
	"github.com/evloop/evloop/examples/redis/resp"
)

// raceEnabled reports whether the tests run under the race detector, which
// makes them several times slower: load tests scale their sizes down. The
// build records the flag, so no build-tagged file is needed.
var raceEnabled = func() bool {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "-race" {
				return s.Value == "true"
			}
		}
	}
	return false
}()

// testServer is serve running on its own goroutine for one test.
type testServer struct {
	*exampletest.Server
}

// startServer runs serve with two loops on an ephemeral loopback port.
func startServer(tb testing.TB) *testServer {
	tb.Helper()
	return startServerWith(tb, config{addr: "tcp://127.0.0.1:0", loops: 2})
}

// startServerWith runs serve with cfg and stops it when the test ends,
// failing the test unless it stops cleanly within 10 s.
func startServerWith(tb testing.TB, cfg config) *testServer {
	tb.Helper()
	return &testServer{exampletest.StartServer(tb, func(ctx context.Context, ready func(net.Addr)) error {
		return serve(ctx, cfg, ready)
	})}
}

// port is the server's TCP port.
func (s *testServer) port() string {
	return strconv.Itoa(s.Addr.(*net.TCPAddr).Port)
}

// testConn is a raw connection with a deadline on everything it does.
type testConn struct {
	net.Conn
	r *bufio.Reader
}

func (s *testServer) dial(tb testing.TB) *testConn {
	tb.Helper()
	return newClient(tb, s.Dial(tb))
}

func newClient(tb testing.TB, c net.Conn) *testConn {
	tb.Helper()
	if err := c.SetDeadline(time.Now().Add(60 * time.Second)); err != nil {
		tb.Fatal(err)
	}
	return &testConn{Conn: c, r: bufio.NewReaderSize(c, 64<<10)}
}

// send writes raw bytes.
func (c *testConn) send(tb testing.TB, raw string) {
	tb.Helper()
	if _, err := io.WriteString(c, raw); err != nil {
		tb.Fatalf("write: %v", err)
	}
}

// do sends args as a multibulk command and returns the raw reply.
func (c *testConn) do(tb testing.TB, args ...string) string {
	tb.Helper()
	c.send(tb, multibulk(args...))
	return c.reply(tb)
}

// reply reads one reply and returns its bytes.
func (c *testConn) reply(tb testing.TB) string {
	tb.Helper()
	_, raw, err := readReply(c.r)
	if err != nil {
		tb.Fatalf("read reply: %v", err)
	}
	return string(raw)
}

// expect reads one reply and checks its bytes.
func (c *testConn) expect(tb testing.TB, want string) {
	tb.Helper()
	if got := c.reply(tb); got != want {
		tb.Fatalf("reply %q, want %q", got, want)
	}
}

// expectClosed checks that the server closes the connection with nothing
// more to read.
func (c *testConn) expectClosed(tb testing.TB) {
	tb.Helper()
	if err := c.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		tb.Fatal(err)
	}
	b, err := c.r.ReadByte()
	if err == nil {
		tb.Fatalf("read %q, want the connection closed", b)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		tb.Fatal("connection still open 5s later")
	}
}

// multibulk encodes args as a multibulk command.
func multibulk(args ...string) string {
	b := make([][]byte, len(args))
	for i, a := range args {
		b[i] = []byte(a)
	}
	return string(resp.AppendCommand(nil, b...))
}

// value is a decoded RESP2 reply.
type value struct {
	kind  byte   // '+', '-', ':', '$' or '*'
	str   string // simple string, error or bulk
	n     int64  // integer
	null  bool   // $-1 or *-1
	elems []value
}

// readReply reads one RESP2 reply and returns it decoded and as its raw
// bytes.
func readReply(r *bufio.Reader) (value, []byte, error) {
	var raw []byte
	v, err := readValue(r, &raw, 0)
	return v, raw, err
}

func readValue(r *bufio.Reader, raw *[]byte, depth int) (value, error) {
	if depth > 16 {
		return value{}, errors.New("reply nested too deep")
	}
	line, err := r.ReadSlice('\n')
	if err != nil {
		return value{}, err
	}
	*raw = append(*raw, line...)
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return value{}, fmt.Errorf("bad reply line %q", line)
	}
	v := value{kind: line[0]}
	body := string(line[1 : len(line)-2])
	switch v.kind {
	case '+', '-':
		v.str = body
	case ':':
		if v.n, err = strconv.ParseInt(body, 10, 64); err != nil {
			return value{}, fmt.Errorf("bad integer %q", line)
		}
	case '$', '*':
		n, err := strconv.Atoi(body)
		if err != nil || n < -1 {
			return value{}, fmt.Errorf("bad length %q", line)
		}
		if n == -1 {
			v.null = true
			return v, nil
		}
		if v.kind == '*' {
			for range n {
				e, err := readValue(r, raw, depth+1)
				if err != nil {
					return value{}, err
				}
				v.elems = append(v.elems, e)
			}
			return v, nil
		}
		b := make([]byte, n+2)
		if _, err := io.ReadFull(r, b); err != nil {
			return value{}, err
		}
		if string(b[n:]) != "\r\n" {
			return value{}, fmt.Errorf("bulk of %d bytes not followed by CRLF", n)
		}
		*raw = append(*raw, b...)
		v.str = string(b[:n])
	default:
		return value{}, fmt.Errorf("unknown reply type %q", line)
	}
	return v, nil
}

// sendAsync writes raw on its own goroutine, for writes larger than the
// socket buffers that must overlap with reading the replies, and returns
// the channel its error comes on.
func (c *testConn) sendAsync(raw string) <-chan error {
	errc := make(chan error, 1)
	go func() {
		_, err := io.WriteString(c, raw)
		errc <- err
	}()
	return errc
}
