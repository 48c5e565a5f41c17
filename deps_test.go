package evloop

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportPolicy keeps the layering of the module true: leaf packages import
// only the standard library (plus x/sys where they make syscalls), never the
// root package or each other, and only the root package uses ants and
// bytebufferpool. It also keeps the module's non-test dependencies to the
// short list the project promises its users.
func TestImportPolicy(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go command not found")
	}
	const (
		root   = "github.com/evloop/evloop"
		xsys   = "golang.org/x/sys/"
		ants   = "github.com/panjf2000/ants/v2"
		bbpool = "github.com/valyala/bytebufferpool"
		xsync  = "golang.org/x/sync/" // ants' own dependency
	)
	tests := []struct {
		pkg     string
		allowed []string // prefixes of non-standard imports, besides the package itself
	}{
		{pkg: root + "/ringbuffer"},
		{pkg: root + "/internal/queue"},
		{pkg: root + "/poller", allowed: []string{xsys}},
		{pkg: root + "/reuseport", allowed: []string{xsys}},
		{pkg: root + "/internal/socket", allowed: []string{xsys}},
		{pkg: root, allowed: []string{xsys, ants, bbpool, xsync,
			root + "/ringbuffer", root + "/internal/", root + "/poller", root + "/reuseport"}},
	}
	for _, tc := range tests {
		name := strings.TrimPrefix(tc.pkg, root+"/")
		if tc.pkg == root {
			name = "root"
		}
		t.Run(name, func(t *testing.T) {
			for _, dep := range nonStdDeps(t, tc.pkg) {
				if dep == tc.pkg || hasAnyPrefix(dep, tc.allowed) {
					continue
				}
				t.Errorf("%s imports %s, which the layering forbids", tc.pkg, dep)
			}
		})
	}
	t.Run("module", func(t *testing.T) {
		for _, dep := range nonStdDeps(t, "./...") {
			if strings.HasPrefix(dep, root) || hasAnyPrefix(dep, []string{xsys, ants, bbpool, xsync}) {
				continue
			}
			t.Errorf("the module depends on %s outside tests; add nothing without a strong reason", dep)
		}
	})
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if s == strings.TrimSuffix(p, "/") || strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

func nonStdDeps(tb testing.TB, pattern string) []string {
	tb.Helper()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", pattern).CombinedOutput()
	if err != nil {
		tb.Fatalf("go list -deps %s: %v\n%s", pattern, err, out)
	}
	var deps []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if line != "" {
			deps = append(deps, line)
		}
	}
	if len(deps) == 0 {
		tb.Fatalf("go list -deps %s listed nothing", pattern)
	}
	return deps
}
