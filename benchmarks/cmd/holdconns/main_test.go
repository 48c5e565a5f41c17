package main

import "testing"

// TestAnswered: an answer is whole at the end of its body, or of its last
// chunk, and not before.
func TestAnswered(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want bool
	}{
		{"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nHello, World!", true},
		{"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nHello, Wor", false},
		{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nd\r\nHello, World!\r\n0\r\n\r\n", true},
		{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nd\r\nHello, World!\r\n", false},
		{"", false},
	} {
		if got := answered([]byte(tt.in)); got != tt.want {
			t.Errorf("answered(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
