//go:build (linux || darwin || dragonfly || freebsd || netbsd || openbsd) && !evloop_portable

package evloop

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/evloop/evloop/internal/socket"
)

// The tests here read the kernel's socket options of the descriptors the
// engine made, so they run on the native backends only: the portable
// backend's descriptors are its own, not the kernel's.

// Each test here turns one option on (or off) and observes its effect on a
// real socket: on the fd the engine accepted, read inside OnOpen on the
// loop, or on the engine's listener fd.

// tbSockopts is what a test reads from an accepted socket.
type tbSockopts struct {
	noDelay, keepAlive, keepIdle, keepIntvl, keepCnt int
	tcpErr                                           error // from the first TCP-level getsockopt
}

// tbAcceptedSockopts serves addr with opts, connects one client and returns
// the socket options of the fd the engine accepted for it, read in OnOpen;
// more, when not nil, reads there the ones whose names differ by system.
func tbAcceptedSockopts(tb testing.TB, addr string, more func(fd int, o *tbSockopts) error, opts ...Option) tbSockopts {
	tb.Helper()
	got := make(chan tbSockopts, 1)
	h := &tbHandler{open: func(c Conn) ([]byte, Action) {
		fd := int(c.(*conn).fd)
		var o tbSockopts
		// Booleans as 0 or 1: the BSDs report "on" as the option's bit.
		o.keepAlive, _ = unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_KEEPALIVE)
		o.keepAlive = min(o.keepAlive, 1)
		o.noDelay, o.tcpErr = unix.GetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY)
		o.noDelay = min(o.noDelay, 1)
		if more != nil {
			o.tcpErr = errors.Join(o.tcpErr, more(fd, &o))
		}
		got <- o
		return nil, None
	}}
	s := startEngine(tb, h, addr, append([]Option{WithLoops(1)}, opts...)...)
	s.dial(tb)
	return tbRecv(tb, got, 10*time.Second, "OnOpen")
}

// TestOptionTCPNoDelayNative: TCP_NODELAY is set on accepted connections by
// default and with WithTCPNoDelay(true), and left off (the kernel default)
// with WithTCPNoDelay(false).
func TestOptionTCPNoDelayNative(t *testing.T) {
	tests := []struct {
		name string
		opts []Option
		want int
	}{
		{name: "default", want: 1},
		{name: "on", opts: []Option{WithTCPNoDelay(true)}, want: 1},
		{name: "off", opts: []Option{WithTCPNoDelay(false)}, want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := tbAcceptedSockopts(t, "tcp://127.0.0.1:0", nil, tt.opts...)
			if o.tcpErr != nil {
				t.Fatalf("getsockopt: %v", o.tcpErr)
			}
			if o.noDelay != tt.want {
				t.Errorf("TCP_NODELAY = %d, want %d", o.noDelay, tt.want)
			}
		})
	}
}

// TestOptionTCPOptionsSkipUnixNative: the TCP options (on by default for
// TCP_NODELAY, asked for here for keepalive) are not applied to a
// unix-socket connection, where setting them can only fail: nothing is
// logged, even at debug level, and the socket has no keepalive.
func TestOptionTCPOptionsSkipUnixNative(t *testing.T) {
	logger, logs := itQuietLogger()
	path := filepath.Join(t.TempDir(), "s.sock")
	opts := []Option{WithTCPNoDelay(true), WithLogger(logger)}
	if socket.KeepAliveTuning() == nil {
		opts = append(opts, WithTCPKeepAlive(7*time.Second))
	}
	o := tbAcceptedSockopts(t, "unix://"+path, nil, opts...)
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

// TestOptionReuseAddrNative: listeners get SO_REUSEADDR by default and not with
// WithReuseAddr(false), in both accepting modes.
func TestOptionReuseAddrNative(t *testing.T) {
	tests := []struct {
		name string
		opts []Option
		want int
	}{
		{name: "default", want: 1},
		{name: "off", opts: []Option{WithReuseAddr(false)}, want: 0},
		{name: "reuseport default", opts: []Option{WithReusePort(true)}, want: 1},
		{name: "reuseport off", opts: []Option{WithReusePort(true), WithReuseAddr(false)}, want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startEngine(t, echoHandler{}, "tcp://127.0.0.1:0", append([]Option{WithLoops(2)}, tt.opts...)...)
			for _, ln := range s.eng.e.lns {
				v, err := unix.GetsockoptInt(ln.fd, unix.SOL_SOCKET, unix.SO_REUSEADDR)
				if err != nil {
					t.Fatalf("getsockopt SO_REUSEADDR: %v", err)
				}
				if min(v, 1) != tt.want { // the BSDs report "on" as the option's bit
					t.Errorf("listener %v: SO_REUSEADDR = %d, want %d", ln.addr, v, tt.want)
				}
			}
		})
	}
}
