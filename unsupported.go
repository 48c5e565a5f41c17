//go:build !(linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows) && !evloop_portable

package evloop

// evloop runs natively on Linux (epoll), macOS and the BSDs (kqueue), and
// on the portable backend over package net on Windows, or anywhere with the
// evloop_portable build tag; every other file of the package is built for
// those only. On any other system this declaration is the package's one
// compile error, and the compiler quotes its string, so the build stops
// with that message instead of a screen of undefined names. It is a type
// because type declarations are checked first: go vet, which also compiles
// the tests and reports only the first error, shows this message too.
type unsupportedSystem ["evloop supports Linux, macOS, the BSDs and Windows, or any system with -tags evloop_portable; see README"]struct{}
