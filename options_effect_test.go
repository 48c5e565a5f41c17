//go:build linux

package evloop

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Each test here turns one option on (or off) and observes its effect on a
// real socket: on the fd the engine accepted, read inside OnOpen on the
// loop, or on the engine's listener fd.

// tbSockopts is what a test reads from an accepted socket.
type tbSockopts struct {
	noDelay, keepAlive, keepIdle, keepIntvl, keepCnt int
	tcpErr                                           error // from the first TCP-level getsockopt
}

// tbAcceptedSockopts serves addr with opts, connects one client and returns
// the socket options of the fd the engine accepted for it, read in OnOpen.
func tbAcceptedSockopts(tb testing.TB, addr string, opts ...Option) tbSockopts {
	tb.Helper()
	got := make(chan tbSockopts, 1)
	h := &tbHandler{open: func(c Conn) ([]byte, Action) {
		fd := int(c.(*conn).fd)
		var o tbSockopts
		o.keepAlive, _ = unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_KEEPALIVE)
		var errs [4]error
		o.noDelay, errs[0] = unix.GetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY)
		o.keepIdle, errs[1] = unix.GetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_KEEPIDLE)
		o.keepIntvl, errs[2] = unix.GetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_KEEPINTVL)
		o.keepCnt, errs[3] = unix.GetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_KEEPCNT)
		o.tcpErr = errors.Join(errs[:]...)
		got <- o
		return nil, None
	}}
	s := startEngine(tb, h, addr, append([]Option{WithLoops(1)}, opts...)...)
	s.dial(tb)
	return tbRecv(tb, got, 10*time.Second, "OnOpen")
}

// TestOptionTCPKeepAlive: WithTCPKeepAlive(d) turns SO_KEEPALIVE on and
// sets both TCP_KEEPIDLE and TCP_KEEPINTVL to d in seconds (rounded up),
// with 9 probes. The kernel's defaults (7200 s, 75 s) differ from the
// values asked for, so an option that is not applied shows. Without the
// option keepalive stays off.
func TestOptionTCPKeepAlive(t *testing.T) {
	tests := []struct {
		name      string
		opts      []Option
		keepAlive int
		seconds   int // TCP_KEEPIDLE and TCP_KEEPINTVL; 0: not checked
	}{
		{name: "default off", keepAlive: 0},
		{name: "7s", opts: []Option{WithTCPKeepAlive(7 * time.Second)}, keepAlive: 1, seconds: 7},
		{name: "1.5s rounds up", opts: []Option{WithTCPKeepAlive(1500 * time.Millisecond)}, keepAlive: 1, seconds: 2},
		{name: "maximum", opts: []Option{WithTCPKeepAlive(32767 * time.Second)}, keepAlive: 1, seconds: 32767},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := tbAcceptedSockopts(t, "tcp://127.0.0.1:0", tt.opts...)
			if o.tcpErr != nil {
				t.Fatalf("getsockopt: %v", o.tcpErr)
			}
			if o.keepAlive != tt.keepAlive {
				t.Errorf("SO_KEEPALIVE = %d, want %d", o.keepAlive, tt.keepAlive)
			}
			if tt.seconds == 0 {
				return
			}
			if o.keepIdle != tt.seconds || o.keepIntvl != tt.seconds {
				t.Errorf("TCP_KEEPIDLE = %d, TCP_KEEPINTVL = %d, want both %d", o.keepIdle, o.keepIntvl, tt.seconds)
			}
			if o.keepCnt != 9 {
				t.Errorf("TCP_KEEPCNT = %d, want 9", o.keepCnt)
			}
		})
	}
}

// TestOptionTCPOptionsSkipUnix: the TCP options (on by default for
// TCP_NODELAY, asked for here for keepalive) are not applied to a
// unix-socket connection, where setting them can only fail: nothing is
// logged, even at debug level, and the socket has no keepalive.
func TestOptionTCPOptionsSkipUnix(t *testing.T) {
	logger, logs := itQuietLogger()
	path := filepath.Join(t.TempDir(), "s.sock")
	o := tbAcceptedSockopts(t, "unix://"+path, WithTCPNoDelay(true), WithTCPKeepAlive(7*time.Second), WithLogger(logger))
	if o.tcpErr == nil {
		t.Fatal("TCP-level getsockopt succeeded on a unix socket; the test does not test what it should")
	}
	if o.keepAlive != 0 {
		t.Errorf("SO_KEEPALIVE = %d on a unix socket, want 0", o.keepAlive)
	}
	// prepare runs before the connection reaches its loop, so anything it
	// logged is in the buffer by the time OnOpen ran.
	if s := logs.String(); s != "" {
		t.Errorf("the engine logged for a unix connection:\n%s", s)
	}
}
