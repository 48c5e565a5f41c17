package h1

import "bytes"

const (
	// MaxHeaderBytes bounds the request line plus the header section, including the empty line that ends it.
	// A larger header section is rejected with ErrHeaderTooLarge, so a connection never buffers more than this
	// while waiting for a header to complete.
	MaxHeaderBytes = 8 << 10
	// MaxBodyBytes bounds Content-Length; a larger value is rejected with ErrBodyTooLarge before any of the body
	// is buffered.
	MaxBodyBytes = 1 << 20
)

// Request is one parsed request. Its byte-slice fields are views into the buffer given to Parse, not copies:
// they stay valid only until that buffer is modified or discarded (for an event-loop handler, until the
// bytes are discarded from the inbound buffer or the callback returns). Copy what must live longer. Each
// view's capacity equals its length, so appending to one never overwrites the bytes that follow it.
type Request struct {
	// Method is the request method as sent (methods are case-sensitive).
	Method []byte
	// Path is the request-target as sent: origin-form ("/a?b"), absolute-form, "*", or authority-form for CONNECT.
	Path []byte
	// Minor is the HTTP minor version: 0 for HTTP/1.0, 1 for HTTP/1.1.
	Minor int
	// Host is the Host field's value; nil when the request has none, which only HTTP/1.0 may do. For an
	// absolute-form target the target's authority takes precedence (RFC 9112 section 3.2.2); Parse leaves
	// that to the caller because it does not parse the target.
	Host []byte
	// ContentLength is the body length from Content-Length, 0 when absent.
	ContentLength int64
	// Body holds the ContentLength bytes of the body.
	Body []byte
	// KeepAlive reports whether the client lets the connection stay open after the response: for HTTP/1.1
	// unless Connection lists "close", for HTTP/1.0 only when Connection lists "keep-alive" and not "close".
	KeepAlive bool
	// HeaderCount is the number of header field lines, repeated names counted each time.
	HeaderCount int
}

// Parse parses one request from the start of buf. It returns n > 0 and nil when a whole request (headers and
// body) is in buf: n bytes belong to it, and the next request, if any, starts at buf[n]. It returns 0, nil when
// buf holds only the beginning of a request (including an empty buf): keep the bytes and call again with
// more. Otherwise it returns 0 and an error wrapping ErrBadRequest, ErrHeaderTooLarge, ErrBodyTooLarge or
// ErrNotImplemented; the bytes cannot be framed and the connection must be closed after the error response.
//
// Parse is incremental by retry: the answer for a prefix of a byte stream is never contradicted by a longer
// prefix, so an error is reported as soon as the first offending line is complete, and a request found in
// a prefix is the same request in the whole stream.
//
// On success *req describes the request and its slices are views into buf (see Request); on any other
// result *req is reset to its zero value. Parse does not allocate, keeps no state between calls, and is
// safe to call from any goroutine as long as nothing modifies buf or *req during the call.
//
// What is accepted (RFC 9112, strict where leniency enables request smuggling):
//   - Every line ends in CRLF; a bare LF or CR is rejected. Empty lines before the request line are not
//     skipped, as in net/http.
//   - Request line: a token method, one SP, a request-target of visible ASCII in origin-form (with
//     well-formed %XX escapes before any '?', as net/http requires), absolute-form, "*", or authority-form
//     for CONNECT, one SP, then exactly HTTP/1.1 or HTTP/1.0. Other versions, HTTP/1.2 included, are
//     rejected with ErrBadRequest: this parser implements only those two.
//   - Header fields: a token name immediately followed by ':' (whitespace before the colon is rejected),
//     a value without control characters other than HTAB, with surrounding SP and HTAB trimmed. A line that
//     starts with SP or HTAB (obsolete line folding) is rejected.
//   - Host: required for HTTP/1.1, at most once, uri-host [":" port] characters only.
//   - Content-Length: decimal digits; repeated fields must carry identical values.
//   - Transfer-Encoding: rejected with ErrNotImplemented because no transfer coding is supported, and with
//     ErrBadRequest when Content-Length is present as well.
func Parse(buf []byte, req *Request) (n int, err error) {
	n, err = parse(buf, req)
	if n == 0 {
		*req = Request{}
	}
	return n, err
}

// fieldState carries what the header fields say about framing until the header section is complete.
type fieldState struct {
	length     []byte // first Content-Length value, nil when absent
	hosts      int
	coding     bool // Transfer-Encoding seen
	close      bool // Connection lists "close"
	keepAlive  bool // Connection lists "keep-alive"
	bodyLength int64
}

func parse(buf []byte, req *Request) (int, error) {
	*req = Request{}
	head := buf
	if len(head) > MaxHeaderBytes {
		head = head[:MaxHeaderBytes]
	}
	line, pos, err := nextLine(head, 0)
	if err != nil {
		return 0, err
	}
	if line == nil {
		return incomplete(buf)
	}
	if err := parseRequestLine(line, req); err != nil {
		return 0, err
	}
	var st fieldState
	// Bounded: each pass consumes a CRLF-terminated line of head, which is at most MaxHeaderBytes long.
	for {
		line, pos, err = nextLine(head, pos)
		if err != nil {
			return 0, err
		}
		if line == nil {
			return incomplete(buf)
		}
		if len(line) == 0 {
			break
		}
		if err := parseField(line, req, &st); err != nil {
			return 0, err
		}
	}
	if err := finishFields(req, &st); err != nil {
		return 0, err
	}
	end := pos + int(st.bodyLength)
	if end > len(buf) {
		return 0, nil
	}
	req.ContentLength = st.bodyLength
	req.Body = buf[pos:end:end]
	return end, nil
}

// incomplete answers for a header section that has not ended within buf: once buf holds MaxHeaderBytes
// without the end of the section, the section is too large whatever follows.
func incomplete(buf []byte) (int, error) {
	if len(buf) >= MaxHeaderBytes {
		return 0, ErrHeaderTooLarge
	}
	return 0, nil
}

// nextLine returns the line starting at head[pos] without its CRLF, and the position after the CRLF. The
// line is nil (not empty) when head holds no LF after pos.
func nextLine(head []byte, pos int) (line []byte, next int, err error) {
	i := bytes.IndexByte(head[pos:], '\n')
	if i < 0 {
		return nil, pos, nil
	}
	i += pos
	if i == pos || head[i-1] != '\r' {
		return nil, pos, errLineEnding
	}
	return head[pos : i-1 : i-1], i + 1, nil
}

func parseRequestLine(line []byte, req *Request) error {
	sp := bytes.IndexByte(line, ' ')
	if sp <= 0 {
		return errRequestLine
	}
	method, rest := line[:sp:sp], line[sp+1:]
	if !isToken(method) {
		return errMethod
	}
	sp = bytes.IndexByte(rest, ' ')
	if sp <= 0 {
		return errRequestLine
	}
	target, version := rest[:sp:sp], rest[sp+1:]
	if err := checkTarget(method, target); err != nil {
		return err
	}
	if len(version) != len("HTTP/1.1") || string(version[:7]) != "HTTP/1." {
		return errVersion
	}
	switch version[7] {
	case '0':
		req.Minor = 0
	case '1':
		req.Minor = 1
	default:
		return errVersion
	}
	req.Method = method
	req.Path = target
	return nil
}

// checkTarget accepts the four request-target forms of RFC 9112 section 3.2.
func checkTarget(method, target []byte) error {
	if !isClass(target, classVChar) {
		return errTarget
	}
	switch {
	case target[0] == '/':
		return checkEscapes(target)
	case len(target) == 1 && target[0] == '*':
		return nil
	case string(method) == "CONNECT":
		return nil
	case hasScheme(target):
		return nil
	}
	return errTarget
}

// checkEscapes rejects a malformed %XX escape in the path part of an origin-form target. Decoders disagree
// on what "%zz" means, so a path that two of them read differently must not get past the first.
func checkEscapes(target []byte) error {
	path := target
	if q := bytes.IndexByte(path, '?'); q >= 0 {
		path = path[:q]
	}
	for i := 0; i < len(path); i++ {
		if path[i] != '%' {
			continue
		}
		if i+2 >= len(path) || !isHex(path[i+1]) || !isHex(path[i+2]) {
			return errTarget
		}
		i += 2
	}
	return nil
}

// hasScheme reports whether target starts with scheme ":" (RFC 3986 section 3.1), as absolute-form does.
func hasScheme(target []byte) bool {
	for i, c := range target {
		switch {
		case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		case i > 0 && c == ':':
			return true
		default:
			return false
		}
	}
	return false
}
