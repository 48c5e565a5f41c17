package evloop

import "testing"

// tbLimitFiles: Windows has no descriptor limit to lower, so the tests that
// exhaust descriptors skip.
func tbLimitFiles(tb testing.TB, n uint64) {
	tb.Helper()
	tb.Skip("no descriptor limit to lower on Windows")
}
