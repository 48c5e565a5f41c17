package socket

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"strconv"
	"strings"
)

// ParseAddr splits an evloop address string into a Go network and address.
//
//	"tcp://127.0.0.1:9000" -> ("tcp", "127.0.0.1:9000")
//	"127.0.0.1:9000"       -> ("tcp", "127.0.0.1:9000")  no scheme means tcp
//	"[::1]:9000"           -> ("tcp", "[::1]:9000")
//	"udp6://[::1]:53"      -> ("udp6", "[::1]:53")
//	"unix:///tmp/x.sock"   -> ("unix", "/tmp/x.sock")
//	"unix://@name"         -> ("unix", "@name")          Linux abstract socket (an error elsewhere)
//
// Schemes are tcp, tcp4, tcp6, udp, udp4, udp6, unix, unixgram and
// unixpacket (package net's network names), matched without regard to
// case; which of them a caller serves is its own decision (see IsStream). Inet addresses need a numeric port in 0..65535 (0 asks for
// an ephemeral port); the host may be empty, a name, an IPv4 address or a
// bracketed IPv6 address with an optional zone. Host names are not resolved
// here. Errors wrap ErrBadAddress and quote the input.
//
// ParseAddr is a pure function, safe from any goroutine.
func ParseAddr(s string) (network, address string, err error) {
	network, address = "tcp", s
	if scheme, rest, ok := strings.Cut(s, "://"); ok {
		network, address = strings.ToLower(scheme), rest
	}
	switch network {
	case "tcp", "tcp4", "tcp6", "udp", "udp4", "udp6":
		if p := hostPortProblem(address); p != "" {
			return "", "", fmt.Errorf("%w %q: %s", ErrBadAddress, s, p)
		}
	case "unix", "unixgram", "unixpacket":
		if p := unixPathProblem(address); p != "" {
			return "", "", fmt.Errorf("%w %q: %s", ErrBadAddress, s, p)
		}
	default:
		return "", "", fmt.Errorf("%w %q: unknown scheme %q", ErrBadAddress, s, network)
	}
	return network, address, nil
}

// IsStream reports whether network is connection-oriented (tcp, tcp4, tcp6,
// unix), so a listener needs listen(2) and connections need accept(2).
// Safe from any goroutine.
func IsStream(network string) bool {
	switch network {
	case "tcp", "tcp4", "tcp6", "unix":
		return true
	}
	return false
}

// hostPortProblem describes what is wrong with an inet address, or returns
// "" when it is usable; ParseAddr adds the sentinel and the input so every
// message has the same shape.
func hostPortProblem(address string) string {
	if address == "" {
		return "empty address"
	}
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return splitProblem(address, err)
	}
	if port == "" {
		return "missing port"
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Sprintf("port %q is not a number in 0..65535", port)
	}
	if strings.HasPrefix(address, "[") {
		if _, err := netip.ParseAddr(host); err != nil || !strings.Contains(host, ":") {
			return fmt.Sprintf("%q in brackets is not an IPv6 address", host)
		}
	}
	return ""
}

// splitProblem turns net.SplitHostPort's failures into messages that tell
// the user what to write instead.
func splitProblem(address string, err error) string {
	switch {
	case strings.Count(address, "[") != strings.Count(address, "]"):
		return "unbalanced IPv6 brackets"
	case strings.Count(address, ":") > 1 && !strings.HasPrefix(address, "["):
		return "IPv6 address must be in brackets, as [::1]:port"
	case !strings.Contains(address, ":"):
		return "missing port"
	}
	var ae *net.AddrError
	if errors.As(err, &ae) {
		return ae.Err
	}
	return err.Error()
}

func unixPathProblem(path string) string {
	return unixPathProblemOn(runtime.GOOS, path)
}

func unixPathProblemOn(goos, path string) string {
	switch {
	case path == "":
		return "empty unix socket path"
	case path == "@":
		return "empty abstract socket name"
	case strings.IndexByte(path, 0) >= 0:
		return "unix socket path contains a NUL byte"
	case path[0] == '@':
		return abstractUnixProblem(goos)
	}
	return ""
}
