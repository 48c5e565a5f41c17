package main

import (
	"fmt"
	"slices"
)

// contestant is one server binary of the benchmark.
type contestant struct {
	name   string   // in tables
	bin    string   // binary name in -bin
	protos []string // what its -proto accepts
	// native marks a server that is not a Go program: it accepts -stats
	// but has no Go memory statistics to write (allocations, heap and
	// stacks are not measured), and run.sh builds it only where a C
	// compiler exists; without its binary the runner skips it.
	native bool
}

var contestants = []contestant{
	{name: "evloop", bin: "evloop", protos: []string{"echo", "http", "udp"}},
	{name: "evloop-async", bin: "evloopasync", protos: []string{"echo", "http"}},
	{name: "stdnet", bin: "stdnet", protos: []string{"echo", "http", "udp"}},
	{name: "nethttp", bin: "nethttp", protos: []string{"http"}},
	{name: "fasthttp", bin: "fasthttp", protos: []string{"http"}},
	{name: "netpoll", bin: "netpoll", protos: []string{"echo", "http"}},
	{name: "gnet", bin: "gnet", protos: []string{"echo", "http", "udp"}},
	{name: "nbio", bin: "nbio", protos: []string{"echo", "http"}},
	{name: "nbhttp", bin: "nbhttp", protos: []string{"http"}},
	{name: "evio", bin: "evio", protos: []string{"echo", "http"}},
	{name: "cepoll", bin: "cepoll", protos: []string{"echo", "http"}, native: true},
}

func (c contestant) speaks(proto string) bool { return slices.Contains(c.protos, proto) }

// scenario is one load (or idle) shape.
type scenario struct {
	name     string
	kind     string // "echo", "http", "idle", "mixed" or "udp"
	conns    int    // connections; for udp, connected UDP sockets
	size     int    // echo message or datagram bytes
	pipeline int    // messages, requests or datagrams in flight per connection
	// mixed: echoload's conns run alone, then next to firehoses
	// connections of cmd/firehose, each writing firehoseSize byte messages.
	firehoses, firehoseSize int
	quick                   bool
	full                    bool
	// exchange: idle connections each make one request first
	// (holdconns -exchange), so what a server keeps after serving a
	// connection counts too.
	exchange bool
	// fullIfFiles leaves s out of the full set where the descriptor hard
	// limit is too low for it (tooFewFiles); -scenario still asks for it.
	fullIfFiles bool
}

// proto is the protocol the servers speak in s: idle connections are held
// on HTTP servers, which every contestant is; udp is echo of datagrams,
// which only some contestants speak.
func (s scenario) proto() string {
	switch s.kind {
	case "echo", "mixed":
		return "echo"
	case "udp":
		return "udp"
	}
	return "http"
}

var scenarios = []scenario{
	{name: "echo-64B-c50", kind: "echo", conns: 50, size: 64, pipeline: 1, quick: true, full: true},
	{name: "echo-4KiB-c50", kind: "echo", conns: 50, size: 4 << 10, pipeline: 1, full: true},
	{name: "echo-64B-c1000", kind: "echo", conns: 1000, size: 64, pipeline: 1, full: true},
	{name: "echo-1KiB-c10000", kind: "echo", conns: 10000, size: 1 << 10, pipeline: 1, full: true},
	{name: "echo-64B-c50-p16", kind: "echo", conns: 50, size: 64, pipeline: 16, full: true},
	{name: "http-c100", kind: "http", conns: 100, pipeline: 1, quick: true, full: true},
	{name: "http-c100-p16", kind: "http", conns: 100, pipeline: 16, quick: true, full: true},
	{name: "udp-64B-c50-p8", kind: "udp", conns: 50, size: 64, pipeline: 8, quick: true, full: true},
	{name: "mixed-c100-f4", kind: "mixed", conns: 100, size: 64, pipeline: 1, firehoses: 4, firehoseSize: 64 << 10, full: true},
	{name: "idle-c1000", kind: "idle", conns: 1000, quick: true},
	{name: "idle-c10000", kind: "idle", conns: 10000, full: true},
	{name: "idle-c10000-x1", kind: "idle", conns: 10000, exchange: true, full: true},
	// 19,000 fits a hard descriptor limit of 20,000 (tooFewFiles).
	{name: "idle-c19000", kind: "idle", conns: 19000, full: true},
	{name: "idle-c100000", kind: "idle", conns: 100000, full: true, fullIfFiles: true},
}

// spareFiles is how many descriptors a scenario allows a process for what
// is not a connection: the Go runtime's, each loop's epoll and eventfd, the
// listener, the statistics file. Every contestant holds at most 16 with 2
// loops, cmd/holdconns fewer than 10.
const spareFiles = 200

// filesNeeded is the RLIMIT_NOFILE hard limit s needs: the server holds a
// descriptor per connection, and so does the load generator (a separate
// process, with the same limit, inherited from the runner).
func (s scenario) filesNeeded() uint64 { return uint64(s.conns + spareFiles) }

// tooFewFiles says why s cannot run under the descriptor hard limit, or ""
// when it can.
func tooFewFiles(s scenario, limit uint64) string {
	need := s.filesNeeded()
	if limit >= need {
		return ""
	}
	return fmt.Sprintf("%d connections need an RLIMIT_NOFILE hard limit of at least %d (a descriptor per connection in the server and in the load generator, and %d more), but the hard limit here is %d and raising it needs CAP_SYS_RESOURCE",
		s.conns, need, spareFiles, limit)
}

// mode is how processes are placed on the CPUs.
type mode struct {
	name       string
	serverCPUs string // taskset list for the server, "" for none
	loadCPUs   string // taskset list for the load generator
	loops      int    // -loops for the server
	threads    int    // wrk threads
}
