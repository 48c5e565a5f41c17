package resp

import "strconv"

// The Append functions write one RESP2 reply at the end of dst and return
// the extended slice, like strconv's: a handler appends every reply of a
// pipelined batch into one buffer it reuses, and writes it once. None of
// them allocates when dst has room.

// AppendSimple appends a simple string, "+s\r\n". s must not hold CR or LF.
func AppendSimple(dst []byte, s string) []byte {
	dst = append(dst, '+')
	dst = append(dst, s...)
	return append(dst, '\r', '\n')
}

// AppendError appends an error, "-msg\r\n". msg starts with the error's
// kind, as in "ERR syntax error"; it must not hold CR or LF.
func AppendError(dst []byte, msg string) []byte {
	dst = append(dst, '-')
	dst = append(dst, msg...)
	return append(dst, '\r', '\n')
}

// AppendInt appends an integer, ":n\r\n".
func AppendInt(dst []byte, n int64) []byte {
	dst = append(dst, ':')
	dst = strconv.AppendInt(dst, n, 10)
	return append(dst, '\r', '\n')
}

// AppendBulk appends a bulk string, "$len\r\nb\r\n". Its signature fits
// the value callbacks of the example's store, which copy a value straight
// from the store into a reply.
func AppendBulk(dst, b []byte) []byte {
	dst = appendLength(dst, '$', len(b))
	dst = append(dst, b...)
	return append(dst, '\r', '\n')
}

// AppendBulkString is AppendBulk for a string.
func AppendBulkString(dst []byte, s string) []byte {
	dst = appendLength(dst, '$', len(s))
	dst = append(dst, s...)
	return append(dst, '\r', '\n')
}

// AppendNull appends the null bulk string, "$-1\r\n": a missing value.
func AppendNull(dst []byte) []byte {
	return append(dst, "$-1\r\n"...)
}

// AppendArray appends the header of an array of n elements, "*n\r\n"; the
// n elements are appended after it.
func AppendArray(dst []byte, n int) []byte {
	return appendLength(dst, '*', n)
}

func appendLength(dst []byte, kind byte, n int) []byte {
	dst = append(dst, kind)
	dst = strconv.AppendInt(dst, int64(n), 10)
	return append(dst, '\r', '\n')
}

// AppendCommand appends args as a multibulk command, the way clients send
// commands: "*<n>\r\n" then "$<len>\r\n<arg>\r\n" for each argument.
func AppendCommand(dst []byte, args ...[]byte) []byte {
	dst = AppendArray(dst, len(args))
	for _, a := range args {
		dst = AppendBulk(dst, a)
	}
	return dst
}
