//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows || evloop_portable

package evloop

import "runtime"

// goid returns the calling goroutine's id, parsed from the header line of
// its stack trace ("goroutine 123 [running]:"). Go exposes no cheaper way,
// and only Stop needs it, to avoid waiting for a loop from that very loop;
// it is never called on a hot path.
func goid() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	const prefix = "goroutine "
	if len(b) < len(prefix) {
		return 0
	}
	var id uint64
	for _, ch := range b[len(prefix):] {
		if ch < '0' || ch > '9' {
			break
		}
		id = id*10 + uint64(ch-'0')
	}
	return id
}
