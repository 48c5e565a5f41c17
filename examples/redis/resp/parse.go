package resp

import "bytes"

const (
	// MaxInline bounds a line without its end: an inline command's line,
	// and the count and length lines of a multibulk command. Bytes that
	// hold no line end within this many are refused ("too big inline
	// request", "too big mbulk count string", "too big bulk count
	// string"), as in Redis (PROTO_INLINE_MAX_SIZE).
	MaxInline = 64 << 10
	// MaxArgs bounds a multibulk command's argument count (Redis allows
	// 2^31-1). Each argument costs a 24-byte slice header in
	// Command.Args, so the count must not let a few bytes claim much
	// memory.
	MaxArgs = 1 << 20
	// DefaultMaxBulk is the bulk limit of the zero Parser: 512 MiB, Redis's
	// proto-max-bulk-len.
	DefaultMaxBulk = 512 << 20
	// DefaultMaxCommand is the command limit of the zero Parser: 1 GiB,
	// Redis's client-query-buffer-limit.
	DefaultMaxCommand = 1 << 30
)

// Parser parses RESP2 commands. Its fields are limits, fixed before use; a
// Parser keeps no state between calls, so one value serves every
// connection, from any number of goroutines at once. The zero Parser uses
// DefaultMaxBulk and DefaultMaxCommand.
type Parser struct {
	// MaxBulk is the longest bulk string (one argument) accepted. A longer
	// one is refused with "invalid bulk length" as soon as its length line
	// is complete, before any of its bytes need to be buffered.
	MaxBulk int
	// MaxCommand is the largest multibulk command accepted, in bytes from
	// its '*' to the CRLF after its last argument. A command whose length
	// lines announce more is refused with "too big multibulk request" as
	// soon as the length line that passes the limit is complete.
	MaxCommand int
}

// Command is one parsed command. Reuse one value across calls: Parse
// resets it and keeps the capacity of Args, so that parsing allocates
// nothing once Args has grown to the longest command seen.
type Command struct {
	// Args are the command name and its arguments, set when Parse returns
	// n > 0; empty for a command with no arguments (an empty inline line,
	// "*0\r\n" or "*-1\r\n"), which a server skips without a reply, as
	// Redis does. Multibulk arguments are views into the buffer given to
	// Parse, not copies: they stay valid until that buffer changes (for
	// an event-loop handler, until the bytes are discarded or the callback
	// returns). Inline arguments with quotes are decoded into memory the
	// Command owns, valid until its next Parse. Each view's capacity is
	// its length, so appending to one never overwrites what follows.
	Args [][]byte
	// Need is set when Parse returns 0, nil: the buffer must hold at least
	// Need bytes before Parse can return anything else. It is exact while
	// the bytes of a bulk are awaited, and len(buf)+1 otherwise, so a
	// handler waiting for a large value can skip the calls that cannot
	// complete it.
	Need int

	inline []byte // decoded quoted inline arguments
}

// Parse parses one command from the start of buf:
//   - n > 0, nil: a whole command of n bytes is in cmd.Args; the next one,
//     if any, starts at buf[n].
//   - 0, nil: buf holds only the start of a command (or nothing); keep the
//     bytes and call again with more, once len(buf) >= cmd.Need.
//   - 0, *Error: the bytes are not a command. Reply with the error and
//     close the connection: where the next command would start is lost.
//
// A command starting with '*' is a multibulk command, "*<count>\r\n"
// followed by count arguments "$<length>\r\n<bytes>\r\n"; anything else is
// an inline command, a line of space-separated arguments as typed in
// telnet (see splitArgs for quoting). Parse is stricter than Redis where
// Redis's leniency would let a broken client go undetected: every line ends
// with CRLF (Redis checks only the CR of a length line and nothing after a
// bulk), and counts below -1 are refused (Redis runs them as nothing).
//
// Parse is incremental by retry: the verdict on a prefix of a byte stream
// is never contradicted by a longer prefix, so however the stream is split
// into reads, the same commands and the same error come out. It allocates
// nothing once cmd has grown.
func (p *Parser) Parse(buf []byte, cmd *Command) (n int, err error) {
	cmd.Args = cmd.Args[:0]
	cmd.Need = 0
	if len(buf) == 0 {
		cmd.Need = 1
		return 0, nil
	}
	if buf[0] == '*' {
		n, err = p.multibulk(buf, cmd)
	} else {
		n, err = inline(buf, cmd)
	}
	if n == 0 {
		cmd.Args = cmd.Args[:0]
		if err != nil {
			cmd.Need = 0
		}
	}
	return n, err
}

func (p *Parser) limits() (maxBulk, maxCommand int) {
	maxBulk, maxCommand = p.MaxBulk, p.MaxCommand
	if maxBulk <= 0 {
		maxBulk = DefaultMaxBulk
	}
	if maxCommand <= 0 {
		maxCommand = DefaultMaxCommand
	}
	return maxBulk, maxCommand
}

// multibulk parses "*<count>\r\n" and count bulks from buf[0] == '*'.
func (p *Parser) multibulk(buf []byte, cmd *Command) (int, error) {
	maxBulk, maxCommand := p.limits()
	count, pos, err := lengthLine(buf, 0, errCountTooBig, errMultibulkLength)
	if err != nil || pos == 0 {
		cmd.Need = len(buf) + 1
		return 0, err
	}
	if count < -1 || count > MaxArgs {
		return 0, errMultibulkLength
	}
	// Bounded: each pass consumes one complete bulk or returns.
	for k := int64(0); k < count; k++ {
		if pos == len(buf) {
			cmd.Need = pos + 1
			return 0, nil
		}
		if buf[pos] != '$' {
			return 0, expectedDollar[buf[pos]]
		}
		length, next, err := lengthLine(buf, pos, errBulkCountTooBig, errBulkLength)
		if err != nil || next == 0 {
			cmd.Need = len(buf) + 1
			return 0, err
		}
		if length < 0 || length > int64(maxBulk) {
			return 0, errBulkLength
		}
		end := next + int(length)
		if end+2 > maxCommand {
			return 0, errCommandTooBig
		}
		if end+2 > len(buf) {
			cmd.Need = end + 2
			return 0, nil
		}
		if buf[end] != '\r' || buf[end+1] != '\n' {
			return 0, errBulkLength
		}
		cmd.Args = append(cmd.Args, buf[next:end:end])
		pos = end + 2
	}
	return pos, nil
}

// lengthLine reads the line that starts with a type byte at buf[at] ('*'
// or '$') and holds an integer, up to its CRLF. It returns the integer and
// the position after the CRLF, or next == 0 while the line is incomplete.
// A line with no CR within MaxInline bytes gets tooBig; a CR not followed
// by LF, or digits that are not an integer, get invalid.
func lengthLine(buf []byte, at int, tooBig, invalid *Error) (n int64, next int, err error) {
	line := buf[at:]
	cr := bytes.IndexByte(line[:min(len(line), MaxInline+1)], '\r')
	switch {
	case cr < 0 && len(line) > MaxInline:
		return 0, 0, tooBig
	case cr < 0 || cr+1 == len(line):
		return 0, 0, nil
	case line[cr+1] != '\n':
		return 0, 0, invalid
	}
	n, ok := ParseInt(line[1:cr])
	if !ok {
		return 0, 0, invalid
	}
	return n, at + cr + 2, nil
}

// inline parses a line ending in LF (CRLF or a bare LF, as Redis accepts)
// as an inline command.
func inline(buf []byte, cmd *Command) (int, error) {
	lf := bytes.IndexByte(buf[:min(len(buf), MaxInline+1)], '\n')
	if lf < 0 {
		if len(buf) > MaxInline {
			return 0, errInlineTooBig
		}
		cmd.Need = len(buf) + 1
		return 0, nil
	}
	line := buf[:lf]
	if lf > 0 && line[lf-1] == '\r' {
		line = line[:lf-1]
	}
	if err := splitArgs(line, cmd); err != nil {
		return 0, err
	}
	return lf + 1, nil
}
