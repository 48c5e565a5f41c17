// Package resp parses Redis protocol (RESP2) commands and writes RESP2
// replies, for servers that run on an event loop such as evloop's Redis
// example.
//
// # The model
//
// An event loop hands its handler whatever bytes have arrived on a
// connection: nothing, one command, many pipelined commands, and perhaps
// the start of one more. The handler answers every complete command and
// leaves the partial one buffered until more bytes come. Parser.Parse is
// built for exactly that: it parses one command from the start of a buffer
// and says how many bytes it used, or that the buffer holds only the start
// of a command (and how many bytes it needs at least), or why the bytes are
// not a command. It keeps no state between calls and allocates nothing:
// the arguments are views into the buffer.
//
// A traffic callback on the loop looks like this (conn methods as in
// evloop's Conn):
//
//	in, _ := c.Peek(-1)           // everything buffered; valid until Discard or return
//	out := scratch[:0]            // per-loop buffer reused across callbacks
//	used := 0
//	for used < len(in) {          // bounded: each pass consumes n > 0 bytes or stops
//		n, err := parser.Parse(in[used:], &cmd)
//		if err != nil {           // framing is lost: answer, then close
//			out = resp.AppendError(out, "ERR "+err.Error())
//			c.Write(out)
//			return evloop.Close
//		}
//		if n == 0 {
//			break                 // partial command: wait for cmd.Need bytes
//		}
//		used += n
//		out = run(out, cmd.Args)  // append the reply
//	}
//	c.Write(out)                  // every reply of the batch in one write
//	c.Discard(used)               // a partial command stays buffered
//
// # Limits
//
// A bulk longer than Parser.MaxBulk (Redis's proto-max-bulk-len, 512 MiB
// by default) is refused as soon as its length line is read, so a server
// never buffers it; a command whose bulks add up to more than
// Parser.MaxCommand is refused the same way. Lines that must end (inline
// commands, count and length lines) must end within MaxInline bytes.
// Errors carry Redis's own messages, "Protocol error: ...".
//
// # Replies
//
// The Append functions write replies into a caller-owned buffer:
// AppendSimple ("+OK"), AppendError, AppendInt, AppendBulk, AppendNull
// and AppendArray, whose elements follow it.
package resp
