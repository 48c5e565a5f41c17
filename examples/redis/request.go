package main

import (
	"bytes"

	"github.com/evloop/evloop/examples/redis/resp"
)

// request is the command being run and the reply it appends to. One lives
// in each pooled batch, so that running a command allocates nothing.
type request struct {
	h    *handler
	cl   *client  // the connection's state
	args [][]byte // the command's name and arguments, views into the inbound bytes
	out  []byte   // the batch's replies
	now  int64    // Unix milliseconds, read once per batch
	quit bool     // QUIT: close once the reply is sent

	commands uint64 // commands run in this batch, for INFO
	errors   uint64 // error replies in this batch, for INFO
}

// Error replies, word for word as Redis 7 sends them.
const (
	errSyntax       = "ERR syntax error"
	errNotInteger   = "ERR value is not an integer or out of range"
	errIntRange     = "ERR value is out of range, value must between -2147483648 and 2147483647"
	errOverflow     = "ERR increment or decrement would overflow"
	errDecrOverflow = "ERR decrement would overflow"
	errDBIndex      = "ERR DB index is out of range"
	errClientName   = "ERR Client names cannot contain spaces, newlines or special characters."
	errExpireNX     = "ERR NX and XX, GT or LT options at the same time are not compatible"
	errExpireGTLT   = "ERR GT and LT options at the same time are not compatible"
)

func (r *request) ok()                 { r.out = append(r.out, "+OK\r\n"...) }
func (r *request) simple(s string)     { r.out = resp.AppendSimple(r.out, s) }
func (r *request) integer(n int64)     { r.out = resp.AppendInt(r.out, n) }
func (r *request) bulk(b []byte)       { r.out = resp.AppendBulk(r.out, b) }
func (r *request) bulkString(s string) { r.out = resp.AppendBulkString(r.out, s) }
func (r *request) null()               { r.out = resp.AppendNull(r.out) }
func (r *request) array(n int)         { r.out = resp.AppendArray(r.out, n) }

// fail appends the error reply msg ("ERR ...").
func (r *request) fail(msg string) {
	r.errors++
	r.out = resp.AppendError(r.out, msg)
}

// failArity is Redis's reply to a command with too few or too many
// arguments; name is the command's full lower-case name ("client|setname").
func (r *request) failArity(name string) {
	r.errors++
	r.out = append(r.out, "-ERR wrong number of arguments for '"...)
	r.out = append(r.out, name...)
	r.out = append(r.out, "' command\r\n"...)
}

// failExpireTime is Redis's reply to an expiry time out of range.
func (r *request) failExpireTime(command string) {
	r.errors++
	r.out = append(r.out, "-ERR invalid expire time in '"...)
	r.out = append(r.out, command...)
	r.out = append(r.out, "' command\r\n"...)
}

// failUnknownCommand is Redis's reply to a command name it does not know:
// the name and the first arguments quoted, each cut as Redis's printf cuts
// it, up to about 128 bytes of arguments.
func (r *request) failUnknownCommand() {
	r.errors++
	o := append(r.out, "-ERR unknown command '"...)
	o = appendQuoted(o, r.args[0], 128)
	o = append(o, "', with args beginning with: "...)
	shown := 0
	for _, a := range r.args[1:] {
		if shown >= 128 {
			break
		}
		start := len(o)
		o = append(o, '\'')
		o = appendQuoted(o, a, 128-shown)
		o = append(o, "' "...)
		shown += len(o) - start
	}
	r.out = append(o, "\r\n"...)
}

// failUnknownSubcommand is Redis's reply to a container command (CLIENT,
// COMMAND) with a subcommand it does not have.
func (r *request) failUnknownSubcommand(container string) {
	r.errors++
	o := append(r.out, "-ERR unknown subcommand '"...)
	o = appendQuoted(o, r.args[1], 128)
	o = append(o, "'. Try "...)
	o = append(o, container...)
	r.out = append(o, " HELP.\r\n"...)
}

// failUnsupportedOption is Redis's reply to an EXPIRE option it does not
// know. Redis trims CR and LF from the ends of such a message.
func (r *request) failUnsupportedOption(opt []byte) {
	r.errors++
	opt = cString(opt)
	opt = bytes.TrimRight(opt, "\r\n")
	o := append(r.out, "-ERR Unsupported option "...)
	o = appendQuoted(o, opt, len(opt))
	r.out = append(o, "\r\n"...)
}

// appendQuoted appends at most limit bytes of the client's b to an error
// reply the way Redis prints it: as a C string (up to its first NUL), with
// CR and LF turned into spaces so that the reply stays one line.
func appendQuoted(dst, b []byte, limit int) []byte {
	b = cString(b)
	b = b[:min(len(b), max(limit, 0))]
	for _, c := range b {
		if c == '\r' || c == '\n' {
			c = ' '
		}
		dst = append(dst, c)
	}
	return dst
}

// cString is b up to its first NUL byte.
func cString(b []byte) []byte {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return b[:i]
	}
	return b
}

// equalFold reports whether b, ASCII-case-folded, is lower (which is
// lower case), without allocating.
func equalFold(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}
