//go:build (linux || darwin || dragonfly || freebsd || netbsd || openbsd) && !evloop_portable

package evloop

import (
	"go/build"
	"slices"
	"testing"
)

// TestOtherSystemsBuildOnlyTheMessage: on a system without a native backend
// the package must consist of doc.go and unsupported.go alone, so that
// building it fails with unsupported.go's one message; a new file without
// the native systems' build line would join them there and bury the
// message under its own errors. On every native system the package must be
// the same files, without unsupported.go: the engine has one behaviour, and
// what differs between systems lives in poller/ and internal/socket. This
// test names an offending file without cross-compiling anything.
func TestOtherSystemsBuildOnlyTheMessage(t *testing.T) {
	files := func(goos string) []string {
		t.Helper()
		ctx := build.Default
		ctx.GOOS, ctx.GOARCH, ctx.CgoEnabled = goos, "amd64", false
		p, err := ctx.ImportDir(".", 0)
		if err != nil {
			t.Fatalf("GOOS=%s: %v", goos, err)
		}
		return p.GoFiles
	}
	want := []string{"doc.go", "unsupported.go"}
	for _, goos := range []string{"plan9", "solaris", "illumos", "aix"} {
		if got := files(goos); !slices.Equal(got, want) {
			t.Errorf("GOOS=%s builds %v, want only %v: give the others the native systems' build line", goos, got, want)
		}
	}
	native := files("linux")
	if slices.Contains(native, "unsupported.go") {
		t.Errorf("unsupported.go is built on linux")
	}
	// Windows has no native backend but builds the same engine files over
	// the portable backend.
	for _, goos := range []string{"darwin", "dragonfly", "freebsd", "netbsd", "openbsd", "windows"} {
		if got := files(goos); !slices.Equal(got, native) {
			t.Errorf("GOOS=%s builds %v, want the same files as linux: %v", goos, got, native)
		}
	}
}
