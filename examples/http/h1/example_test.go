package h1_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/evloop/evloop/examples/http/h1"
)

// A traffic callback's loop over whatever bytes arrived: two pipelined requests and the start of a third.
func ExampleParse() {
	inbound := []byte("GET /plaintext HTTP/1.1\r\nHost: a\r\n\r\n" +
		"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi" +
		"GET /next HT")
	used := 0
	for used < len(inbound) {
		var req h1.Request
		n, err := h1.Parse(inbound[used:], &req)
		if err != nil {
			fmt.Println("reject with", h1.StatusFor(err))
			return
		}
		if n == 0 {
			break
		}
		used += n
		fmt.Printf("%s %s body=%q keep-alive=%v\n", req.Method, req.Path, req.Body, req.KeepAlive)
	}
	fmt.Printf("%d bytes stay buffered\n", len(inbound)-used)
	// Output:
	// GET /plaintext body="" keep-alive=true
	// POST /echo body="hi" keep-alive=false
	// 12 bytes stay buffered
}

func ExampleAppendResponse() {
	var dates h1.DateCache
	dates.Refresh(time.Date(2025, 7, 1, 12, 0, 0, 0, time.UTC))
	out := h1.AppendResponse(nil, 200, dates.Get(), []byte("text/plain"), []byte("Hello, World!"), true)
	for _, line := range strings.SplitAfter(string(out), "\r\n") {
		fmt.Printf("%q\n", line)
	}
	// Output:
	// "HTTP/1.1 200 OK\r\n"
	// "Server: evloop\r\n"
	// "Date: Tue, 01 Jul 2025 12:00:00 GMT\r\n"
	// "Content-Type: text/plain\r\n"
	// "Content-Length: 13\r\n"
	// "\r\n"
	// "Hello, World!"
}
