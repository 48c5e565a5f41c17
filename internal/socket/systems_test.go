package socket

import (
	"errors"
	"strings"
	"testing"
)

// The per-system answers are decided by GOOS alone, so this test checks
// every system's from any system.
func TestKeepAliveTuningPerSystem(t *testing.T) {
	for _, goos := range []string{"linux", "darwin", "freebsd", "netbsd", "dragonfly", "openbsd"} {
		err := keepAliveTuning(goos)
		if want := goos == "openbsd"; (err != nil) != want {
			t.Errorf("%s: keepAliveTuning = %v, want an error: %v", goos, err, want)
		}
		if err != nil && !errors.Is(err, errors.ErrUnsupported) {
			t.Errorf("%s: %v does not wrap errors.ErrUnsupported", goos, err)
		}
	}
}

func TestReusePortBalancingPerSystem(t *testing.T) {
	for _, goos := range []string{"linux", "darwin", "freebsd", "netbsd", "dragonfly", "openbsd"} {
		err := reusePortBalancing(goos)
		if want := goos == "darwin" || goos == "netbsd" || goos == "openbsd"; (err != nil) != want {
			t.Errorf("%s: reusePortBalancing = %v, want an error: %v", goos, err, want)
		}
		if err != nil && !errors.Is(err, errors.ErrUnsupported) {
			t.Errorf("%s: %v does not wrap errors.ErrUnsupported", goos, err)
		}
	}
}

func TestAbstractUnixSocketsPerSystem(t *testing.T) {
	for _, goos := range []string{"linux", "darwin", "freebsd", "netbsd", "dragonfly", "openbsd"} {
		p := unixPathProblemOn(goos, "@name")
		if want := goos != "linux"; (p != "") != want {
			t.Errorf("%s: unixPathProblemOn(@name) = %q, want a problem: %v", goos, p, want)
		}
		if p != "" && !strings.Contains(p, "only on Linux") {
			t.Errorf("%s: %q does not say abstract sockets are Linux only", goos, p)
		}
		if p := unixPathProblemOn(goos, "/tmp/x.sock"); p != "" {
			t.Errorf("%s: a path is refused: %q", goos, p)
		}
	}
}
