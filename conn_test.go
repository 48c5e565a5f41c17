package evloop

import (
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"
)

// TestConnContext checks that SetContext's value is per connection and
// stays from OnOpen through every OnTraffic to OnClose.
func TestConnContext(t *testing.T) {
	type state struct{ id, msgs byte }
	closed := make(chan *state, 2)
	errs := make(chan error, 4)
	var next byte // loop-owned: WithLoops(1)
	h := &tbHandler{
		open: func(c Conn) ([]byte, Action) {
			if v := c.Context(); v != nil {
				errs <- fmt.Errorf("Context() in OnOpen = %v, want nil", v)
			}
			next++
			c.SetContext(&state{id: next})
			return nil, None
		},
		traffic: func(c Conn) Action {
			st, ok := c.Context().(*state)
			if !ok {
				errs <- fmt.Errorf("Context() in OnTraffic = %v", c.Context())
				return Close
			}
			_, _ = c.Discard(c.InboundBuffered())
			st.msgs++
			_, _ = c.Write([]byte{st.id, st.msgs})
			return None
		},
		close: func(c Conn, _ error) Action {
			st, _ := c.Context().(*state)
			closed <- st
			return None
		},
	}
	s := startEngine(t, h, "tcp://127.0.0.1:0", WithLoops(1))
	a, b := s.dial(t), s.dial(t)
	reply := func(c net.Conn) [2]byte {
		t.Helper()
		var r [2]byte
		if err := c.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Write([]byte("x")); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(c, r[:]); err != nil {
			t.Fatal(err)
		}
		return r
	}
	a1, b1, a2, a3, b2 := reply(a), reply(b), reply(a), reply(a), reply(b)
	if a1[0] == b1[0] {
		t.Errorf("both connections see context id %d", a1[0])
	}
	for _, tc := range []struct {
		name string
		got  [2]byte
		want [2]byte
	}{
		{name: "a first", got: a1, want: [2]byte{a1[0], 1}},
		{name: "a second", got: a2, want: [2]byte{a1[0], 2}},
		{name: "a third", got: a3, want: [2]byte{a1[0], 3}},
		{name: "b first", got: b1, want: [2]byte{b1[0], 1}},
		{name: "b second", got: b2, want: [2]byte{b1[0], 2}},
	} {
		if tc.got != tc.want {
			t.Errorf("%s reply = %v, want %v", tc.name, tc.got, tc.want)
		}
	}
	a.Close()
	if st := tbRecv(t, closed, 5*time.Second, "OnClose"); st == nil || st.id != a1[0] || st.msgs != 3 {
		t.Errorf("Context() in OnClose = %+v, want id %d with 3 messages", st, a1[0])
	}
	select {
	case err := <-errs:
		t.Error(err)
	default:
	}
}

// TestConnAddrs checks LocalAddr and RemoteAddr against what the client
// sees, inside OnOpen and from another goroutine after the close.
func TestConnAddrs(t *testing.T) {
	tests := []struct {
		name    string
		addr    func(t *testing.T) string
		network string
		// dialHost, when set, is the host the client dials on the
		// engine's port (a wildcard listener); LocalAddr is then the
		// listener's address, not what the client dialed.
		dialHost string
		needIPv6 bool
	}{
		{name: "tcp", network: "tcp", addr: func(*testing.T) string { return "tcp://127.0.0.1:0" }},
		{name: "tcp6", network: "tcp", needIPv6: true, addr: func(*testing.T) string { return "tcp6://[::1]:0" }},
		{name: "dual stack", network: "tcp", needIPv6: true, dialHost: "127.0.0.1",
			addr: func(*testing.T) string { return "tcp://[::]:0" }},
		{name: "unix", network: "unix", addr: func(t *testing.T) string {
			return "unix://" + filepath.Join(t.TempDir(), "s.sock")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.needIPv6 {
				ln, err := net.Listen("tcp6", "[::1]:0")
				if err != nil {
					t.Skipf("no IPv6 loopback: %v", err)
				}
				ln.Close()
			}
			conns := make(chan Conn, 1)
			closed := make(chan struct{}, 1)
			h := &tbHandler{
				open:  func(c Conn) ([]byte, Action) { conns <- c; return nil, None },
				close: func(Conn, error) Action { closed <- struct{}{}; return None },
			}
			s := startEngine(t, h, tt.addr(t), WithLoops(1))
			var cl net.Conn
			if tt.dialHost != "" {
				_, port, _ := net.SplitHostPort(s.addr.String())
				addr, err := net.ResolveTCPAddr("tcp", net.JoinHostPort(tt.dialHost, port))
				if err != nil {
					t.Fatal(err)
				}
				cl = tbDial(t, addr)
			} else {
				cl = s.dial(t)
			}
			c := tbRecv(t, conns, 5*time.Second, "OnOpen")
			check := func(when string) {
				t.Helper()
				local, remote := c.LocalAddr(), c.RemoteAddr()
				if local == nil || remote == nil {
					t.Fatalf("%s: LocalAddr %v, RemoteAddr %v", when, local, remote)
				}
				if local.Network() != tt.network || remote.Network() != tt.network {
					t.Errorf("%s: networks %q and %q, want %q", when, local.Network(), remote.Network(), tt.network)
				}
				if local.String() != s.addr.String() {
					t.Errorf("%s: LocalAddr %v, want the listener's %v", when, local, s.addr)
				}
				if tt.dialHost == "" && local.String() != cl.RemoteAddr().String() {
					t.Errorf("%s: LocalAddr %v, the client dialed %v", when, local, cl.RemoteAddr())
				}
				if tt.network == "tcp" {
					if remote.String() != cl.LocalAddr().String() {
						t.Errorf("%s: RemoteAddr %v, want the client's %v", when, remote, cl.LocalAddr())
					}
					if _, ok := remote.(*net.TCPAddr); !ok {
						t.Errorf("%s: RemoteAddr is a %T, want *net.TCPAddr", when, remote)
					}
				}
			}
			check("open")
			cl.Close()
			tbRecv(t, closed, 5*time.Second, "OnClose")
			check("after close")
		})
	}
}

// TestConnWake: Wake from another goroutine runs OnTraffic (seeing what is
// buffered) and then the callback, both on the connection's loop; on a
// closed connection it runs nothing but reports ErrClosed.
func TestConnWake(t *testing.T) {
	events := make(chan string, 16)
	var loopGoid atomic.Uint64
	conns := make(chan Conn, 1)
	calls := 0 // loop-owned: WithLoops(1)
	cb := func(c Conn, err error) {
		same := tbGoroutineID() == loopGoid.Load()
		events <- fmt.Sprintf("callback err=%v loop=%v", err, same)
	}
	h := &tbHandler{
		traffic: func(c Conn) Action {
			loopGoid.Store(tbGoroutineID())
			calls++
			events <- fmt.Sprintf("traffic buffered=%d", c.InboundBuffered())
			if calls == 1 {
				// Leave the bytes unread and ask for another OnTraffic.
				go func() {
					if err := c.Wake(cb); err != nil {
						events <- "Wake: " + err.Error()
					}
				}()
				return None
			}
			b, _ := c.Next(-1)
			_, _ = c.Write(b)
			return None
		},
		close: func(c Conn, _ error) Action {
			events <- "close"
			conns <- c
			return None
		},
	}
	s := startEngine(t, h, "tcp://127.0.0.1:0", WithLoops(1))
	cl := s.dial(t)
	if err := tbEcho(cl, []byte("abc"), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	want := []string{"traffic buffered=3", "traffic buffered=3", "callback err=<nil> loop=true"}
	for i, w := range want {
		if got := tbRecv(t, events, 5*time.Second, w); got != w {
			t.Fatalf("event %d = %q, want %q", i, got, w)
		}
	}

	cl.Close()
	if got := tbRecv(t, events, 5*time.Second, "close"); got != "close" {
		t.Fatalf("event = %q, want close", got)
	}
	c := tbRecv(t, conns, time.Second, "the closed Conn")
	if err := c.Wake(cb); err != nil {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("Wake on a closed connection = %v, want ErrClosed", err)
		}
	} else {
		want := fmt.Sprintf("callback err=%v loop=true", ErrClosed)
		if got := tbRecv(t, events, 5*time.Second, "the callback"); got != want {
			t.Errorf("Wake on a closed connection: event %q, want %q", got, want)
		}
	}
	select {
	case ev := <-events:
		t.Errorf("unexpected event after Wake on a closed connection: %q", ev)
	case <-time.After(50 * time.Millisecond):
	}
}

// TestConnWritevOrder: Writev with more buffers than one writev(2) takes
// (200 > 64 iovecs), small and larger than the socket buffer, behind
// pending output or not, delivers every byte in order.
func TestConnWritevOrder(t *testing.T) {
	tests := []struct {
		name    string
		bufs    int
		size    func(i int) int
		pending int // bytes written with Write just before the Writev
		opts    []Option
	}{
		{name: "small", bufs: 200, size: func(i int) int {
			if i%50 == 7 {
				return 0
			}
			return 1 + i%17
		}},
		{name: "large", bufs: 200, size: func(int) int { return tbScale(8<<10, 4) },
			opts: []Option{WithSocketSendBuffer(64 << 10)}},
		{name: "behind pending output", bufs: 200, size: func(i int) int { return 1 + i%100 },
			pending: tbScale(4<<20, 8), opts: []Option{WithSocketSendBuffer(64 << 10)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bufs, total := make([][]byte, tt.bufs), tt.pending
			for i := range bufs {
				bufs[i] = tbPattern(total, tt.size(i))
				total += len(bufs[i])
			}
			results := make(chan error, 1)
			h := &tbHandler{traffic: func(c Conn) Action {
				_, _ = c.Discard(c.InboundBuffered())
				var err error
				if tt.pending > 0 {
					if n, werr := c.Write(tbPattern(0, tt.pending)); n != tt.pending || werr != nil {
						err = fmt.Errorf("Write = %d, %v; want %d", n, werr, tt.pending)
					}
				}
				if n, werr := c.Writev(bufs); n != total-tt.pending || werr != nil {
					err = errors.Join(err, fmt.Errorf("Writev = %d, %v; want %d", n, werr, total-tt.pending))
				}
				results <- err
				return None
			}}
			opts := append([]Option{WithLoops(1)}, tt.opts...)
			s := startEngine(t, h, "tcp://127.0.0.1:0", opts...)
			cl := s.dial(t)
			if err := cl.SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
				t.Fatal(err)
			}
			if _, err := cl.Write([]byte("go")); err != nil {
				t.Fatal(err)
			}
			got := make([]byte, total)
			if _, err := io.ReadFull(cl, got); err != nil {
				t.Fatalf("read %d bytes: %v", total, err)
			}
			if err := tbRecv(t, results, 5*time.Second, "the handler"); err != nil {
				t.Fatal(err)
			}
			if i := tbFirstDiff(got, tbPattern(0, total)); i >= 0 {
				t.Fatalf("%d bytes arrived, first difference at offset %d", total, i)
			}
		})
	}
}

// TestConnLargeWrite: a Write from OnTraffic much larger than the socket
// buffer returns at once, keeps the rest (the caller may reuse its slice
// right away) and delivers every byte.
func TestConnLargeWrite(t *testing.T) {
	size := tbScale(8<<20, 8)
	type result struct {
		n, pending int
		err        error
	}
	results := make(chan result, 1)
	h := &tbHandler{traffic: func(c Conn) Action {
		_, _ = c.Discard(c.InboundBuffered())
		p := tbPattern(0, size)
		n, err := c.Write(p)
		clear(p) // Write's contract: p may be reused at once
		results <- result{n: n, pending: c.OutboundBuffered(), err: err}
		return None
	}}
	s := startEngine(t, h, "tcp://127.0.0.1:0", WithLoops(1), WithSocketSendBuffer(64<<10))
	cl := s.dial(t)
	if err := cl.SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Write([]byte("go")); err != nil {
		t.Fatal(err)
	}
	r := tbRecv(t, results, 5*time.Second, "the handler")
	if r.n != size || r.err != nil {
		t.Fatalf("Write = %d, %v; want %d, nil", r.n, r.err, size)
	}
	if r.pending == 0 {
		t.Errorf("OutboundBuffered() = 0 right after a %d-byte Write: it did not exceed the socket buffer", size)
	}
	got := make([]byte, size)
	if _, err := io.ReadFull(cl, got); err != nil {
		t.Fatalf("read %d bytes: %v", size, err)
	}
	if i := tbFirstDiff(got, tbPattern(0, size)); i >= 0 {
		t.Fatalf("first difference at offset %d of %d", i, size)
	}
	t.Logf("%d bytes written, %d of them pending after Write returned", size, r.pending)
}

// TestConnEmptyWrites: writing nothing succeeds, sends nothing and leaves
// nothing pending.
func TestConnEmptyWrites(t *testing.T) {
	tests := []struct {
		name  string
		write func(c Conn) (int, error)
	}{
		{name: "Write nil", write: func(c Conn) (int, error) { return c.Write(nil) }},
		{name: "Write empty", write: func(c Conn) (int, error) { return c.Write([]byte{}) }},
		{name: "Writev nil", write: func(c Conn) (int, error) { return c.Writev(nil) }},
		{name: "Writev empty buffers", write: func(c Conn) (int, error) { return c.Writev([][]byte{nil, {}, nil}) }},
	}
	results := make(chan error, len(tests))
	h := &tbHandler{traffic: func(c Conn) Action {
		_, _ = c.Discard(c.InboundBuffered())
		for _, tt := range tests {
			n, err := tt.write(c)
			if n != 0 || err != nil || c.OutboundBuffered() != 0 {
				results <- fmt.Errorf("%s = (%d, %v) with %d bytes pending, want (0, nil), none",
					tt.name, n, err, c.OutboundBuffered())
				continue
			}
			results <- nil
		}
		_, _ = c.Write([]byte("end"))
		return None
	}}
	s := startEngine(t, h, "tcp://127.0.0.1:0", WithLoops(1))
	cl := s.dial(t)
	if err := tbEcho(cl, []byte("end"), 5*time.Second); err != nil {
		t.Fatalf("nothing but the end marker should arrive: %v", err)
	}
	for range tests {
		if err := tbRecv(t, results, 5*time.Second, "a result"); err != nil {
			t.Error(err)
		}
	}
}

// TestConnSize: the conn struct stays at 128 bytes, a size class of its
// own, so an idle connection costs what the package doc says; data that
// only some connections need (a dialed one's addresses, deadlines) lives
// out of line.
func TestConnSize(t *testing.T) {
	if got := unsafe.Sizeof(conn{}); got != 128 {
		t.Errorf("unsafe.Sizeof(conn{}) = %d, want 128", got)
	}
}
