// Package h1 parses HTTP/1.1 requests and writes HTTP/1.1 responses for servers that run on an event loop,
// such as evloop's HTTP example (the TechEmpower "plaintext" shape: every request is answered with
// "200 OK" and "Hello, World!").
//
// # The model
//
// An event loop hands its handler whatever bytes have arrived on a connection: nothing, one request, many
// pipelined requests, and possibly the beginning of one more. The handler answers every complete request
// and leaves the partial one buffered until more bytes come. Parse is built for exactly that: it either
// parses one complete request from the start of a buffer and reports how many bytes it used, or reports that
// the buffer holds only the beginning of a request, or reports why the bytes are not an acceptable request.
// It keeps no state between calls and allocates nothing; the parsed fields are views into the buffer.
//
// A traffic callback on the loop looks like this (conn methods as in evloop's Conn):
//
//	buf, _ := c.Peek(-1)         // everything buffered; valid until Discard or return
//	out := scratch[:0]           // per-loop buffer reused across callbacks
//	used, keepAlive := 0, true
//	for keepAlive && used < len(buf) { // bounded: each pass consumes n > 0 bytes or stops
//		var req h1.Request
//		n, err := h1.Parse(buf[used:], &req)
//		if err != nil {              // framing is lost: answer, then close
//			out = h1.AppendResponse(out, h1.StatusFor(err), dates.Get(), nil, nil, false)
//			keepAlive = false
//			break
//		}
//		if n == 0 {
//			break                    // partial request: wait for more bytes
//		}
//		used += n
//		keepAlive = req.KeepAlive    // bytes after a closing request are ignored
//		out = h1.AppendResponse(out, 200, dates.Get(), textPlain, helloWorld, keepAlive)
//	}
//	c.Write(out)
//	c.Discard(used)              // a partial request stays buffered
//	if !keepAlive {
//		return evloop.Close
//	}
//
// # Limits and strictness
//
// The request line plus header section may hold at most MaxHeaderBytes and the body at most MaxBodyBytes, so
// a connection never buffers more than their sum for one request. The grammar is RFC 9112's, strict where
// leniency lets two parsers frame the same bytes differently (request smuggling): bare LF line endings,
// whitespace before a field name's colon, obsolete line folding, conflicting Content-Length values and
// Transfer-Encoding are all rejected. Parse's doc lists every rule; the fuzz tests compare its verdicts
// with net/http's on the subset both support.
//
// # Responses and dates
//
// AppendResponse writes a whole response into a caller-owned buffer. The Date field comes from a DateCache
// that the loop refreshes once a second (for example from a tick callback) and every response reads without
// allocating.
package h1
