package evloop

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/evloop/evloop/internal/socket"
)

// Syscall fault matrix, socket side. A scripted seam gives one connection
// (and only it: the other connections of the loop keep the real syscalls)
// a fixed sequence of results for its read, write and writev calls. Each
// case then checks that the bytes arrived whole and in order, or that the
// connection closed with the injected errno reported to OnClose and the
// peer got a clean prefix of the stream, and that the loop served another
// client before, during and after.

// ftStep is one scripted result of a read, write or writev call.
type ftStep struct {
	max   int           // > 0: the real call moves at most max bytes
	errno syscall.Errno // non-zero: return (n, errno) without touching the socket
	n     int           // the count returned with errno
	eof   bool          // reads: return (0, nil), the end of the stream
}

// ftShort lets the real call move at most max bytes: a short read or write.
func ftShort(max int) ftStep { return ftStep{max: max} }

// ftErr fails a call the way read(2) and write(2) do: (-1, errno).
func ftErr(errno syscall.Errno) ftStep { return ftStep{errno: errno, n: -1} }

// ftErrN fails a call with a count that must be ignored alongside the error.
func ftErrN(n int, errno syscall.Errno) ftStep { return ftStep{errno: errno, n: n} }

// ftEOF makes a read return (0, nil).
func ftEOF() ftStep { return ftStep{eof: true} }

// ftIO is the scripted seam. Scripts apply to the calls on one fd, from
// arm (in OnOpen) to disarm (in OnClose, before the fd number can be
// reused); write and writev share a script, consumed in call order.
type ftIO struct {
	target atomic.Int64 // the fd under test; -1: none

	mu     sync.Mutex
	reads  []ftStep
	writes []ftStep
}

// ftInstallIO swaps the read, write and writev seams for the rest of the
// test. Call it before starting an engine: the cleanup that restores the
// seams then runs after the engine's stop.
func ftInstallIO(tb testing.TB) *ftIO {
	tb.Helper()
	f := &ftIO{}
	f.target.Store(-1)
	read, write, writev := socket.ReadFunc, socket.WriteFunc, socket.WritevFunc
	tb.Cleanup(func() { socket.ReadFunc, socket.WriteFunc, socket.WritevFunc = read, write, writev })
	socket.ReadFunc = func(fd int, p []byte) (int, error) {
		if s, ok := f.next(fd, &f.reads); ok {
			switch {
			case s.errno != 0:
				return s.n, s.errno
			case s.eof:
				return 0, nil
			case s.max > 0 && len(p) > s.max:
				p = p[:s.max]
			}
		}
		return read(fd, p)
	}
	socket.WriteFunc = func(fd int, p []byte) (int, error) {
		if s, ok := f.next(fd, &f.writes); ok {
			if s.errno != 0 {
				return s.n, s.errno
			}
			if s.max > 0 && len(p) > s.max {
				p = p[:s.max]
			}
		}
		return write(fd, p)
	}
	socket.WritevFunc = func(fd int, bufs [][]byte) (int, error) {
		if s, ok := f.next(fd, &f.writes); ok {
			if s.errno != 0 {
				return s.n, s.errno
			}
			if s.max > 0 {
				bufs = ftTruncate(bufs, s.max)
			}
		}
		return writev(fd, bufs)
	}
	return f
}

// ftTruncate returns the first max bytes of bufs as new buffer headers.
func ftTruncate(bufs [][]byte, max int) [][]byte {
	var out [][]byte
	for _, b := range bufs {
		if max == 0 {
			break
		}
		b = b[:min(len(b), max)]
		max -= len(b)
		out = append(out, b)
	}
	return out
}

// arm applies the scripts to fd from now on.
func (f *ftIO) arm(fd int, reads, writes []ftStep) {
	f.mu.Lock()
	f.reads, f.writes = append([]ftStep(nil), reads...), append([]ftStep(nil), writes...)
	f.mu.Unlock()
	f.target.Store(int64(fd))
}

// disarm stops the injection.
func (f *ftIO) disarm() { f.target.Store(-1) }

func (f *ftIO) next(fd int, script *[]ftStep) (ftStep, bool) {
	if int64(fd) != f.target.Load() {
		return ftStep{}, false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(*script) == 0 {
		return ftStep{}, false
	}
	s := (*script)[0]
	*script = (*script)[1:]
	return s, true
}

// left returns how many scripted steps were never reached.
func (f *ftIO) left() (reads, writes int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.reads), len(f.writes)
}

// ftServe is what the connection under test does.
type ftServe int

const (
	ftEchoBack  ftServe = iota // echo until the peer's EOF
	ftSendWrite                // on a request byte: one Write of the payload, then Close
	ftSendMany                 // on a request byte: one Writev of ftManyBufs buffers, then Close
)

// ftManyBufs is more buffers than IOV_MAX (1024): Conn.Writev must cut
// them into several writev calls without losing or reordering any.
const ftManyBufs = 3000

// ftTarget is the connection under test's plan, its context.
type ftTarget struct {
	serve   ftServe
	payload []byte
	bufs    [][]byte // ftSendMany: payload cut into buffers
	reads   []ftStep
	writes  []ftStep
}

// ftTargetConn is the connection under test's context: its plan, and
// whether the request was answered (loop only).
type ftTargetConn struct {
	tg       *ftTarget
	answered bool
}

// ftIOHandler echoes on every connection except the armed one, which
// follows its ftTarget with the scripted seam.
type ftIOHandler struct {
	BaseHandler
	io            *ftIO
	next          atomic.Pointer[ftTarget] // the plan of the next connection opened
	fdRule        func(fd int)             // if set, told the target's fd in OnOpen
	closed        chan error               // the target's OnClose errors
	opens, closes atomic.Int64
}

func newFTIOHandler(f *ftIO) *ftIOHandler {
	return &ftIOHandler{io: f, closed: make(chan error, 4)}
}

func (h *ftIOHandler) OnOpen(c Conn) ([]byte, Action) {
	h.opens.Add(1)
	if tg := h.next.Swap(nil); tg != nil {
		c.SetContext(&ftTargetConn{tg: tg})
		fd := int(c.(*conn).fd)
		if h.io != nil {
			h.io.arm(fd, tg.reads, tg.writes)
		}
		if h.fdRule != nil {
			h.fdRule(fd)
		}
	}
	return nil, None
}

func (h *ftIOHandler) OnTraffic(c Conn) Action {
	tc, _ := c.Context().(*ftTargetConn)
	if tc == nil || tc.tg.serve == ftEchoBack {
		return echoHandler{}.OnTraffic(c)
	}
	if _, err := c.Discard(c.InboundBuffered()); err != nil || tc.answered {
		return Close
	}
	tc.answered = true
	switch tc.tg.serve {
	case ftSendWrite:
		_, _ = c.Write(tc.tg.payload) // an error closes c with it
	case ftSendMany:
		_, _ = c.Writev(tc.tg.bufs)
	}
	return Close
}

func (h *ftIOHandler) OnClose(c Conn, err error) Action {
	h.closes.Add(1)
	if _, ok := c.Context().(*ftTargetConn); ok {
		if h.io != nil {
			h.io.disarm()
		}
		select {
		case h.closed <- err:
		default:
		}
	}
	return None
}

// ftCutBufs cuts p into n buffers of random lengths, a few of them empty.
func ftCutBufs(p []byte, n int, seed uint64) [][]byte {
	r := rand.New(rand.NewPCG(seed, 7))
	bufs := make([][]byte, 0, n)
	for i := 0; i < n-1; i++ {
		k := 0
		if r.IntN(10) > 0 {
			k = min(len(p), r.IntN(2*len(p)/(n-i)+1))
		}
		bufs = append(bufs, p[:k:k])
		p = p[k:]
	}
	return append(bufs, p)
}

// ftCheckStream compares what a client received with what was sent: all
// of it (sha256) when complete, else a prefix.
func ftCheckStream(got, want []byte, complete bool) error {
	if complete {
		if len(got) != len(want) || sha256.Sum256(got) != sha256.Sum256(want) {
			return fmt.Errorf("received %d bytes, want %d; sha256 differs (first difference at %d)", len(got), len(want), tbFirstDiff(got, want))
		}
		return nil
	}
	if len(got) > len(want) || !bytes.Equal(got, want[:len(got)]) {
		return fmt.Errorf("received %d bytes that are not a prefix of the %d sent (first difference at %d)", len(got), len(want), tbFirstDiff(got, want[:min(len(got), len(want))]))
	}
	return nil
}

// ftCheckClose checks the error OnClose gave the target: nil, or the
// injected errno inside an *os.SyscallError.
func ftCheckClose(err error, want syscall.Errno) error {
	switch {
	case want == 0 && err != nil:
		return fmt.Errorf("OnClose(%v), want nil", err)
	case want == 0:
		return nil
	case !errors.Is(err, want):
		return fmt.Errorf("OnClose(%v), want an error matching %v", err, want)
	}
	var se *os.SyscallError
	if !errors.As(err, &se) {
		return fmt.Errorf("OnClose(%v): a %T, want an *os.SyscallError", err, err)
	}
	return nil
}

// ftAwait waits for one value from ch.
func ftAwait[T any](ch <-chan T, within time.Duration) (T, bool) {
	select {
	case v := <-ch:
		return v, true
	case <-time.After(within):
		var zero T
		return zero, false
	}
}

// ftExchange runs the target's client: for a sending target, one request
// byte, then everything until EOF; for an echoing one, the payload written
// (then half-closed) while the echo is read. during runs once the request
// is out. It returns the bytes received and the read's error.
func ftExchange(nc net.Conn, tg *ftTarget, during func()) ([]byte, error) {
	if err := nc.SetDeadline(time.Now().Add(20 * time.Second)); err != nil {
		return nil, err
	}
	werr := make(chan error, 1)
	if tg.serve == ftEchoBack {
		go func() {
			for off := 0; off < len(tg.payload); off += 7 << 10 {
				if _, err := nc.Write(tg.payload[off:min(off+7<<10, len(tg.payload))]); err != nil {
					werr <- err
					return
				}
			}
			werr <- itCloseWrite(nc)
		}()
	} else {
		_, err := nc.Write([]byte{'G'})
		werr <- err
	}
	during()
	got, rerr := io.ReadAll(nc)
	nc.Close() // unblocks a writer the server stopped reading
	if err := <-werr; err != nil && rerr == nil {
		rerr = fmt.Errorf("client write: %w", err)
	}
	return got, rerr
}

// ftOther is a second client of the same loop that must keep echoing.
type ftOther struct {
	nc    net.Conn
	round int
}

func (o *ftOther) echo(tb testing.TB, when string) {
	tb.Helper()
	o.round++
	if err := tbEcho(o.nc, []byte(fmt.Sprintf("other %s %d", when, o.round)), 10*time.Second); err != nil {
		tb.Errorf("the other client %s: %v", when, err)
	}
}

// TestFaultSocketIO is the socket half of the syscall fault matrix: read,
// write and writev results injected on one connection of a single loop.
// To see it fail, make writevOnce return the count that came with EAGAIN,
// treat EINTR as fatal in writeOnce or in read, have Writev queue again
// bytes it already sent, or close a lingering connection whose flush
// failed with a nil error.
func TestFaultSocketIO(t *testing.T) {
	size := itScale(1<<20, 256<<10)
	payload := itPattern(0, size)
	bufs := ftCutBufs(payload, ftManyBufs, 1)
	type ioCase struct {
		name    string
		serve   ftServe
		reads   []ftStep
		writes  []ftStep
		wantErr syscall.Errno // 0: the whole stream arrives and OnClose gets nil
		eof     bool          // the stream ends early with OnClose(nil)
	}
	writeScripts := []struct {
		name    string
		writes  []ftStep
		wantErr syscall.Errno
	}{
		{name: "short writes", writes: []ftStep{ftShort(1), ftShort(7), ftShort(1000), ftShort(1), ftShort(3)}},
		{name: "short then EAGAIN", writes: []ftStep{ftShort(100), ftErr(syscall.EAGAIN), ftShort(5), ftErr(syscall.EAGAIN), ftErr(syscall.EAGAIN), ftShort(1)}},
		{name: "EAGAIN n=-1", writes: []ftStep{ftErr(syscall.EAGAIN), ftErr(syscall.EAGAIN), ftErr(syscall.EAGAIN)}},
		{name: "EAGAIN n=0", writes: []ftStep{ftErrN(0, syscall.EAGAIN), ftShort(9), ftErrN(0, syscall.EAGAIN)}},
		{name: "EAGAIN with a count", writes: []ftStep{ftErrN(7, syscall.EAGAIN), ftShort(11), ftErrN(4096, syscall.EAGAIN)}},
		{name: "EINTR", writes: []ftStep{ftErr(syscall.EINTR), ftShort(10), ftErr(syscall.EINTR), ftErr(syscall.EINTR), ftErr(syscall.EINTR)}},
		{name: "ENOBUFS", writes: []ftStep{ftShort(100), ftErr(syscall.ENOBUFS)}, wantErr: syscall.ENOBUFS},
		{name: "ECONNRESET", writes: []ftStep{ftShort(100), ftErr(syscall.EAGAIN), ftErr(syscall.ECONNRESET)}, wantErr: syscall.ECONNRESET},
		{name: "EPIPE", writes: []ftStep{ftErr(syscall.EPIPE)}, wantErr: syscall.EPIPE},
		{name: "EPIPE after short writes", writes: []ftStep{ftShort(1), ftShort(4096), ftErr(syscall.EINTR), ftErr(syscall.EPIPE)}, wantErr: syscall.EPIPE},
	}
	var cases []ioCase
	for _, mode := range []struct {
		name  string
		serve ftServe
	}{{"write", ftSendWrite}, {"writev 3000 buffers", ftSendMany}} {
		for _, ws := range writeScripts {
			cases = append(cases, ioCase{name: mode.name + "/" + ws.name, serve: mode.serve, writes: ws.writes, wantErr: ws.wantErr})
		}
	}
	cases = append(cases,
		ioCase{name: "writev 3000 buffers/no fault", serve: ftSendMany},
		ioCase{name: "read/EINTR", serve: ftEchoBack, reads: []ftStep{ftErr(syscall.EINTR), ftShort(1), ftErr(syscall.EINTR), ftErr(syscall.EINTR), ftShort(100)}},
		ioCase{name: "read/EAGAIN", serve: ftEchoBack, reads: []ftStep{ftErr(syscall.EAGAIN), ftShort(3), ftErrN(0, syscall.EAGAIN)}},
		ioCase{name: "read/(0, nil)", serve: ftEchoBack, reads: []ftStep{ftShort(10), ftEOF()}, eof: true},
		ioCase{name: "read/ECONNRESET", serve: ftEchoBack, reads: []ftStep{ftShort(1000), ftErr(syscall.ECONNRESET)}, wantErr: syscall.ECONNRESET},
		ioCase{name: "read/ETIMEDOUT", serve: ftEchoBack, reads: []ftStep{ftErr(syscall.EINTR), ftErr(syscall.ETIMEDOUT)}, wantErr: syscall.ETIMEDOUT},
	)

	f := ftInstallIO(t)
	h := newFTIOHandler(f)
	s := startEngine(t, h, "tcp://127.0.0.1:0", WithLoops(1), WithLogger(tbQuietLogger()))
	other := &ftOther{nc: s.dial(t)}
	other.echo(t, "before")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tg := &ftTarget{serve: tc.serve, payload: payload, bufs: bufs, reads: tc.reads, writes: tc.writes}
			h.next.Store(tg)
			nc := s.dial(t)
			got, rerr := ftExchange(nc, tg, func() { other.echo(t, "during") })
			closeErr, ok := ftAwait(h.closed, 10*time.Second)
			if !ok {
				t.Fatalf("no OnClose for the connection under test within 10s (client read %d bytes, %v)", len(got), rerr)
			}
			complete := tc.wantErr == 0 && !tc.eof
			if complete && rerr != nil {
				t.Errorf("client read %d bytes, then %v; want the whole stream and EOF", len(got), rerr)
			}
			if err := ftCheckStream(got, payload, complete); err != nil {
				t.Error(err)
			}
			if err := ftCheckClose(closeErr, tc.wantErr); err != nil {
				t.Error(err)
			}
			if r, w := f.left(); r != 0 || w != 0 {
				t.Errorf("%d read and %d write steps of the script were never reached", r, w)
			}
			if _, again := ftAwait(h.closed, 20*time.Millisecond); again {
				t.Error("OnClose ran twice for the connection under test")
			}
			other.echo(t, "after")
			if err := tbEcho(s.dial(t), []byte("a new client"), 10*time.Second); err != nil {
				t.Errorf("a new client after the fault: %v", err)
			}
		})
	}
	other.nc.Close()
	s.stop(t)
	if o, c := h.opens.Load(), h.closes.Load(); o != c {
		t.Errorf("OnOpen ran %d times, OnClose %d times", o, c)
	}
	if p := s.eng.Stats().Panics; p != 0 {
		t.Errorf("Stats().Panics = %d, want 0", p)
	}
}
