// Package cli is the main function the example servers share: parse
// the command line, serve until SIGINT or SIGTERM, report the address.
package cli

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"
)

// Main runs an example command named name. parse reads os.Args[1:] into a
// config, writing usage and errors to stderr: a bad command line exits 2.
// serve then runs until SIGINT or SIGTERM ends its context (after the
// first signal the default handling is back, so a second one kills a
// server whose graceful stop hangs); it calls ready once with the bound
// address, which Main announces as "<name> listening on
// <network>://<address>". An error from serve is printed and exits 1.
func Main[C any](name string, parse func(args []string, output io.Writer) (C, error),
	serve func(ctx context.Context, cfg C, ready func(net.Addr)) error) {
	cfg, err := parse(os.Args[1:], os.Stderr)
	if err != nil {
		os.Exit(2) // the flag package has already printed the problem and the usage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	context.AfterFunc(ctx, stop)
	err = serve(ctx, cfg, func(addr net.Addr) {
		fmt.Printf("%s listening on %s://%s\n", name, addr.Network(), addr)
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		stop()
		os.Exit(1)
	}
}
