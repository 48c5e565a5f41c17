package socket

import (
	"errors"
	"fmt"
	"runtime"
)

// What a system cannot do, decided by GOOS alone so that one test on any
// system checks the answer for every system. The engine asks before it
// starts, so an option a system cannot honour fails Run instead of being
// dropped silently.

// KeepAliveTuning returns nil where a socket's keepalive idle time,
// interval and probe count can be set (SetKeepAlive), and otherwise an
// error wrapping errors.ErrUnsupported: on OpenBSD they are system-wide
// sysctls. Safe from any goroutine.
func KeepAliveTuning() error { return keepAliveTuning(runtime.GOOS) }

func keepAliveTuning(goos string) error {
	if goos == "openbsd" {
		return fmt.Errorf("per-socket TCP keepalive timing on %s (only the net.inet.tcp.keepidle and keepintvl sysctls): %w",
			goos, errors.ErrUnsupported)
	}
	return nil
}

// ReusePortBalancing returns nil where the kernel balances connections and
// datagrams between sockets sharing a port with SetReusePort (Linux,
// FreeBSD with SO_REUSEPORT_LB, DragonFly), and otherwise an error wrapping
// errors.ErrUnsupported: darwin, NetBSD and OpenBSD let the sockets share
// the port but deliver to one of them. Safe from any goroutine.
func ReusePortBalancing() error { return reusePortBalancing(runtime.GOOS) }

func reusePortBalancing(goos string) error {
	switch goos {
	case "linux", "android", "freebsd", "dragonfly":
		return nil
	}
	return fmt.Errorf("balancing between sockets sharing a port (SO_REUSEPORT) on %s: %w", goos, errors.ErrUnsupported)
}

// abstractUnixProblem says why a unix socket name starting with '@' cannot
// be used on goos, or returns "": abstract sockets, which have no file,
// exist only on Linux (and Android, its kernel).
func abstractUnixProblem(goos string) string {
	switch goos {
	case "linux", "android":
		return ""
	}
	return fmt.Sprintf("abstract unix sockets (\"@name\") exist only on Linux, not on %s", goos)
}
