//go:build linux

package evloop

import (
	"go/build"
	"slices"
	"testing"
)

// TestOtherSystemsBuildOnlyTheMessage: on a system other than Linux the
// package must consist of doc.go and unsupported.go alone, so that building
// it fails with unsupported.go's one message. A new file without the
// "//go:build linux" line would join them there and bury the message under
// its own errors; this test names it, without cross-compiling anything.
func TestOtherSystemsBuildOnlyTheMessage(t *testing.T) {
	want := []string{"doc.go", "unsupported.go"}
	for _, goos := range []string{"darwin", "freebsd"} {
		ctx := build.Default
		ctx.GOOS, ctx.GOARCH, ctx.CgoEnabled = goos, "amd64", false
		p, err := ctx.ImportDir(".", 0)
		if err != nil {
			t.Fatalf("GOOS=%s: %v", goos, err)
		}
		if !slices.Equal(p.GoFiles, want) {
			t.Errorf("GOOS=%s builds %v, want only %v: add \"//go:build linux\" to the others", goos, p.GoFiles, want)
		}
	}
	// Windows has the portable backend.
	win := build.Default
	win.GOOS, win.GOARCH, win.CgoEnabled = "windows", "amd64", false
	if p, err := win.ImportDir(".", 0); err != nil {
		t.Errorf("GOOS=windows: %v", err)
	} else if slices.Contains(p.GoFiles, "unsupported.go") || len(p.GoFiles) <= len(want) {
		t.Errorf("GOOS=windows builds %v, want the engine without unsupported.go", p.GoFiles)
	}
	p, err := build.Default.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(p.GoFiles, "unsupported.go") {
		t.Errorf("unsupported.go is built on %s", build.Default.GOOS)
	}
}
