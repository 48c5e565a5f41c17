package h1

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// seedRequests start every fuzz target; testdata/fuzz holds more, in the go test fuzz v1 format.
var seedRequests = []string{
	wrkRequest,
	"GET / HTTP/1.0\r\n\r\n",
	"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
	"POST /p?q=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello",
	"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok",
	"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
	"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
	"GET / HTTP/1.1\r\nHost : h\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n",
	"GET / HTTP/1.1\nHost: h\n\n",
	"GET /%zz HTTP/1.1\r\nHost: h\r\n\r\n",
	"GET /c HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
	"GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, closed\r\n\r\n",
	"OPTIONS * HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\nGET /3 HTTP/1.1\r\n",
}

// within reports whether view lies inside buf (or is empty) and cannot be appended into buf's later bytes.
func within(buf, view []byte) bool {
	if len(view) == 0 {
		return true
	}
	if cap(view) != len(view) {
		return false
	}
	for i := range buf {
		if &buf[i] == &view[0] {
			return i+len(view) <= len(buf)
		}
	}
	return false
}

func FuzzParse(f *testing.F) {
	for _, s := range seedRequests {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, buf []byte) {
		var req Request
		n, err := Parse(buf, &req)
		switch {
		case err != nil:
			if n != 0 || errorClass(err) == "other" {
				t.Fatalf("Parse = %d, %v; want 0 and a sentinel class", n, err)
			}
			if errors.Is(err, ErrHeaderTooLarge) && len(buf) < MaxHeaderBytes {
				t.Fatalf("ErrHeaderTooLarge for a %d-byte buffer", len(buf))
			}
		case n == 0:
			if snapshot(&req) != (parsed{}) {
				t.Fatalf("request not reset: %+v", snapshot(&req))
			}
		default:
			checkParsed(t, buf, n, &req)
		}
	})
}

// checkParsed checks what must hold for any accepted request: the views lie in the consumed bytes, the body
// ends the request, the limits hold, and the request is self-delimiting.
func checkParsed(tb testing.TB, buf []byte, n int, req *Request) {
	tb.Helper()
	if n > len(buf) {
		tb.Fatalf("n = %d > len(buf) = %d", n, len(buf))
	}
	consumed := buf[:n]
	for _, view := range [][]byte{req.Method, req.Path, req.Host, req.Body} {
		if !within(consumed, view) {
			tb.Fatalf("field %q is not a capped view into the consumed bytes", view)
		}
	}
	if len(req.Method) == 0 || len(req.Path) == 0 || (req.Minor != 0 && req.Minor != 1) {
		tb.Fatalf("impossible request line: %+v", snapshot(req))
	}
	if int64(len(req.Body)) != req.ContentLength || req.ContentLength > MaxBodyBytes ||
		!bytes.Equal(req.Body, consumed[n-len(req.Body):]) {
		tb.Fatalf("body %q is not the last ContentLength=%d bytes", req.Body, req.ContentLength)
	}
	if head := n - len(req.Body); head > MaxHeaderBytes {
		tb.Fatalf("header section of %d bytes accepted", head)
	}
	if req.Minor == 1 && req.Host == nil {
		tb.Fatal("HTTP/1.1 request accepted without Host")
	}
	var again Request
	if m, err := Parse(consumed, &again); m != n || err != nil || snapshot(&again) != snapshot(req) {
		tb.Fatalf("re-parsing the consumed bytes gave %d, %v, %+v", m, err, snapshot(&again))
	}
	if m, err := Parse(consumed[:n-1], &again); m != 0 || err != nil {
		tb.Fatalf("a request one byte short gave %d, %v; want 0, nil", m, err)
	}
}

// outcome is what a connection's handler observes: the requests in order, then how the bytes ended.
type outcome struct {
	requests []parsed
	sizes    []int
	endClass string // error class, or "" when the stream ran out
	leftover int    // unparsed bytes when the stream ran out
}

func (o *outcome) equal(p *outcome) bool {
	return slices.Equal(o.requests, p.requests) && slices.Equal(o.sizes, p.sizes) &&
		o.endClass == p.endClass && o.leftover == p.leftover
}

// drain parses every complete request at the start of buf, as a traffic callback does, and returns the
// unparsed rest; failed reports that the stream ended in an error.
func drain(tb testing.TB, buf []byte, o *outcome) (rest []byte, failed bool) {
	tb.Helper()
	// Bounded: every accepted request consumes at least one byte, and the empty rest needs more.
	for passes := len(buf) + 1; passes > 0; passes-- {
		var req Request
		n, err := Parse(buf, &req)
		if err != nil {
			o.endClass = errorClass(err)
			return nil, true
		}
		if n == 0 {
			return buf, false
		}
		o.requests = append(o.requests, snapshot(&req))
		o.sizes = append(o.sizes, n)
		buf = buf[n:]
	}
	tb.Fatalf("Parse did not stop on %q", buf)
	return nil, true
}

func FuzzParseSplit(f *testing.F) {
	for i, s := range seedRequests {
		f.Add([]byte(s), uint(i*7))
	}
	f.Fuzz(func(t *testing.T, stream []byte, split uint) {
		at := int(split % uint(len(stream)+1))
		var want outcome
		if rest, failed := drain(t, bytes.Clone(stream), &want); !failed {
			want.leftover = len(rest)
		}
		var got outcome
		rest, failed := drain(t, bytes.Clone(stream[:at]), &got)
		if !failed {
			// The unparsed tail moves to a fresh buffer, as it does when the loop copies it into a ring.
			joined := append(bytes.Clone(rest), stream[at:]...)
			if rest, failed = drain(t, joined, &got); !failed {
				got.leftover = len(rest)
			}
		}
		if !got.equal(&want) {
			t.Fatalf("split at %d of %q:\ngot  %+v\nwant %+v", at, stream, got, want)
		}
	})
}

// stdVerdict is what net/http makes of a request.
type stdVerdict struct {
	req      *http.Request
	body     []byte
	consumed int
	hosts    []string
}

// readStd parses buf with net/http.ReadRequest and then applies the checks net/http's server makes right
// after it (server.go, conn.readRequest), so that the comparison is with what a net/http server accepts.
func readStd(buf []byte) (*stdVerdict, bool) {
	src := bytes.NewReader(buf)
	r := bufio.NewReader(src)
	req, err := http.ReadRequest(r)
	if err != nil {
		return nil, false
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, false
	}
	v := &stdVerdict{req: req, body: body, consumed: len(buf) - src.Len() - r.Buffered(), hosts: hostValues(buf)}
	// ReadRequest accepts any HTTP/x.y; the server answers 505 to all but HTTP/1.x.
	if req.ProtoMajor != 1 {
		return nil, false
	}
	// The server requires Host for HTTP/1.1 and validates it; ReadRequest removed it from req.Header.
	if req.ProtoMinor >= 1 && len(v.hosts) == 0 {
		return nil, false
	}
	if len(v.hosts) == 1 && !isReferenceClass(v.hosts[0], referenceHostBytes) {
		return nil, false
	}
	// ReadRequest keeps names with a space before the colon; the server rejects them.
	for name := range req.Header {
		if name == "" || !isReferenceClass(name, referenceTokenBytes) {
			return nil, false
		}
	}
	return v, true
}

// Written out independently of chars.go, from RFC 9110 section 5.6.2 and net/http's host byte set.
const (
	referenceTokenBytes = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	referenceHostBytes  = "!$%&'()*+,-.:;=[]_~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)

func isReferenceClass(s, allowed string) bool {
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(allowed, s[i]) < 0 {
			return false
		}
	}
	return true
}

// headSection returns buf up to and including the first empty line, or all of buf if there is none.
func headSection(buf []byte) []byte {
	if i := bytes.Index(buf, []byte("\r\n\r\n")); i >= 0 {
		return buf[:i+4]
	}
	return buf
}

// hostValues returns the values of the Host fields in buf's header section, trimmed as net/http trims them.
// It is only used on inputs net/http accepted and that have no bare LF or folded lines.
func hostValues(buf []byte) []string {
	var hosts []string
	lines := strings.Split(string(headSection(buf)), "\r\n")
	for _, line := range lines[1:] {
		name, value, ok := strings.Cut(line, ":")
		if ok && strings.EqualFold(name, "Host") {
			hosts = append(hosts, strings.Trim(value, " \t"))
		}
	}
	return hosts
}

// outsideSubset reports inputs on which this parser and net/http legitimately differ. Each case is a
// deliberate decision documented on Parse; everything else must get the same verdict.
func outsideSubset(buf []byte) bool {
	head := headSection(buf)
	// Size limits are policy: ReadRequest has none (the server allows 1 MiB of header).
	if len(head) > MaxHeaderBytes {
		return true
	}
	// Bare LF: net/http accepts it as a line end, this parser requires CRLF (RFC 9112 section 2.2 allows
	// either; CRLF only leaves no room for a proxy to split lines differently).
	for i, c := range head {
		if c == '\n' && (i == 0 || head[i-1] != '\r') {
			return true
		}
	}
	lines := bytes.Split(head, []byte("\r\n"))
	// Obsolete line folding: net/http unfolds it, this parser rejects it (RFC 9112 section 5.2 allows that).
	// A folded first field line is rejected by both, so it stays in.
	for i := 2; i < len(lines); i++ {
		if len(lines[i]) > 0 && (lines[i][0] == ' ' || lines[i][0] == '\t') {
			return true
		}
	}
	// Transfer-Encoding: net/http decodes chunked, this parser implements no transfer coding.
	for _, line := range lines[1:] {
		if name, _, ok := bytes.Cut(line, []byte(":")); ok && bytes.EqualFold(name, []byte("Transfer-Encoding")) {
			return true
		}
	}
	method, rest, ok1 := bytes.Cut(lines[0], []byte(" "))
	target, version, ok2 := bytes.Cut(rest, []byte(" "))
	if !ok1 || !ok2 {
		return false
	}
	switch {
	// CONNECT: net/http needs no Host for it, and parses its authority-form target with net/url.
	case string(method) == "CONNECT":
		return true
	// Absolute-form: net/url validates the authority (ports, IPv6 zones), which this parser does not
	// route on and so does not check.
	case len(target) > 0 && target[0] != '/' && bytes.IndexByte(target, ':') >= 0:
		return true
	// Non-ASCII targets: net/http passes raw bytes through, RFC 3986 allows only ASCII.
	case bytes.ContainsFunc(target, func(r rune) bool { return r >= 0x80 }):
		return true
	// HTTP/1.2 to HTTP/1.9: net/http accepts any minor version, this parser only those it implements.
	case len(version) == 8 && string(version[:7]) == "HTTP/1." && '2' <= version[7] && version[7] <= '9':
		return true
	// The HTTP/2 prior-knowledge preface: net/http's server lets handlers take it over.
	case string(method) == "PRI" && string(target) == "*" && string(version) == "HTTP/2.0":
		return true
	}
	return false
}

func FuzzParseDifferential(f *testing.F) {
	for _, s := range seedRequests {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, buf []byte) {
		if outsideSubset(buf) {
			return
		}
		var req Request
		n, err := Parse(buf, &req)
		std, stdOK := readStd(buf)
		if (n > 0) != stdOK {
			t.Fatalf("verdicts differ on %q: Parse = %d, %v; net/http accepts = %v", buf, n, err, stdOK)
		}
		if !stdOK {
			return
		}
		got := snapshot(&req)
		want := parsed{
			Method:        std.req.Method,
			Path:          std.req.RequestURI,
			Body:          string(std.body),
			Minor:         std.req.ProtoMinor,
			ContentLength: std.req.ContentLength,
			KeepAlive:     !std.req.Close,
			HeaderCount:   len(bytes.Split(headSection(buf), []byte("\r\n"))) - 3,
		}
		if len(std.hosts) > 0 {
			want.Host = std.hosts[0]
		}
		if got != want || n != std.consumed {
			t.Fatalf("fields differ on %q:\ngot  %+v (n=%d)\nwant %+v (n=%d)", buf, got, n, want, std.consumed)
		}
	})
}
