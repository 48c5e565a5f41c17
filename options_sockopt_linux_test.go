//go:build linux && !evloop_portable

package evloop

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
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

// TestOptionTCPNoDelayLinux: TCP_NODELAY is set on accepted connections by
// default and with WithTCPNoDelay(true), and left off (the kernel default)
// with WithTCPNoDelay(false).
func TestOptionTCPNoDelayLinux(t *testing.T) {
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
			o := tbAcceptedSockopts(t, "tcp://127.0.0.1:0", tt.opts...)
			if o.tcpErr != nil {
				t.Fatalf("getsockopt: %v", o.tcpErr)
			}
			if o.noDelay != tt.want {
				t.Errorf("TCP_NODELAY = %d, want %d", o.noDelay, tt.want)
			}
		})
	}
}

// TestOptionTCPKeepAliveLinux: WithTCPKeepAlive(d) turns SO_KEEPALIVE on and
// sets both TCP_KEEPIDLE and TCP_KEEPINTVL to d in seconds (rounded up),
// with 9 probes. The kernel's defaults (7200 s, 75 s) differ from the
// values asked for, so an option that is not applied shows. Without the
// option keepalive stays off.
func TestOptionTCPKeepAliveLinux(t *testing.T) {
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

// TestOptionTCPOptionsSkipUnixLinux: the TCP options (on by default for
// TCP_NODELAY, asked for here for keepalive) are not applied to a
// unix-socket connection, where setting them can only fail: nothing is
// logged, even at debug level, and the socket has no keepalive.
func TestOptionTCPOptionsSkipUnixLinux(t *testing.T) {
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

// TestOptionReuseAddrLinux: listeners get SO_REUSEADDR by default and not with
// WithReuseAddr(false), in both accepting modes.
func TestOptionReuseAddrLinux(t *testing.T) {
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
				if v != tt.want {
					t.Errorf("listener %v: SO_REUSEADDR = %d, want %d", ln.addr, v, tt.want)
				}
			}
		})
	}
}

// TestOptionBacklogLinux reads each listener's accept-queue limit from the
// kernel (sock_diag reports it as the write queue of a LISTEN socket, as
// `ss -lt` shows it in Send-Q): WithBacklog(n) gives n, the default gives
// net.core.somaxconn, in both accepting modes.
func TestOptionBacklogLinux(t *testing.T) {
	somaxconn := tbSomaxconn(t)
	tests := []struct {
		name string
		opts []Option
		want int
	}{
		{name: "default", want: somaxconn},
		{name: "7", opts: []Option{WithBacklog(7)}, want: 7},
		{name: "13", opts: []Option{WithBacklog(13)}, want: 13},
		{name: "reuseport 11", opts: []Option{WithReusePort(true), WithBacklog(11)}, want: 11},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startEngine(t, echoHandler{}, "tcp://127.0.0.1:0", append([]Option{WithLoops(2)}, tt.opts...)...)
			for _, ln := range s.eng.e.lns {
				if got := tbListenBacklog(t, ln.fd); got != tt.want {
					t.Errorf("listener %v: backlog %d, want %d", ln.addr, got, tt.want)
				}
			}
		})
	}
}

func tbSomaxconn(tb testing.TB) int {
	tb.Helper()
	b, err := os.ReadFile("/proc/sys/net/core/somaxconn")
	if err != nil {
		tb.Skipf("somaxconn: %v", err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		tb.Fatalf("somaxconn %q: %v", b, err)
	}
	return n
}

// tbListenBacklog asks the kernel, over NETLINK_SOCK_DIAG, for the accept
// queue limit of the IPv4 TCP listening socket fd. The socket is found by
// its inode, so no other listener on the machine can be mistaken for it.
func tbListenBacklog(tb testing.TB, fd int) int {
	tb.Helper()
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		tb.Fatalf("fstat listener: %v", err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		tb.Fatalf("getsockname: %v", err)
	}
	in4, ok := sa.(*unix.SockaddrInet4)
	if !ok {
		tb.Fatalf("listener is bound to %T, want an IPv4 address", sa)
	}
	nl, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		tb.Skipf("no NETLINK_SOCK_DIAG here: %v", err)
	}
	defer unix.Close(nl)

	// struct nlmsghdr (16 bytes) + struct inet_diag_req_v2 (56 bytes).
	const (
		hdrLen   = 16
		reqLen   = 56
		tcpListn = 10 // TCP_LISTEN in the kernel's state numbering
	)
	req := make([]byte, hdrLen+reqLen)
	ne := binary.NativeEndian
	ne.PutUint32(req[0:], uint32(len(req)))
	ne.PutUint16(req[4:], unix.SOCK_DIAG_BY_FAMILY)
	ne.PutUint16(req[6:], unix.NLM_F_REQUEST|unix.NLM_F_DUMP)
	ne.PutUint32(req[8:], 1) // sequence number
	r := req[hdrLen:]
	r[0] = unix.AF_INET
	r[1] = unix.IPPROTO_TCP
	ne.PutUint32(r[4:], 1<<tcpListn)
	binary.BigEndian.PutUint16(r[8:], uint16(in4.Port)) // id.idiag_sport
	if err := unix.Sendto(nl, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		tb.Skipf("sock_diag request: %v", err)
	}

	// Replies: nlmsghdr + struct inet_diag_msg, whose idiag_wqueue (offset
	// 60) is sk_max_ack_backlog for a listener and idiag_inode (offset 68)
	// the socket's inode.
	buf := make([]byte, 64<<10)
	for {
		n, _, err := unix.Recvfrom(nl, buf, 0)
		if err != nil {
			tb.Fatalf("sock_diag reply: %v", err)
		}
		msgs, err := tbParseNetlink(buf[:n])
		if err != nil {
			tb.Fatalf("sock_diag reply: %v", err)
		}
		for _, m := range msgs {
			switch m.typ {
			case unix.NLMSG_DONE:
				tb.Fatalf("sock_diag did not list the listener (inode %d, port %d)", st.Ino, in4.Port)
			case unix.NLMSG_ERROR:
				tb.Skipf("sock_diag refused the request: %x", m.data)
			}
			if len(m.data) < 72 {
				tb.Fatalf("short inet_diag_msg: %d bytes", len(m.data))
			}
			if uint64(ne.Uint32(m.data[68:])) == st.Ino {
				return int(ne.Uint32(m.data[60:]))
			}
		}
	}
}

type tbNetlinkMsg struct {
	typ  uint16
	data []byte
}

// tbParseNetlink splits a netlink datagram into its messages.
func tbParseNetlink(b []byte) ([]tbNetlinkMsg, error) {
	var msgs []tbNetlinkMsg
	for len(b) >= 16 {
		l := int(binary.NativeEndian.Uint32(b[0:]))
		if l < 16 || l > len(b) {
			return nil, fmt.Errorf("netlink message of length %d in %d bytes", l, len(b))
		}
		msgs = append(msgs, tbNetlinkMsg{typ: binary.NativeEndian.Uint16(b[4:]), data: b[16:l]})
		b = b[min((l+3)&^3, len(b)):]
	}
	return msgs, nil
}
