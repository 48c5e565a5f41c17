// Package server is what every contestant's main shares besides the
// per-request work: the command line (-proto echo|http|udp|resp, -tls, -addr,
// -loops, -stats), the file-descriptor limit, and the memory statistics the runner
// asks for with a signal.
package server

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"syscall"

	"golang.org/x/sys/unix"
)

// Config is the command line every contestant accepts.
type Config struct {
	Proto string // "echo", "http", "udp" (echo of datagrams) or "resp" (Redis's SET and GET)
	Addr  string // host:port, TCP, or UDP for "udp"
	Loops int    // event loops, pollers or GOMAXPROCS, depending on the contestant
	Stats string // file the statistics are written to on SIGUSR1 and SIGUSR2
	// TLS: serve echo or http over TLS, with a self-signed certificate
	// made at start (package tlscert). Only contestants that call
	// SetupTLS accept it.
	TLS bool
}

// Setup parses the command line of the contestant called name, which speaks
// the given protocols, raises the file-descriptor limit and starts answering
// statistics requests. It exits the process on a bad command line.
func Setup(name string, protos ...string) Config {
	return setup(name, nil, protos)
}

// SetupTLS is Setup for a contestant that also serves the protocols
// tlsProtos over TLS when given -tls.
func SetupTLS(name string, tlsProtos []string, protos ...string) Config {
	return setup(name, tlsProtos, protos)
}

func setup(name string, tlsProtos, protos []string) Config {
	fs := flag.NewFlagSet(name, flag.ExitOnError)
	var cfg Config
	if tlsProtos != nil {
		fs.BoolVar(&cfg.TLS, "tls", false, fmt.Sprintf("serve over TLS (one of %v) with a self-signed certificate", tlsProtos))
	}
	fs.StringVar(&cfg.Proto, "proto", protos[0], fmt.Sprintf("protocol: one of %v", protos))
	fs.StringVar(&cfg.Addr, "addr", "127.0.0.1:9000", "address to listen on (TCP; UDP with -proto udp)")
	fs.IntVar(&cfg.Loops, "loops", runtime.GOMAXPROCS(0), "number of event loops (pollers)")
	fs.StringVar(&cfg.Stats, "stats", "", "file to write memory statistics to on SIGUSR1 (as is) and SIGUSR2 (after a GC)")
	_ = fs.Parse(os.Args[1:]) // ExitOnError: a bad flag has already exited
	switch {
	case fs.NArg() > 0:
		fail(name, fmt.Errorf("unexpected arguments %q", fs.Args()))
	case !slices.Contains(protos, cfg.Proto):
		fail(name, fmt.Errorf("-proto %q: %s speaks %v", cfg.Proto, name, protos))
	case cfg.TLS && !slices.Contains(tlsProtos, cfg.Proto):
		fail(name, fmt.Errorf("-proto %q: %s speaks %v over TLS", cfg.Proto, name, tlsProtos))
	case cfg.Loops < 1:
		fail(name, fmt.Errorf("-loops must be positive, got %d", cfg.Loops))
	}
	if err := RaiseFileLimit(); err != nil {
		fail(name, err)
	}
	if cfg.Stats != "" {
		go answerStats(cfg.Stats)
	}
	return cfg
}

// Fatal reports err as the contestant's failure and exits.
func Fatal(name string, err error) { fail(name, err) }

func fail(name string, err error) {
	fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
	os.Exit(1)
}

// RaiseFileLimit raises RLIMIT_NOFILE's soft limit to the hard limit: tens
// of thousands of connections need as many descriptors.
func RaiseFileLimit() error {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("getrlimit: %w", err)
	}
	if lim.Cur == lim.Max {
		return nil
	}
	lim.Cur = lim.Max
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("setrlimit: %w", err)
	}
	return nil
}

// Stats is what a contestant reports about its memory. Byte counts come
// from runtime.MemStats.
type Stats struct {
	HeapAlloc  uint64 `json:"heap_alloc"`  // bytes of live (after a GC) and not yet swept heap objects
	HeapInuse  uint64 `json:"heap_inuse"`  // bytes in in-use heap spans
	HeapIdle   uint64 `json:"heap_idle"`   // bytes in idle heap spans, returned to the OS or not
	HeapFreed  uint64 `json:"heap_freed"`  // bytes of idle spans returned to the OS
	TotalAlloc uint64 `json:"total_alloc"` // bytes allocated since start
	StackInuse uint64 `json:"stack_inuse"` // bytes of goroutine stacks
	Sys        uint64 `json:"sys"`         // bytes obtained from the OS
	Mallocs    uint64 `json:"mallocs"`     // heap objects allocated since start
	NumGC      uint32 `json:"num_gc"`
	Goroutines int    `json:"goroutines"`
}

// answerStats writes the statistics to path whenever SIGUSR1 (as they are)
// or SIGUSR2 (after a full GC, for live-heap figures) arrives. The file is
// replaced by a rename, so a reader never sees half of it.
func answerStats(path string) {
	sig := make(chan os.Signal, 4)
	signal.Notify(sig, syscall.SIGUSR1, syscall.SIGUSR2)
	for s := range sig {
		if s == syscall.SIGUSR2 {
			runtime.GC()
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		st := Stats{
			HeapAlloc:  ms.HeapAlloc,
			HeapInuse:  ms.HeapInuse,
			HeapIdle:   ms.HeapIdle,
			HeapFreed:  ms.HeapReleased,
			TotalAlloc: ms.TotalAlloc,
			StackInuse: ms.StackInuse,
			Sys:        ms.Sys,
			Mallocs:    ms.Mallocs,
			NumGC:      ms.NumGC,
			Goroutines: runtime.NumGoroutine(),
		}
		b, _ := json.Marshal(st) // plain integers: cannot fail
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, b, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "stats:", err)
			continue
		}
		if err := os.Rename(tmp, path); err != nil {
			fmt.Fprintln(os.Stderr, "stats:", err)
		}
	}
}
