package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
)

// contestant is one server binary of the benchmark.
type contestant struct {
	name   string   // in tables
	bin    string   // binary name in -bin, or in PATH with install
	protos []string // what its -proto accepts
	// native marks a server that is not a Go program: it has no Go memory
	// statistics (allocations, heap and stacks are not measured). cepoll
	// accepts -stats and ignores it; run.sh builds it only where a C
	// compiler exists, and without its binary the runner skips it.
	native bool
	// args, when set, is the server's own command line (after the
	// program) for listening on host:port with loops loops, instead of the
	// contestants' flags (-proto, -addr, -loops, -stats). Such a server
	// writes no statistics file: its memory statistics are not asked for,
	// and not measured, as a native server's.
	args func(host, port string, loops int) []string
	// install, when set, says how to install bin: a program of the
	// machine, looked up in PATH, not one run.sh builds. Without it the
	// runner skips the contestant and says so.
	install string
	// tlsProtos are the protocols it also serves over TLS, given -tls (a
	// self-signed certificate made at start, package tlscert).
	tlsProtos []string
}

var contestants = []contestant{
	{name: "evloop", bin: "evloop", protos: []string{"echo", "http", "udp"}, tlsProtos: []string{"echo", "http"}},
	{name: "evloop-async", bin: "evloopasync", protos: []string{"echo", "http"}},
	// The evloop contestant built with -tags evloop_portable: the same
	// engine over package net, as on Windows.
	{name: "evloop-portable", bin: "evloopportable", protos: []string{"echo", "http"}},
	{name: "stdnet", bin: "stdnet", protos: []string{"echo", "http", "udp"}, tlsProtos: []string{"echo", "http"}},
	{name: "nethttp", bin: "nethttp", protos: []string{"http"}},
	{name: "fasthttp", bin: "fasthttp", protos: []string{"http"}},
	{name: "netpoll", bin: "netpoll", protos: []string{"echo", "http"}},
	{name: "gnet", bin: "gnet", protos: []string{"echo", "http", "udp"}},
	{name: "nbio", bin: "nbio", protos: []string{"echo", "http"}, tlsProtos: []string{"echo"}},
	{name: "nbhttp", bin: "nbhttp", protos: []string{"http"}, tlsProtos: []string{"http"}},
	{name: "evio", bin: "evio", protos: []string{"echo", "http"}},
	{name: "cepoll", bin: "cepoll", protos: []string{"echo", "http"}, native: true},
	// The Redis protocol: evloop's example server (examples/redis), the
	// redcon library, and Redis itself.
	{name: "evloop-redis", bin: "evloopredis", protos: []string{"resp"}, args: exampleArgs},
	{name: "redcon", bin: "redcon", protos: []string{"resp"}},
	{name: "redis-server", bin: "redis-server", protos: []string{"resp"}, native: true, args: redisArgs,
		install: "apt-get install -y redis-server"},
}

// exampleArgs is the command line of an example server (examples/redis):
// its -addr takes a scheme, and it has no -proto or -stats.
func exampleArgs(host, port string, loops int) []string {
	return []string{"-addr", "tcp://" + net.JoinHostPort(host, port), "-loops", strconv.Itoa(loops)}
}

// redisArgs is redis-server's command line: nothing saved to disk, in the
// foreground, only warnings logged. Redis runs commands on one thread
// (io-threads 1, its default), whatever loops says.
func redisArgs(host, port string, _ int) []string {
	return []string{"--port", port, "--bind", host, "--save", "", "--appendonly", "no",
		"--protected-mode", "no", "--daemonize", "no", "--loglevel", "warning"}
}

func (c contestant) speaks(proto string) bool { return slices.Contains(c.protos, proto) }

// runs reports whether c takes part in s: it speaks s's protocol, over TLS
// when s is a TLS scenario.
func (c contestant) runs(s scenario) bool {
	if s.tls {
		return slices.Contains(c.tlsProtos, s.proto())
	}
	return c.speaks(s.proto())
}

// memStats reports whether the runner asks c for its Go memory statistics.
func (c contestant) memStats() bool { return !c.native && c.args == nil }

// path is c's program: in PATH for one installed on the machine, in bin
// for one run.sh builds. The error says when it is not there.
func (c contestant) path(bin string) (string, error) {
	if c.install != "" {
		return exec.LookPath(c.bin)
	}
	p := filepath.Join(bin, c.bin)
	_, err := os.Stat(p)
	return p, err
}

// command is the command line that starts c, its program at path, serving
// proto on addr (host:port) with loops loops and writing its statistics
// to stats.
// With useTLS it serves proto over TLS (-tls).
func (c contestant) command(path, proto string, useTLS bool, addr string, loops int, stats string) ([]string, error) {
	if c.args == nil {
		argv := []string{path, "-proto", proto, "-addr", addr, "-loops", strconv.Itoa(loops), "-stats", stats}
		if useTLS {
			argv = append(argv, "-tls")
		}
		return argv, nil
	}
	if useTLS {
		return nil, fmt.Errorf("%s does not serve TLS", c.name)
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	return append([]string{path}, c.args(host, port, loops)...), nil
}

// scenario is one load (or idle) shape.
type scenario struct {
	name     string
	kind     string // "echo", "http", "idle", "mixed", "udp", "resp", "tls-echo" or "https"
	conns    int    // connections; for udp, connected UDP sockets
	size     int    // echo message, datagram or RESP value bytes
	pipeline int    // messages, requests, datagrams or commands in flight per connection
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
	// tls: the servers serve over TLS and the load speaks it (kinds
	// tls-echo and https, and idle connections that completed a
	// handshake); only contestants with tlsProtos take part.
	tls bool
}

// proto is the protocol the servers speak in s: idle connections are held
// on HTTP servers, which every contestant but the RESP ones is; udp is
// echo of datagrams, which only some contestants speak; resp is Redis's
// SET and GET, which only the RESP servers speak. tls-echo and https are
// echo and http over TLS.
func (s scenario) proto() string {
	switch s.kind {
	case "echo", "mixed", "tls-echo":
		return "echo"
	case "udp", "resp":
		return s.kind
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
	{name: "resp-c50", kind: "resp", conns: 50, size: 64, pipeline: 1, quick: true, full: true},
	{name: "resp-c50-p16", kind: "resp", conns: 50, size: 64, pipeline: 16, full: true},
	// TLS: echo and HTTP plaintext over TLS, keep-alive, each connection's
	// handshake made once before the warm-up.
	{name: "tls-echo-1KiB-c50", kind: "tls-echo", conns: 50, size: 1 << 10, pipeline: 1, quick: true, full: true, tls: true},
	{name: "https-c100", kind: "https", conns: 100, pipeline: 1, full: true, tls: true},
	{name: "mixed-c100-f4", kind: "mixed", conns: 100, size: 64, pipeline: 1, firehoses: 4, firehoseSize: 64 << 10, full: true},
	// Idle TLS connections, each after a completed handshake.
	{name: "idle-tls-c5000", kind: "idle", conns: 5000, full: true, tls: true},
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
