package main

import (
	"math"

	"github.com/evloop/evloop/examples/redis/resp"
)

// The connection commands.

// PING [message]
func cmdPing(r *request) {
	switch len(r.args) {
	case 1:
		r.simple("PONG")
	case 2:
		r.bulk(r.args[1])
	default:
		r.failArity("ping")
	}
}

// ECHO message
func cmdEcho(r *request) { r.bulk(r.args[1]) }

// SELECT index: this server has one database, 0, so any other index is
// out of range (Redis has 16 by default).
func cmdSelect(r *request) {
	n, ok := resp.ParseInt(r.args[1])
	switch {
	case !ok:
		r.fail(errNotInteger)
	case n < math.MinInt32 || n > math.MaxInt32:
		r.fail(errIntRange)
	case n != 0:
		r.fail(errDBIndex)
	default:
		r.ok()
	}
}

// QUIT: reply OK, then close once the reply is sent; commands pipelined
// after it are not run.
func cmdQuit(r *request) {
	r.ok()
	r.quit = true
}

// CLIENT SETNAME name: printable ASCII without spaces; empty removes it.
func cmdClientSetName(r *request) {
	name := r.args[2]
	for _, c := range name {
		if c < '!' || c > '~' {
			r.fail(errClientName)
			return
		}
	}
	if len(name) == 0 {
		r.cl.name = nil
	} else {
		// The one allocation of a connection's name; the bytes are a view
		// into the inbound buffer, which is about to be reused.
		r.cl.name = append(r.cl.name[:0:0], name...)
	}
	r.ok()
}

// CLIENT GETNAME
func cmdClientGetName(r *request) {
	if r.cl.name == nil {
		r.null()
		return
	}
	r.bulk(r.cl.name)
}

// CLIENT HELP
func cmdClientHelp(r *request) {
	help(r, "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"GETNAME",
		"    Return the name of the current connection.",
		"SETNAME <connection-name>",
		"    Assign the name <connection-name> to the current connection.",
		"HELP",
		"    Prints this help.")
}

// help appends a HELP reply: one simple string per line, as Redis sends.
func help(r *request, lines ...string) {
	r.array(len(lines))
	for _, l := range lines {
		r.simple(l)
	}
}
