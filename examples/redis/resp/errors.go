package resp

// Error is a protocol error: the bytes at the front of the buffer are not a
// command, and the connection's framing is lost. Its message is the one
// Redis sends, "Protocol error: ..."; a server replies "-ERR " + message,
// as AppendError does with "ERR " + err.Error(), and then closes the
// connection, as Redis does.
type Error struct {
	msg string
}

func (e *Error) Error() string { return e.msg }

// Errors are made once here, not per command, so that rejecting bytes does
// not allocate either.
var (
	// A count line after '*' that is not an integer from -1 to MaxArgs.
	// Redis takes any count up to 2^31-1 and treats every count below 1 as
	// an empty command; this parser refuses counts below -1 (the null
	// array) and above MaxArgs.
	errMultibulkLength = &Error{msg: "Protocol error: invalid multibulk length"}
	// A length line after '$' that is not an integer from 0 to the bulk
	// limit, or bulk bytes not followed by CRLF: the length does not match
	// the data (Redis skips the two bytes unchecked and fails later on
	// what follows).
	errBulkLength = &Error{msg: "Protocol error: invalid bulk length"}
	// A multibulk command whose bulks add up to more than the command
	// limit. Redis has no reply for this: it closes a client whose query
	// buffer passes client-query-buffer-limit.
	errCommandTooBig = &Error{msg: "Protocol error: too big multibulk request"}
	// Header or inline lines with no end within MaxInline bytes.
	errInlineTooBig    = &Error{msg: "Protocol error: too big inline request"}
	errCountTooBig     = &Error{msg: "Protocol error: too big mbulk count string"}
	errBulkCountTooBig = &Error{msg: "Protocol error: too big bulk count string"}
	// An inline command with a quote that is not closed, or a closing
	// quote followed by something other than a space.
	errUnbalancedQuotes = &Error{msg: "Protocol error: unbalanced quotes in request"}
	// expectedDollar[c]: a multibulk command's argument that starts with c
	// instead of '$'.
	expectedDollar = makeExpectedDollar()
)

// makeExpectedDollar builds Redis's "expected '$', got 'c'" for every byte.
// Redis replaces CR and LF in error messages by spaces, so that the reply
// stays one line.
func makeExpectedDollar() *[256]*Error {
	var t [256]*Error
	for i := range t {
		c := byte(i)
		if c == '\r' || c == '\n' {
			c = ' '
		}
		t[i] = &Error{msg: "Protocol error: expected '$', got '" + string([]byte{c}) + "'"}
	}
	return &t
}
