// Command gnet is the panjf2000/gnet/v2 contestant, configured like the
// evloop contestant: -loops event loops behind one acceptor (no
// SO_REUSEPORT, evloop's default), SO_REUSEADDR, round-robin, TCP_NODELAY on, gnet's
// default 64 KiB buffers, and the reply written on the loop inside
// OnTraffic. For udp, -loops event loops each with its own SO_REUSEPORT
// socket (gnet needs SO_REUSEPORT for UDP, and enables it itself), as the
// evloop contestant's. gnet logs through its own logger; only its warnings
// and errors are kept, as evloop's are.
package main

import (
	"fmt"
	"os"
	"sync"

	"github.com/panjf2000/gnet/v2"

	"github.com/evloop/evloop/benchmarks/internal/plaintext"
	"github.com/evloop/evloop/benchmarks/internal/server"
)

const (
	batchSize = 4 << 10 // sixteen pipelined responses fit without growing
	maxBatch  = 1 << 20 // a batch grown past this is left to the GC
)

type echo struct{ gnet.BuiltinEventEngine }

// OnTraffic writes back what arrived: Next(-1) is a view of the loop's
// read buffer when nothing was left over from an earlier event, and Write
// copies only what the socket does not take now.
func (*echo) OnTraffic(c gnet.Conn) gnet.Action {
	in, _ := c.Next(-1)
	if _, err := c.Write(in); err != nil {
		return gnet.Close
	}
	return gnet.None
}

// udpRecvBuffer is SO_RCVBUF for the udp sockets, as the evloop
// contestant's (the kernel caps it at net.core.rmem_max).
const udpRecvBuffer = 4 << 20

// udpEcho sends every datagram back to its sender. gnet makes one recvfrom
// per readable event and calls OnTraffic with a Conn for that datagram's
// sender; Next(-1) is the datagram (a view of the loop's buffer) and Write
// sends the reply at once with one sendto. A reply that cannot be sent is
// lost, as a datagram may be; gnet ignores Close for a datagram.
type udpEcho struct{ gnet.BuiltinEventEngine }

func (*udpEcho) OnTraffic(c gnet.Conn) gnet.Action {
	in, _ := c.Next(-1)
	_, _ = c.Write(in)
	return gnet.None
}

type http struct {
	gnet.BuiltinEventEngine
	dates *plaintext.Dates
	// batches holds *[]byte response buffers, as in the evloop contestant.
	batches sync.Pool
}

func (h *http) OnTraffic(c gnet.Conn) gnet.Action {
	in, _ := c.Peek(-1)
	bp := h.batches.Get().(*[]byte)
	out, used, keepAlive := plaintext.Answer((*bp)[:0], in, h.dates.Get())
	_, err := c.Write(out) // copies what the socket does not take now
	if cap(out) <= maxBatch {
		*bp = out[:0]
		h.batches.Put(bp)
	}
	if err != nil || !keepAlive {
		return gnet.Close
	}
	// Discard(0) would drop everything buffered, the partial request
	// included: only a used prefix is discarded.
	if used > 0 {
		_, _ = c.Discard(used)
	}
	return gnet.None
}

// quietLogger drops gnet's debug and info lines (one per start) and keeps
// warnings and errors on stderr, which the runner keeps in the run's log.
type quietLogger struct{}

func (quietLogger) Debugf(string, ...any) {}
func (quietLogger) Infof(string, ...any)  {}
func (quietLogger) Warnf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "gnet: warning: "+format+"\n", args...)
}
func (quietLogger) Errorf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "gnet: error: "+format+"\n", args...)
}
func (quietLogger) Fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "gnet: fatal: "+format+"\n", args...)
	os.Exit(1)
}

func main() {
	cfg := server.Setup("gnet", "echo", "http", "udp")
	if cfg.Proto == "udp" {
		err := gnet.Run(&udpEcho{}, "udp://"+cfg.Addr,
			gnet.WithMulticore(true),
			gnet.WithNumEventLoop(cfg.Loops),
			gnet.WithReusePort(true), // gnet sets it for UDP anyway: one socket per loop
			gnet.WithSocketRecvBuffer(udpRecvBuffer),
			gnet.WithLogger(quietLogger{}),
		)
		server.Fatal("gnet", err)
	}
	var h gnet.EventHandler = &echo{}
	if cfg.Proto == "http" {
		hh := &http{dates: plaintext.StartDates()}
		hh.batches.New = func() any {
			b := make([]byte, 0, batchSize)
			return &b
		}
		h = hh
	}
	err := gnet.Run(h, "tcp://"+cfg.Addr,
		gnet.WithMulticore(true),
		gnet.WithNumEventLoop(cfg.Loops),
		gnet.WithReusePort(false),
		gnet.WithReuseAddr(true), // evloop's default
		gnet.WithLoadBalancing(gnet.RoundRobin),
		gnet.WithTCPNoDelay(gnet.TCPNoDelay),
		gnet.WithLogger(quietLogger{}),
	)
	server.Fatal("gnet", err)
}
