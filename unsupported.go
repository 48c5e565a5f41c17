//go:build !linux && !windows && !evloop_portable

package evloop

// evloop runs natively on Linux (epoll) and on the portable backend on
// Windows, or anywhere with the evloop_portable build tag; every other file
// of the package is built for those only. On any other system this
// declaration is the package's one compile error, and the compiler quotes
// its string, so the build stops with that message instead of a screen of
// undefined names. It is a type because type declarations are checked
// first: go vet, which also compiles the Linux-only tests and reports only
// the first error, shows this message too.
type unsupportedSystem ["evloop supports Linux and Windows, or any system with -tags evloop_portable; see README"]struct{}
