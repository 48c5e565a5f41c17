package plaintext

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"testing"
)

const get = "GET / HTTP/1.1\r\nHost: h\r\n\r\n"

func TestAnswer(t *testing.T) {
	date := []byte("Mon, 02 Jan 2006 15:04:05 GMT")
	tests := []struct {
		name      string
		in        string
		responses int
		used      int
		keepAlive bool
		status    int
	}{
		{name: "empty", in: "", responses: 0, used: 0, keepAlive: true},
		{name: "one", in: get, responses: 1, used: len(get), keepAlive: true, status: 200},
		{name: "pipelined with a partial tail", in: get + get + get[:5], responses: 2, used: 2 * len(get), keepAlive: true, status: 200},
		{name: "close stops the batch", in: "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n" + get, responses: 1, used: len(get) + len("Connection: close\r\n"), keepAlive: false, status: 200},
		{name: "malformed", in: "GET / HTTP/1.1\r\nHost : h\r\n\r\n", responses: 1, used: 0, keepAlive: false, status: 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, used, keepAlive := Answer(nil, []byte(tt.in), date)
			if used != tt.used || keepAlive != tt.keepAlive {
				t.Fatalf("used, keepAlive = %d, %v; want %d, %v", used, keepAlive, tt.used, tt.keepAlive)
			}
			r := bufio.NewReader(bytes.NewReader(out))
			for i := 0; i < tt.responses; i++ {
				resp, err := http.ReadResponse(r, nil)
				if err != nil {
					t.Fatalf("response %d: %v", i, err)
				}
				body, _ := io.ReadAll(resp.Body)
				if resp.StatusCode != tt.status {
					t.Fatalf("response %d: status %d, want %d", i, resp.StatusCode, tt.status)
				}
				if tt.status == 200 && string(body) != string(Body) {
					t.Fatalf("response %d: body %q", i, body)
				}
			}
			if r.Buffered() != 0 {
				t.Fatalf("%d bytes after the expected responses", r.Buffered())
			}
		})
	}
}
