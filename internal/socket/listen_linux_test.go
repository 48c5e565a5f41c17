//go:build linux && !evloop_portable

package socket

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestBacklogLinux: the default backlog is the one in /proc.
func TestBacklogLinux(t *testing.T) {
	b, err := os.ReadFile("/proc/sys/net/core/somaxconn")
	want := unix.SOMAXCONN
	if err == nil {
		if v, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			want = v
		}
	}
	tests := []struct {
		name string
		in   int
		want int
	}{
		{name: "default", in: 0, want: want},
		{name: "explicit", in: 7, want: 7},
	}
	for _, tt := range tests {
		if got := backlog(tt.in); got != tt.want {
			t.Errorf("%s: backlog(%d) = %d, want %d", tt.name, tt.in, got, tt.want)
		}
	}
}
