//go:build linux && !evloop_portable

package evloop

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// tbKeepAliveTiming reads Linux's keepalive timing options.
func tbKeepAliveTiming(fd int, o *tbSockopts) error {
	var errs [3]error
	o.keepIdle, errs[0] = unix.GetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_KEEPIDLE)
	o.keepIntvl, errs[1] = unix.GetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_KEEPINTVL)
	o.keepCnt, errs[2] = unix.GetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_KEEPCNT)
	return errors.Join(errs[:]...)
}

// TestOptionTCPKeepAliveLinux: WithTCPKeepAlive(d) turns SO_KEEPALIVE on
// and sets both TCP_KEEPIDLE and TCP_KEEPINTVL to d in seconds (rounded
// up), with 9 probes. The kernel's defaults (7200 s, 75 s) differ from the
// values asked for, so an option that is not applied shows. Without the
// option keepalive stays off. The options are read by their Linux names.
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
			o := tbAcceptedSockopts(t, "tcp://127.0.0.1:0", tbKeepAliveTiming, tt.opts...)
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

// TestOptionLockOSThreadLinux: with WithLockOSThread the loop goroutine runs
// every callback on the OS thread it started on. The first callback names
// its thread (prctl PR_SET_NAME) and every later one reports its thread id
// and name, while the callback itself yields (runtime.Gosched, and now and
// then runtime.GC) and other goroutines keep every P busy, so an unlocked
// goroutine is rescheduled onto other threads. It catches the option not
// reaching the loop goroutine (not locked, or locked on a different
// goroutine than the one that runs the callbacks). The unlocked run is a
// control, logged and not asserted: an unlocked goroutine may stay put by
// chance, which says nothing about the option.
func TestOptionLockOSThreadLinux(t *testing.T) {
	rounds := tbScale(300, 3)
	moved := tbThreadMoves(t, rounds, false)
	t.Logf("without WithLockOSThread: %d of %d callbacks ran on another thread", moved, rounds)
	if moved := tbThreadMoves(t, rounds, true); moved != 0 {
		t.Errorf("with WithLockOSThread: %d of %d callbacks ran on another thread than OnOpen", moved, rounds)
	}
}

// tbThreadMoves serves one client for rounds round trips and counts the
// callbacks that did not run on OnOpen's thread (by id or by name).
func tbThreadMoves(tb testing.TB, rounds int, lock bool) int {
	tb.Helper()
	const name = "evloop-pinned"
	var original [16]byte
	h := &tbHandler{
		open: func(Conn) ([]byte, Action) {
			_ = unix.Prctl(unix.PR_GET_NAME, uintptr(unsafe.Pointer(&original[0])), 0, 0, 0)
			b := append([]byte(name), 0)
			if err := unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(&b[0])), 0, 0, 0); err != nil {
				return []byte("error " + err.Error() + "\n"), Close
			}
			return tbThreadLine(), None
		},
		traffic: func(c Conn) Action {
			b, _ := c.Next(-1)
			for range bytes.Count(b, []byte{'\n'}) {
				runtime.Gosched()
				_, _ = c.Write(tbThreadLine())
			}
			return None
		},
		close: func(Conn, error) Action {
			// Give the thread its name back: unlocked, or once the loop
			// unlocks at exit, other goroutines run on it.
			_ = unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(&original[0])), 0, 0, 0)
			return None
		},
	}
	s := startEngine(tb, h, "tcp://127.0.0.1:0", WithLoops(1), WithLockOSThread(lock))

	stop := make(chan struct{})
	var churn sync.WaitGroup
	for i := range runtime.GOMAXPROCS(0) + 2 {
		churn.Add(1)
		go func() {
			defer churn.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				runtime.KeepAlive(make([]byte, 1024+n%4096))
				if i == 0 && n%2000 == 0 {
					runtime.GC()
				}
				runtime.Gosched()
			}
		}()
	}
	defer func() { close(stop); churn.Wait() }()

	nc := s.dial(tb)
	if err := nc.SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
		tb.Fatal(err)
	}
	r := newTBLineReader(nc)
	first := r.line(tb)
	// Unlocked, OnOpen itself may move threads between naming its thread
	// and reporting it: only the locked run must keep the name.
	if lock && !strings.HasSuffix(first, " "+name) {
		tb.Fatalf("OnOpen reported %q, want its thread named %q", first, name)
	}
	moved := 0
	for i := 0; i < rounds; i++ {
		if _, err := io.WriteString(nc, "?\n"); err != nil {
			tb.Fatalf("round %d: write: %v", i, err)
		}
		if l := r.line(tb); l != first {
			moved++
		}
	}
	return moved
}

// tbThreadLine is "tid name\n" for the calling thread.
func tbThreadLine() []byte {
	var name [16]byte
	_ = unix.Prctl(unix.PR_GET_NAME, uintptr(unsafe.Pointer(&name[0])), 0, 0, 0)
	n := bytes.IndexByte(name[:], 0)
	if n < 0 {
		n = len(name)
	}
	return fmt.Appendf(nil, "%d %s\n", unix.Gettid(), name[:n])
}

// tbLineReader reads newline-terminated replies.
type tbLineReader struct {
	r   io.Reader
	buf []byte
}

func newTBLineReader(r io.Reader) *tbLineReader { return &tbLineReader{r: r} }

func (lr *tbLineReader) line(tb testing.TB) string {
	tb.Helper()
	for {
		if i := bytes.IndexByte(lr.buf, '\n'); i >= 0 {
			l := string(lr.buf[:i])
			lr.buf = lr.buf[i+1:]
			return l
		}
		var chunk [256]byte
		n, err := lr.r.Read(chunk[:])
		lr.buf = append(lr.buf, chunk[:n]...)
		if err != nil && n == 0 {
			tb.Fatalf("read reply: %v", err)
		}
	}
}
