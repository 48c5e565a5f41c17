package h1

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
)

// parsed is a comparable copy of a Request, so that results outlive the parsed buffer.
type parsed struct {
	Method, Path, Host, Body string
	Minor                    int
	ContentLength            int64
	KeepAlive                bool
	HeaderCount              int
}

func snapshot(r *Request) parsed {
	return parsed{
		Method:        string(r.Method),
		Path:          string(r.Path),
		Host:          string(r.Host),
		Body:          string(r.Body),
		Minor:         r.Minor,
		ContentLength: r.ContentLength,
		KeepAlive:     r.KeepAlive,
		HeaderCount:   r.HeaderCount,
	}
}

// errorClass names the sentinel an error wraps, "" for nil and "other" for anything else.
func errorClass(err error) string {
	for _, s := range []error{ErrBadRequest, ErrHeaderTooLarge, ErrBodyTooLarge, ErrNotImplemented} {
		if errors.Is(err, s) {
			return s.Error()
		}
	}
	if err == nil {
		return ""
	}
	return "other"
}

func mustParse(tb testing.TB, in string) (parsed, int) {
	tb.Helper()
	var req Request
	n, err := Parse([]byte(in), &req)
	if err != nil || n == 0 {
		tb.Fatalf("Parse(%q) = %d, %v; want a request", in, n, err)
	}
	return snapshot(&req), n
}

const wrkRequest = "GET /plaintext HTTP/1.1\r\n" +
	"Host: localhost:8080\r\n" +
	"Accept: text/plain,text/html;q=0.9,application/xhtml+xml;q=0.9,application/xml;q=0.8,*/*;q=0.7\r\n" +
	"Connection: keep-alive\r\n" +
	"User-Agent: wrk/4.2.0\r\n" +
	"\r\n"

func TestParseAccepts(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		extra string // bytes after the request that Parse must leave alone
		want  parsed
	}{
		{name: "wrk GET", in: wrkRequest,
			want: parsed{Method: "GET", Path: "/plaintext", Host: "localhost:8080", Minor: 1, KeepAlive: true, HeaderCount: 4}},
		{name: "query and escapes", in: "GET /a%20b?x=%zz&y HTTP/1.1\r\nHost: h\r\n\r\n",
			want: parsed{Method: "GET", Path: "/a%20b?x=%zz&y", Host: "h", Minor: 1, KeepAlive: true, HeaderCount: 1}},
		{name: "body with Content-Length", in: "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello", extra: "GET",
			want: parsed{Method: "POST", Path: "/p", Host: "h", Body: "hello", ContentLength: 5, Minor: 1, KeepAlive: true, HeaderCount: 2}},
		{name: "zero Content-Length", in: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n", extra: "x",
			want: parsed{Method: "POST", Path: "/", Host: "h", Minor: 1, KeepAlive: true, HeaderCount: 2}},
		{name: "Content-Length OWS and leading zeros", in: "PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: \t003 \r\n\r\nabc",
			want: parsed{Method: "PUT", Path: "/", Host: "h", Body: "abc", ContentLength: 3, Minor: 1, KeepAlive: true, HeaderCount: 2}},
		{name: "duplicate identical Content-Length", in: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok",
			want: parsed{Method: "POST", Path: "/", Host: "h", Body: "ok", ContentLength: 2, Minor: 1, KeepAlive: true, HeaderCount: 3}},
		{name: "lowercase names", in: "POST / HTTP/1.1\r\nhost: h\r\ncontent-length: 1\r\nconnection: close\r\n\r\nz",
			want: parsed{Method: "POST", Path: "/", Host: "h", Body: "z", ContentLength: 1, Minor: 1, HeaderCount: 3}},
		{name: "uppercase names", in: "POST / HTTP/1.1\r\nHOST: h\r\nCONTENT-LENGTH: 1\r\nCONNECTION: CLOSE\r\n\r\nz",
			want: parsed{Method: "POST", Path: "/", Host: "h", Body: "z", ContentLength: 1, Minor: 1, HeaderCount: 3}},
		{name: "HTTP/1.1 Connection close", in: "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
			want: parsed{Method: "GET", Path: "/", Host: "h", Minor: 1, HeaderCount: 2}},
		{name: "HTTP/1.1 Connection list with close", in: "GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade ,\tclose,\r\n\r\n",
			want: parsed{Method: "GET", Path: "/", Host: "h", Minor: 1, HeaderCount: 2}},
		{name: "HTTP/1.1 Connection keep-alive list", in: "GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, Upgrade\r\n\r\n",
			want: parsed{Method: "GET", Path: "/", Host: "h", Minor: 1, KeepAlive: true, HeaderCount: 2}},
		{name: "HTTP/1.1 close in second Connection field", in: "GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n",
			want: parsed{Method: "GET", Path: "/", Host: "h", Minor: 1, HeaderCount: 3}},
		{name: "HTTP/1.1 closed is not close", in: "GET / HTTP/1.1\r\nHost: h\r\nConnection: closed\r\n\r\n",
			want: parsed{Method: "GET", Path: "/", Host: "h", Minor: 1, KeepAlive: true, HeaderCount: 2}},
		{name: "HTTP/1.0 default close, no Host needed", in: "GET / HTTP/1.0\r\n\r\n",
			want: parsed{Method: "GET", Path: "/"}},
		{name: "HTTP/1.0 keep-alive", in: "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
			want: parsed{Method: "GET", Path: "/", KeepAlive: true, HeaderCount: 1}},
		{name: "HTTP/1.0 keep-alive and close", in: "GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n",
			want: parsed{Method: "GET", Path: "/", HeaderCount: 1}},
		{name: "empty Host", in: "GET / HTTP/1.1\r\nHost:\r\n\r\n",
			want: parsed{Method: "GET", Path: "/", Minor: 1, KeepAlive: true, HeaderCount: 1}},
		{name: "IPv6 Host with port", in: "GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n",
			want: parsed{Method: "GET", Path: "/", Host: "[::1]:80", Minor: 1, KeepAlive: true, HeaderCount: 1}},
		{name: "obs-text and inner whitespace in a value", in: "GET / HTTP/1.1\r\nHost: h\r\nX-Y:\t a \xff\tb \r\n\r\n",
			want: parsed{Method: "GET", Path: "/", Host: "h", Minor: 1, KeepAlive: true, HeaderCount: 2}},
		{name: "asterisk-form", in: "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n",
			want: parsed{Method: "OPTIONS", Path: "*", Host: "h", Minor: 1, KeepAlive: true, HeaderCount: 1}},
		{name: "absolute-form", in: "GET http://example.com/a?b HTTP/1.1\r\nHost: example.com\r\n\r\n",
			want: parsed{Method: "GET", Path: "http://example.com/a?b", Host: "example.com", Minor: 1, KeepAlive: true, HeaderCount: 1}},
		{name: "authority-form for CONNECT", in: "CONNECT 10.0.0.1:443 HTTP/1.1\r\nHost: 10.0.0.1:443\r\n\r\n",
			want: parsed{Method: "CONNECT", Path: "10.0.0.1:443", Host: "10.0.0.1:443", Minor: 1, KeepAlive: true, HeaderCount: 1}},
		{name: "extension method", in: "M-SEARCH! / HTTP/1.1\r\nHost: h\r\n\r\n",
			want: parsed{Method: "M-SEARCH!", Path: "/", Host: "h", Minor: 1, KeepAlive: true, HeaderCount: 1}},
		{name: "Transfer-Encoding-like name is not Transfer-Encoding", in: "GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encodings: chunked\r\n\r\n",
			want: parsed{Method: "GET", Path: "/", Host: "h", Minor: 1, KeepAlive: true, HeaderCount: 2}},
		{name: "largest Content-Length", in: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1048576\r\n\r\n" + strings.Repeat("b", MaxBodyBytes),
			want: parsed{Method: "POST", Path: "/", Host: "h", Body: strings.Repeat("b", MaxBodyBytes), ContentLength: MaxBodyBytes, Minor: 1, KeepAlive: true, HeaderCount: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, n := mustParse(t, tt.in+tt.extra)
			if n != len(tt.in) {
				t.Errorf("n = %d, want %d", n, len(tt.in))
			}
			if got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseRejects(t *testing.T) {
	const host = "Host: h\r\n"
	tests := []struct {
		name       string
		in         string
		want       error
		wantStatus int
	}{
		{name: "leading CRLF", in: "\r\nGET / HTTP/1.1\r\n" + host + "\r\n", want: ErrBadRequest, wantStatus: 400},
		{name: "bare LF after request line", in: "GET / HTTP/1.1\n" + host + "\r\n", want: ErrBadRequest, wantStatus: 400},
		{name: "bare LF after field", in: "GET / HTTP/1.1\r\nHost: h\n\r\n", want: ErrBadRequest, wantStatus: 400},
		{name: "bare LF ends header", in: "GET / HTTP/1.1\r\n" + host + "\n", want: ErrBadRequest, wantStatus: 400},
		{name: "bare CR in value", in: "GET / HTTP/1.1\r\n" + host + "X: a\rb\r\n\r\n", want: ErrBadRequest, wantStatus: 400},
		{name: "NUL in value", in: "GET / HTTP/1.1\r\n" + host + "X: a\x00\r\n\r\n", want: ErrBadRequest, wantStatus: 400},
		{name: "DEL in value", in: "GET / HTTP/1.1\r\n" + host + "X: \x7f\r\n\r\n", want: ErrBadRequest, wantStatus: 400},
		{name: "empty method", in: " / HTTP/1.1\r\n" + host + "\r\n", want: ErrBadRequest, wantStatus: 400},
		{name: "method not a token", in: "GE(T / HTTP/1.1\r\n" + host + "\r\n", want: ErrBadRequest, wantStatus: 400},
		{name: "double space", in: "GET  / HTTP/1.1\r\n" + host + "\r\n", want: ErrBadRequest, wantStatus: 400},
		{name: "tab separator", in: "GET\t/\tHTTP/1.1\r\n" + host + "\r\n", want: ErrBadRequest, wantStatus: 400},
		{name: "space in target", in: "GET /a b HTTP/1.1\r\n" + host + "\r\n", want: ErrBadRequest, wantStatus: 400},
		{name: "control in target", in: "GET /\x01 HTTP/1.1\r\n" + host + "\r\n", want: ErrBadRequest, wantStatus: 400},
		{name: "non-ASCII target", in: "GET /caf\xc3\xa9 HTTP/1.1\r\n" + host + "\r\n", want: ErrBadRequest, wantStatus: 400},
		{name: "malformed escape", in: "GET /%zz HTTP/1.1\r\n" + host + "\r\n", want: ErrBadRequest, wantStatus: 400},
		{name: "truncated escape", in: "GET /a%4?b HTTP/1.1\r\n" + host + "\r\n", want: ErrBadRequest, wantStatus: 400},
		{name: "relative target", in: "GET a/b HTTP/1.1\r\n" + host + "\r\n", want: ErrBadRequest, wantStatus: 400},
		{name: "HTTP/1.2", in: "GET / HTTP/1.2\r\n" + host + "\r\n", want: ErrBadRequest, wantStatus: 400},
		{name: "HTTP/2.0", in: "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", want: ErrBadRequest, wantStatus: 400},
		{name: "lowercase version", in: "GET / http/1.1\r\n" + host + "\r\n", want: ErrBadRequest, wantStatus: 400},
		{name: "space after version", in: "GET / HTTP/1.1 \r\n" + host + "\r\n", want: ErrBadRequest, wantStatus: 400},
		{name: "missing version", in: "GET /\r\n" + host + "\r\n", want: ErrBadRequest, wantStatus: 400},
		{name: "space before colon", in: "GET / HTTP/1.1\r\nHost : h\r\n\r\n", want: ErrBadRequest, wantStatus: 400},
		{name: "tab before colon", in: "GET / HTTP/1.1\r\n" + host + "Content-Length\t: 0\r\n\r\n", want: ErrBadRequest, wantStatus: 400},
		{name: "obs-fold", in: "GET / HTTP/1.1\r\n" + host + "X: a\r\n b\r\n\r\n", want: ErrBadRequest, wantStatus: 400},
		{name: "first field line folded", in: "GET / HTTP/1.1\r\n Host: h\r\n\r\n", want: ErrBadRequest, wantStatus: 400},
		{name: "field without colon", in: "GET / HTTP/1.1\r\n" + host + "Foo\r\n\r\n", want: ErrBadRequest, wantStatus: 400},
		{name: "empty field name", in: "GET / HTTP/1.1\r\n" + host + ": v\r\n\r\n", want: ErrBadRequest, wantStatus: 400},
		{name: "missing Host", in: "GET / HTTP/1.1\r\n\r\n", want: ErrBadRequest, wantStatus: 400},
		{name: "two Hosts", in: "GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n", want: ErrBadRequest, wantStatus: 400},
		{name: "invalid Host", in: "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", want: ErrBadRequest, wantStatus: 400},
		{name: "Host with path", in: "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", want: ErrBadRequest, wantStatus: 400},
		{name: "differing Content-Length", in: "POST / HTTP/1.1\r\n" + host + "Content-Length: 1\r\nContent-Length: 2\r\n\r\nab", want: ErrBadRequest, wantStatus: 400},
		{name: "equal but differently written Content-Length", in: "POST / HTTP/1.1\r\n" + host + "Content-Length: 1\r\nContent-Length: 01\r\n\r\na", want: ErrBadRequest, wantStatus: 400},
		{name: "Content-Length list", in: "POST / HTTP/1.1\r\n" + host + "Content-Length: 1, 1\r\n\r\na", want: ErrBadRequest, wantStatus: 400},
		{name: "empty Content-Length", in: "POST / HTTP/1.1\r\n" + host + "Content-Length:\r\n\r\n", want: ErrBadRequest, wantStatus: 400},
		{name: "signed Content-Length", in: "POST / HTTP/1.1\r\n" + host + "Content-Length: +1\r\n\r\na", want: ErrBadRequest, wantStatus: 400},
		{name: "negative Content-Length", in: "POST / HTTP/1.1\r\n" + host + "Content-Length: -1\r\n\r\n", want: ErrBadRequest, wantStatus: 400},
		{name: "hex Content-Length", in: "POST / HTTP/1.1\r\n" + host + "Content-Length: 0x1\r\n\r\na", want: ErrBadRequest, wantStatus: 400},
		{name: "Content-Length above limit", in: "POST / HTTP/1.1\r\n" + host + "Content-Length: 1048577\r\n\r\n", want: ErrBodyTooLarge, wantStatus: 413},
		{name: "Content-Length overflowing int64", in: "POST / HTTP/1.1\r\n" + host + "Content-Length: 99999999999999999999999999999\r\n\r\n", want: ErrBodyTooLarge, wantStatus: 413},
		{name: "Content-Length wrapping to small", in: "POST / HTTP/1.1\r\n" + host + "Content-Length: 18446744073709551617\r\n\r\nx", want: ErrBodyTooLarge, wantStatus: 413},
		{name: "Transfer-Encoding chunked", in: "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", want: ErrNotImplemented, wantStatus: 501},
		{name: "transfer-encoding lowercase", in: "POST / HTTP/1.1\r\n" + host + "transfer-encoding: identity\r\n\r\n", want: ErrNotImplemented, wantStatus: 501},
		{name: "Transfer-Encoding and Content-Length", in: "POST / HTTP/1.1\r\n" + host + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", want: ErrBadRequest, wantStatus: 400},
		{name: "request line too large", in: "GET /" + strings.Repeat("a", MaxHeaderBytes) + " HTTP/1.1\r\n" + host + "\r\n", want: ErrHeaderTooLarge, wantStatus: 431},
		{name: "complete header too large", in: "GET / HTTP/1.1\r\n" + host + "X: " + strings.Repeat("a", MaxHeaderBytes) + "\r\n\r\n", want: ErrHeaderTooLarge, wantStatus: 431},
		{name: "incomplete header too large", in: "GET / HTTP/1.1\r\n" + host + strings.Repeat("X: y\r\n", MaxHeaderBytes/6), want: ErrHeaderTooLarge, wantStatus: 431},
		{name: "header one byte over the limit", in: headerOfSize(MaxHeaderBytes + 1), want: ErrHeaderTooLarge, wantStatus: 431},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := Request{Method: []byte("stale"), KeepAlive: true}
			n, err := Parse([]byte(tt.in), &req)
			if n != 0 || !errors.Is(err, tt.want) {
				t.Fatalf("Parse = %d, %v; want 0, %v", n, err, tt.want)
			}
			if got := StatusFor(err); got != tt.wantStatus {
				t.Errorf("StatusFor(%v) = %d, want %d", err, got, tt.wantStatus)
			}
			if got := snapshot(&req); got != (parsed{}) {
				t.Errorf("request not reset after error: %+v", got)
			}
		})
	}
}

// headerOfSize returns a complete GET whose request line and header section are exactly size bytes.
func headerOfSize(size int) string {
	const prefix, suffix = "GET / HTTP/1.1\r\nHost: h\r\nX: ", "\r\n\r\n"
	return prefix + strings.Repeat("v", size-len(prefix)-len(suffix)) + suffix
}

func TestParseHeaderLimitBoundary(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantN   int
		wantErr error
	}{
		{name: "exactly MaxHeaderBytes", in: headerOfSize(MaxHeaderBytes), wantN: MaxHeaderBytes},
		{name: "exactly MaxHeaderBytes then a body", in: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nX: " +
			strings.Repeat("v", MaxHeaderBytes-len("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nX: \r\n\r\n")) + "\r\n\r\nab",
			wantN: MaxHeaderBytes + 2},
		{name: "incomplete one byte short of the limit", in: headerOfSize(MaxHeaderBytes + 1)[:MaxHeaderBytes-1]},
		{name: "incomplete at the limit", in: headerOfSize(MaxHeaderBytes + 1)[:MaxHeaderBytes], wantErr: ErrHeaderTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var req Request
			n, err := Parse([]byte(tt.in), &req)
			if n != tt.wantN || !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Errorf("Parse = %d, %v; want %d, %v", n, err, tt.wantN, tt.wantErr)
			}
		})
	}
}

func TestParsePipelined(t *testing.T) {
	tests := []struct {
		name     string
		requests []string
		want     []parsed
	}{
		{
			name: "three GETs",
			requests: []string{
				"GET /a HTTP/1.1\r\nHost: h\r\n\r\n",
				"GET /b HTTP/1.1\r\nHost: h\r\n\r\n",
				"GET /c HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
			},
			want: []parsed{
				{Method: "GET", Path: "/a", Host: "h", Minor: 1, KeepAlive: true, HeaderCount: 1},
				{Method: "GET", Path: "/b", Host: "h", Minor: 1, KeepAlive: true, HeaderCount: 1},
				{Method: "GET", Path: "/c", Host: "h", Minor: 1, HeaderCount: 2},
			},
		},
		{
			name: "body between GETs",
			requests: []string{
				"GET / HTTP/1.1\r\nHost: h\r\n\r\n",
				"POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 16\r\n\r\nGET / HTTP/1.1\r\n",
				"GET /z HTTP/1.0\r\n\r\n",
			},
			want: []parsed{
				{Method: "GET", Path: "/", Host: "h", Minor: 1, KeepAlive: true, HeaderCount: 1},
				{Method: "POST", Path: "/p", Host: "h", Body: "GET / HTTP/1.1\r\n", ContentLength: 16, Minor: 1, KeepAlive: true, HeaderCount: 2},
				{Method: "GET", Path: "/z"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			buf := []byte(strings.Join(tt.requests, ""))
			var got []parsed
			off := 0
			for i := 0; i < len(tt.want)+1 && off < len(buf); i++ {
				var req Request
				n, err := Parse(buf[off:], &req)
				if err != nil || n == 0 {
					t.Fatalf("request %d: Parse = %d, %v", i, n, err)
				}
				if n != len(tt.requests[i]) {
					t.Errorf("request %d: n = %d, want %d", i, n, len(tt.requests[i]))
				}
				got = append(got, snapshot(&req))
				off += n
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// TestParseEveryPrefix checks the retry contract: every strict prefix of a valid request needs more bytes,
// and every prefix of an invalid one either needs more bytes or fails with the whole input's error class.
func TestParseEveryPrefix(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		wantClass error
	}{
		{name: "wrk GET", in: wrkRequest},
		{name: "POST with body", in: "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"},
		{name: "HTTP/1.0", in: "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"},
		{name: "space before colon", in: "GET / HTTP/1.1\r\nHost : h\r\n\r\n", wantClass: ErrBadRequest},
		{name: "Transfer-Encoding", in: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", wantClass: ErrNotImplemented},
		{name: "body too large", in: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 9999999\r\n\r\n", wantClass: ErrBodyTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i := 0; i < len(tt.in); i++ {
				var req Request
				n, err := Parse([]byte(tt.in[:i]), &req)
				if n != 0 || (err != nil && !errors.Is(err, tt.wantClass)) || (tt.wantClass == nil && err != nil) {
					t.Fatalf("prefix %d %q: Parse = %d, %v", i, tt.in[:i], n, err)
				}
				if snapshot(&req) != (parsed{}) {
					t.Fatalf("prefix %d: request not reset", i)
				}
			}
			var req Request
			n, err := Parse([]byte(tt.in), &req)
			if tt.wantClass == nil && (n != len(tt.in) || err != nil) {
				t.Fatalf("whole input: Parse = %d, %v; want %d, nil", n, err, len(tt.in))
			}
			if tt.wantClass != nil && (n != 0 || !errors.Is(err, tt.wantClass)) {
				t.Fatalf("whole input: Parse = %d, %v; want 0, %v", n, err, tt.wantClass)
			}
		})
	}
}

func TestParseViewsAreCapped(t *testing.T) {
	buf := []byte("POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nabGET")
	var req Request
	if n, err := Parse(buf, &req); n == 0 || err != nil {
		t.Fatalf("Parse = %d, %v", n, err)
	}
	for _, view := range [][]byte{req.Method, req.Path, req.Host, req.Body} {
		_ = append(view, '!')
	}
	if got := string(buf); got != "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nabGET" {
		t.Errorf("appending to a view changed the buffer: %q", got)
	}
}

func TestStatusFor(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{name: "nil", err: nil, want: 200},
		{name: "bad request", err: ErrBadRequest, want: 400},
		{name: "header too large", err: ErrHeaderTooLarge, want: 431},
		{name: "body too large", err: ErrBodyTooLarge, want: 413},
		{name: "not implemented", err: ErrNotImplemented, want: 501},
		{name: "wrapped twice", err: fmt.Errorf("conn 7: %w", errTransferCoding), want: 501},
		{name: "foreign error", err: io.ErrUnexpectedEOF, want: 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := StatusFor(tt.err); got != tt.want {
				t.Errorf("StatusFor(%v) = %d, want %d", tt.err, got, tt.want)
			}
		})
	}
}

// TestErrorShape checks that every error Parse can return carries the package prefix and exactly one class.
func TestErrorShape(t *testing.T) {
	errs := []error{errLineEnding, errRequestLine, errMethod, errTarget, errVersion, errObsFold, errHeaderLine,
		errHeaderName, errHeaderValue, errHostMissing, errHostRepeated, errHostValue, errContentLength,
		errLengthConflict, errLengthAndCoding, errTransferCoding, ErrBadRequest, ErrHeaderTooLarge,
		ErrBodyTooLarge, ErrNotImplemented}
	for _, err := range errs {
		t.Run(err.Error(), func(t *testing.T) {
			if !strings.HasPrefix(err.Error(), "h1: ") {
				t.Errorf("%q lacks the h1: prefix", err)
			}
			classes := 0
			for _, s := range []error{ErrBadRequest, ErrHeaderTooLarge, ErrBodyTooLarge, ErrNotImplemented} {
				if errors.Is(err, s) {
					classes++
				}
			}
			if classes != 1 {
				t.Errorf("%q wraps %d classes, want 1", err, classes)
			}
		})
	}
}
