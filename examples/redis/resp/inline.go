package resp

// splitArgs splits an inline command's line into arguments the way Redis
// does (sdssplitargs), so that what a person types in telnet or redis-cli
// sends inline means the same here:
//   - arguments are separated by blanks; blanks before an argument are
//     any of space, \t, \n, \v, \f, \r, while an unquoted argument ends only
//     at space, \t, \n or \r;
//   - "double quotes" take the escapes \n \r \t \b \a \xHH and \<c> for any
//     other byte c; 'single quotes' take only \';
//   - a quote may start inside an argument (ab"c d" is "abc d"), but a
//     closing quote must be followed by a blank or the end of the line,
//     and must exist: otherwise the whole line is refused with
//     "unbalanced quotes in request".
//
// A NUL byte is an ordinary byte here. (Redis reads the line as a C string,
// so a NUL ends it there; no client sends one in an inline command.)
//
// Unquoted arguments are views into line; quoted ones are decoded into
// cmd.inline, sized up front so that it never moves while views into it
// are handed out.
func splitArgs(line []byte, cmd *Command) error {
	if cap(cmd.inline) < len(line) {
		// Decoding never makes an argument longer than its source.
		cmd.inline = make([]byte, 0, len(line))
	}
	cmd.inline = cmd.inline[:0]
	p := 0
	// Bounded: every pass consumes at least one byte of line, or returns.
	for {
		for p < len(line) && isBlank(line[p]) {
			p++
		}
		if p == len(line) {
			return nil
		}
		start := p
		for p < len(line) && !endsPlain(line[p]) && line[p] != '"' && line[p] != '\'' {
			p++
		}
		if p == len(line) || endsPlain(line[p]) {
			cmd.Args = append(cmd.Args, line[start:p:p])
			continue
		}
		var err error
		if p, err = decodeArg(line, start, cmd); err != nil {
			return err
		}
	}
}

// decodeArg decodes the argument at line[p], which holds a quote, into
// cmd.inline and appends it to cmd.Args. It returns the position after the
// argument.
func decodeArg(line []byte, p int, cmd *Command) (int, error) {
	begin := len(cmd.inline)
	inDouble, inSingle := false, false
	// Bounded: every pass consumes at least one byte of line, or ends.
loop:
	for {
		if p == len(line) {
			if inDouble || inSingle {
				return 0, errUnbalancedQuotes
			}
			break
		}
		c := line[p]
		switch {
		case inDouble:
			switch {
			case c == '\\' && p+3 < len(line) && line[p+1] == 'x' && isHex(line[p+2]) && isHex(line[p+3]):
				cmd.inline = append(cmd.inline, unhex(line[p+2])<<4|unhex(line[p+3]))
				p += 4
			case c == '\\' && p+1 < len(line):
				cmd.inline = append(cmd.inline, unescape(line[p+1]))
				p += 2
			case c == '"':
				if p+1 < len(line) && !isBlank(line[p+1]) {
					return 0, errUnbalancedQuotes
				}
				p++
				break loop
			default:
				cmd.inline = append(cmd.inline, c)
				p++
			}
		case inSingle:
			switch {
			case c == '\\' && p+1 < len(line) && line[p+1] == '\'':
				cmd.inline = append(cmd.inline, '\'')
				p += 2
			case c == '\'':
				if p+1 < len(line) && !isBlank(line[p+1]) {
					return 0, errUnbalancedQuotes
				}
				p++
				break loop
			default:
				cmd.inline = append(cmd.inline, c)
				p++
			}
		default:
			switch {
			case endsPlain(c):
				break loop
			case c == '"':
				inDouble = true
			case c == '\'':
				inSingle = true
			default:
				cmd.inline = append(cmd.inline, c)
			}
			p++
		}
	}
	end := len(cmd.inline)
	cmd.Args = append(cmd.Args, cmd.inline[begin:end:end])
	return p, nil
}

// isBlank is C's isspace: what is skipped before an argument.
func isBlank(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// endsPlain reports whether c ends an unquoted argument.
func endsPlain(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// unescape is the byte a backslash escape in double quotes stands for.
func unescape(c byte) byte {
	switch c {
	case 'n':
		return '\n'
	case 'r':
		return '\r'
	case 't':
		return '\t'
	case 'b':
		return '\b'
	case 'a':
		return '\a'
	}
	return c
}
