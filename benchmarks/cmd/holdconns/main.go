// Command holdconns opens -conns idle connections and holds them, so that
// the memory a server spends per idle connection can be measured. Once all
// are open it prints {"event":"held","conns":N} on stdout; it then holds
// them until SIGINT, SIGTERM or -max passes, and exits 0 if the server
// closed none of them. Beyond 20,000 connections it spreads
// them over the source addresses 127.0.0.2, 127.0.0.3 ...
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/evloop/evloop/benchmarks/internal/netx"
	"github.com/evloop/evloop/benchmarks/internal/server"
)

type report struct {
	Event string `json:"event"`
	Conns int    `json:"conns"`
	Error string `json:"error,omitempty"`
}

func main() {
	addr := flag.String("addr", "127.0.0.1:9000", "server address")
	n := flag.Int("conns", 10000, "connections to open and hold")
	parallel := flag.Int("dial-parallel", 128, "dials in progress at once")
	timeout := flag.Duration("timeout", 10*time.Second, "how long one dial may take")
	maxHold := flag.Duration("max", 10*time.Minute, "the longest it holds the connections")
	flag.Parse()
	if *n < 1 || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "holdconns: -conns must be positive, and no arguments")
		os.Exit(2)
	}
	if err := run(*addr, *n, *parallel, *timeout, *maxHold); err != nil {
		out, _ := json.Marshal(report{Event: "error", Error: err.Error()})
		fmt.Println(string(out))
		os.Exit(1)
	}
}

func run(addr string, n, parallel int, timeout, maxHold time.Duration) error {
	if err := server.RaiseFileLimit(); err != nil {
		return err
	}
	conns, err := netx.DialAll(addr, n, parallel, netx.Sources(n), timeout)
	if err != nil {
		return err
	}
	defer func() {
		for _, c := range conns {
			_ = c.Close()
		}
	}()
	out, _ := json.Marshal(report{Event: "held", Conns: len(conns)})
	fmt.Println(string(out))

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	select {
	case <-stop:
	case <-time.After(maxHold):
	}
	return stillOpen(conns)
}

// stillOpen checks that the server closed none of the connections, with a
// non-blocking peek on each: EAGAIN means open and idle.
func stillOpen(conns []net.Conn) error {
	var buf [1]byte
	closed := 0
	for _, c := range conns {
		rc, err := c.(*net.TCPConn).SyscallConn()
		if err != nil {
			return err
		}
		var n int
		var rerr error
		if err := rc.Control(func(fd uintptr) {
			n, _, rerr = unix.Recvfrom(int(fd), buf[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
		}); err != nil {
			return err
		}
		if !errors.Is(rerr, unix.EAGAIN) || n > 0 {
			closed++
		}
	}
	if closed > 0 {
		return fmt.Errorf("the server closed or wrote to %d of %d idle connections", closed, len(conns))
	}
	return nil
}
